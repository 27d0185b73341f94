"""Migrations from an empty database to head and back, on SQLite or PostgreSQL (see conftest)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from mdm_bridge.store import migrate
from mdm_bridge.store.engine import create_database_engine
from mdm_bridge.store.tables import Device, MdmInstance, School, metadata

TABLES = {"schools", "mdm_instances", "groups", "pupils", "pupil_groups", "devices"}
NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


def test_database_under_test_is_the_configured_one(engine: Engine) -> None:
    wanted = "postgresql" if os.environ.get("MDM_BRIDGE_TEST_DATABASE_URL") else "sqlite"
    assert engine.dialect.name == wanted


def test_empty_to_head_creates_every_table(engine: Engine) -> None:
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_models_and_migrations_agree(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrade_twice_is_harmless_and_downgrade_empties(engine: Engine) -> None:
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert not TABLES & set(inspect(engine).get_table_names())


def _school(session: Session) -> School:
    school = School(name="Oak Primary", timezone="Europe/London", created_at=NOW)
    session.add(school)
    session.flush()
    return school


def test_instants_come_back_aware_utc(engine: Engine) -> None:
    migrate.upgrade(engine)
    summer = timezone(timedelta(hours=1))
    with Session(engine) as session:
        school = School(
            name="Oak",
            timezone="Europe/London",
            created_at=datetime(2026, 7, 1, 21, 0, tzinfo=summer),
        )
        session.add(school)
        session.commit()
        session.expire_all()
        stored = session.get(School, school.id)
        assert stored is not None
        assert stored.created_at == datetime(2026, 7, 1, 20, 0, tzinfo=UTC)
        assert stored.created_at.utcoffset() == timedelta(0)


def test_naive_instants_are_refused(engine: Engine) -> None:
    migrate.upgrade(engine)
    with Session(engine) as session:
        session.add(School(name="Oak", timezone="Europe/London", created_at=datetime(2026, 7, 1)))  # noqa: DTZ001
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    migrate.upgrade(engine)
    with Session(engine) as session:
        session.add(
            Device(mdm_instance_id=999, vendor_id="1", serial_number="DMPX", created_at=NOW)
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_vendor_is_checked_by_the_database(engine: Engine) -> None:
    migrate.upgrade(engine)
    with Session(engine) as session:
        school = _school(session)
        assert school.id is not None
        session.add(
            MdmInstance(
                school_id=school.id, name="x", vendor="intune", base_url="https://x", created_at=NOW
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_sqlite_runs_in_wal_mode(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        assert engine.dialect.name == "postgresql"
        return
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(sqlalchemy.text("PRAGMA foreign_keys")).scalar() == 1
