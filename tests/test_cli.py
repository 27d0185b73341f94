"""The CLI: help for every command, settings errors without tracebacks, db upgrade, serve."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from mdm_bridge.cli import main
from mdm_bridge.store import migrate

KEY = "cli-test-secret-key-long-enough-0123456789"


@pytest.fixture
def runner(clean_environment: pytest.MonkeyPatch) -> CliRunner:
    return CliRunner()


def test_help_explains_each_command(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "db", "demo", "mock"):
        assert command in result.output
    for words in (["serve"], ["db", "upgrade"], ["db", "current"], ["demo"], ["mock"]):
        sub = runner.invoke(main, [*words, "--help"])
        assert sub.exit_code == 0, sub.output
        assert "Usage: mdm-bridge" in sub.output


def test_bad_setting_stops_start_up_with_its_name(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["serve"], env={"MDM_BRIDGE_SECRET_KEY": KEY, "MDM_BRIDGE_TIMEZONE": "Mars/Olympus"}
    )
    assert result.exit_code == 1
    assert "setting 'timezone' (MDM_BRIDGE_TIMEZONE)" in result.output
    assert "Traceback" not in result.output


def test_db_upgrade_then_current(runner: CliRunner, database_url: str) -> None:
    env = {"MDM_BRIDGE_SECRET_KEY": KEY, "MDM_BRIDGE_DATABASE_URL": database_url}
    before = runner.invoke(main, ["db", "current"], env=env)
    assert before.exit_code == 0, before.output
    assert "database: empty" in before.output
    upgraded = runner.invoke(main, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"database at revision {migrate.head_revision()}" in upgraded.output
    after = runner.invoke(main, ["db", "current"], env=env)
    head = migrate.head_revision()
    assert f"database: {head}; newest: {head}" in after.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_answers_healthz_and_stops_on_sigterm(tmp_path: Path, database_url: str) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MDM_BRIDGE_")},
        "MDM_BRIDGE_SECRET_KEY": KEY,
        "MDM_BRIDGE_DATABASE_URL": database_url,
        "MDM_BRIDGE_PORT": str(port),
        "MDM_BRIDGE_LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "mdm_bridge", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.communicate()[1]) from None
                time.sleep(0.1)
        assert response.json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert KEY not in err
    assert '"event": "Application shutdown complete."' in err
