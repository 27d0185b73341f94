"""Suite-wide fixtures and manners.

Every asyncio test fails if it leaves a task running: components must stop what they start.
Database tests run on SQLite, or on PostgreSQL when MDM_BRIDGE_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from mdm_bridge.settings import Settings


@pytest.fixture(autouse=True)
async def _no_leaked_tasks() -> AsyncIterator[None]:
    """Fail the test when an asyncio task it started is still pending at its end."""
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)  # let tasks that are finishing finish
    current = asyncio.current_task()
    leaked = [t for t in asyncio.all_tasks() - before if t is not current and not t.done()]
    for task in leaked:
        task.cancel()
    if leaked:
        names = ", ".join(sorted(t.get_name() + ":" + repr(t.get_coro()) for t in leaked))
        pytest.fail(f"test leaked {len(leaked)} asyncio task(s): {names}")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures the root logger; put it back so tests do not leak handlers."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


# --- databases --------------------------------------------------------------------------------
# Tests that touch a database take `database_url`: a fresh SQLite file by default, or, when
# MDM_BRIDGE_TEST_DATABASE_URL names a PostgreSQL server (as .ci/run does), a fresh schema in it.

TEST_DATABASE_VARIABLE = "MDM_BRIDGE_TEST_DATABASE_URL"


@contextmanager
def fresh_database(folder: Path) -> Iterator[str]:
    """A fresh SQLite file in `folder`, or a fresh schema in the PostgreSQL under test."""
    base = os.environ.get(TEST_DATABASE_VARIABLE)
    if not base:
        yield f"sqlite:///{folder / 'mdm-bridge.db'}"
        return
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sqlalchemy.create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=SecretStr(SECRET_KEY))


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No MDM_BRIDGE_* variable from the developer's shell leaks into a settings test."""
    for name in list(os.environ):
        if name.startswith("MDM_BRIDGE_"):
            monkeypatch.delenv(name)
    return monkeypatch
