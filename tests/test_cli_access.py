"""`mdm-bridge token create|list|revoke` and `audit verify|export`, on a real database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mdm_bridge.cli import main
from mdm_bridge.clock import SystemClock
from mdm_bridge.permissions import Principal
from mdm_bridge.store import access
from mdm_bridge.store.engine import create_database_engine
from tests.conftest import SECRET_KEY


@pytest.fixture
def env(database_url: str, clean_environment: pytest.MonkeyPatch) -> dict[str, str]:
    return {"MDM_BRIDGE_DATABASE_URL": database_url, "MDM_BRIDGE_SECRET_KEY": SECRET_KEY}


def _authenticate(database_url: str, token: str) -> Principal | access.Rejection:
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            return access.authenticate(connection, token, SystemClock().now())
    finally:
        engine.dispose()


def test_create_list_revoke_and_the_trail_of_it(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    teacher = ["token", "create", "--user", "j.patel", "--role", "teacher", "--by", "it.office"]
    refused = runner.invoke(main, teacher, env=env)
    assert refused.exit_code != 0
    assert "classes" in refused.output  # a teacher's token names their classes

    made = runner.invoke(main, [*teacher, "--classes", "4B,5A", "--expires", "30d"], env=env)
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert token.startswith("mdmb_")
    found = _authenticate(database_url, token)
    assert isinstance(found, Principal)
    assert (found.user, found.role.value, found.classes) == ("j.patel", "teacher", {"4B", "5A"})

    listed = runner.invoke(main, ["token", "list"], env=env)
    assert "j.patel" in listed.output
    assert "active" in listed.output
    assert token not in listed.output  # shown once, never again

    revoked = runner.invoke(
        main, ["token", "revoke", "1", "--reason", "left the school", "--by", "it.office"], env=env
    )
    assert revoked.exit_code == 0, revoked.output
    assert _authenticate(database_url, token) is access.Rejection.REVOKED
    assert "revoked" in runner.invoke(main, ["token", "list"], env=env).output

    verified = runner.invoke(main, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    assert "2 event(s)" in verified.output

    out = tmp_path / "trail.csv"
    exported = runner.invoke(
        main, ["audit", "export", "--format", "csv", "--output", str(out)], env=env
    )
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["action"], r["actor"]) for r in rows] == [
        ("token.create", "it.office"),
        ("token.revoke", "it.office"),
        ("audit.export", rows[2]["actor"]),
    ]
    assert rows[1]["reason"] == "left the school"
    assert token not in out.read_text()
    as_json = runner.invoke(main, ["audit", "export", "--format", "json"], env=env)
    assert [e["action"] for e in json.loads(as_json.output)][-1] == "audit.export"
