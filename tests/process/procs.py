"""Real processes for the crash and replica tests: start, wait, kill, and always clean up.

`Processes` (the `processes` fixture in conftest.py) starts `python -m mdm_bridge ...` children
in their own session with stdout and stderr in one log file each, kills whatever is still
running when the test ends, and prints every log so a failing test shows what the service said.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment(**variables: str) -> dict[str, str]:
    """This process's environment without any MDM_BRIDGE_* setting, plus `variables`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MDM_BRIDGE_")}
    environment.update(variables)
    return environment


@dataclass(kw_only=True)
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def sigkill(self) -> None:
        """SIGKILL the process and its whole session (nothing gets to clean up)."""
        if self.running:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, grace: float = 5.0) -> None:
        if not self.running:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.sigkill()


@dataclass(kw_only=True)
class Processes:
    directory: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, arguments: list[str], environment: Mapping[str, str]) -> Proc:
        log_path = self.directory / f"{name}.log"
        with log_path.open("ab") as log_file:
            popen = subprocess.Popen(
                [sys.executable, "-m", "mdm_bridge", *arguments],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=dict(environment),
                start_new_session=True,  # its own process group: SIGKILL reaches it alone
            )
        proc = Proc(name=name, popen=popen, log_path=log_path)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                proc.stop()

    def logs(self) -> str:
        parts = []
        for proc in self.started:
            state = "running" if proc.running else f"exit {proc.popen.returncode}"
            parts.append(f"----- {proc.name} (pid {proc.pid}, {state}) -----\n{proc.log()}")
        return "\n".join(parts)


def wait_until(
    what: str,
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.1,
    watch: list[Proc] | None = None,
) -> T:
    """Call `probe` until it answers something truthy; fail naming `what` after `timeout`.

    A watched process that exits meanwhile fails the wait at once (with its log).
    """
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        for proc in watch or ():
            if not proc.running:
                raise AssertionError(f"{proc.name} exited while waiting for {what}:\n{proc.log()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def answers(url: str, status: int = 200) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == status
    except httpx.HTTPError:
        return False


def wait_for_url(url: str, proc: Proc, *, timeout: float = 20.0, status: int = 200) -> None:
    wait_until(
        f"{url} to answer {status}", lambda: answers(url, status), timeout=timeout, watch=[proc]
    )
