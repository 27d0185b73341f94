"""Fixtures of the process tests: every child process is killed when the test ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.process.procs import Processes


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(directory=tmp_path)
    try:
        yield running
    finally:
        running.stop_all()
        print(running.logs())  # shown by pytest when the test failed  # noqa: T201
