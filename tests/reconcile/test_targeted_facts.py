"""A run for a few iPads reads only their pupils' records, and decides them exactly as a run over
the whole school would (a teacher's ban reconciles one iPad without reading the school)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import insert

from mdm_bridge.store.records import BanRow, ExemptionRow
from tests.reconcile.school import TONIGHT_20, Home, TestSchool, build_school

BANS = BanRow.__table__  # type: ignore[attr-defined]
EXEMPTIONS = ExemptionRow.__table__  # type: ignore[attr-defined]


@pytest.fixture
async def school(database_url: str) -> AsyncIterator[TestSchool]:
    async with build_school(database_url, devices=30) as built:
        yield built


def _plans(school: TestSchool, device_ids: list[int] | None) -> dict[int, object]:
    preview = school.reconciler.preview(TONIGHT_20 + timedelta(minutes=5), device_ids)
    return {d.record.device_id: (d.decision.desired, d.plan.actions) for d in preview.devices}


async def test_a_few_ipads_are_decided_as_in_a_whole_school_run(school: TestSchool) -> None:
    await school.reconcile("first run")
    home = school.devices(Home.HOME_USE)
    now = school.clock.now()
    with school.engine.begin() as connection:
        for index, device in enumerate(home[:6]):
            connection.execute(
                insert(BANS).values(
                    pupil_id=school.pupil_ids[device.pupil_ref],
                    level=1 + index % 3,
                    reason="misuse",
                    category="games",
                    issued_by="teacher",
                    issued_at=now,
                    starts_at=now,
                    ends_at=now + timedelta(days=1 + index),
                    approved_by="head" if index % 3 == 2 else None,
                    approved_at=now if index % 3 == 2 else None,
                )
            )
        connection.execute(
            insert(EXEMPTIONS).values(
                school_id=school.school_id,
                kind="curfew",
                pupil_id=school.pupil_ids[home[6].pupil_ref],
                domains=[],
                reason="hospital visit",
                requested_by="teacher",
                requested_at=now,
                starts_at=now,
                ends_at=now + timedelta(days=2),
                approved_by="dsl",
                approved_at=now,
            )
        )
    whole = _plans(school, None)
    some = [school.device_ids[d.serial] for d in (home[0], home[2], home[6], home[9])]
    targeted = _plans(school, some)
    assert set(targeted) == set(some)
    assert targeted == {device_id: whole[device_id] for device_id in some}
