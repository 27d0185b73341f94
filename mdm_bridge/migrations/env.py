"""Alembic environment: runs revisions on the connection that `store.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from mdm_bridge.store.tables import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `mdm-bridge db upgrade`")
run_migrations(context.config.attributes["connection"])
