"""A migrated database (SQLite, or PostgreSQL when configured) with one school, MDM and iPads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from mdm_bridge.store import migrate
from mdm_bridge.store.engine import create_database_engine
from mdm_bridge.store.tables import Device, MdmInstance, School

NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def fleet(engine: Engine) -> tuple[int, list[int]]:
    """(instance id, device ids) of a school with one Jamf Pro and five iPads."""
    with Session(engine) as session:
        school = School(name="Oak Academy", timezone="Europe/London", created_at=NOW)
        session.add(school)
        session.flush()
        assert school.id is not None
        instance = MdmInstance(
            school_id=school.id,
            name="jamf",
            vendor="jamf_pro",
            base_url="http://mock",
            created_at=NOW,
        )
        session.add(instance)
        session.flush()
        assert instance.id is not None
        devices = [
            Device(
                mdm_instance_id=instance.id,
                vendor_id=str(n),
                serial_number=f"SER{n}",
                supervised=True,
                takes_home=True,
                created_at=NOW,
            )
            for n in range(1, 6)
        ]
        session.add_all(devices)
        session.commit()
        return instance.id, [d.id for d in devices if d.id is not None]
