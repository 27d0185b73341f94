"""Database engines for the two supported stores.

SQLite is the embedded default: WAL journal (readers never block the writer), foreign keys on
(SQLite leaves them off per connection), and a busy timeout so a second writer waits instead of
failing. PostgreSQL (psycopg 3) is the store for several replicas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def create_database_engine(url: str) -> Engine:
    """An engine for `url`, creating the SQLite file's folder when it does not exist yet."""
    parsed = make_url(url)
    if is_sqlite(url):
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def database_reachable(engine: Engine) -> bool:
    """True when a trivial query succeeds; used by /readyz."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any driver or network failure means "not ready"
        return False
    return True


def upsert_insert(connection: Connection) -> Any:
    """The dialect's INSERT, which has `on_conflict_do_nothing/update` on both databases."""
    return pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
