"""End to end on Jamf School, which has no Lost Mode: the curfew arrives as the lock profile,
by moving home-use iPads into the console group its profile is scoped to, and leaves at 07:00."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mdm_bridge.reconcile.curfew_nights import NIGHTS
from mocks.jamf_school.fixtures import CURFEW_GROUP
from tests.reconcile.school import MORNING_07, TONIGHT_20, Home, build_school

CONSOLE_CURFEW = "com.zuludesk.MDM.iOS.bridge.curfew"  # the console-made profile of that group


async def test_jamf_school_curfew_is_a_group_move_in_and_out(database_url: str) -> None:
    async with build_school(database_url, devices=40, vendor="jamf_school") as school:
        first = await school.reconcile("first run")
        assert first.errors == []
        school.settle()
        curfew_group = school.fleet.group_by_name(CURFEW_GROUP)
        assert curfew_group is not None
        assert curfew_group.members == set()

        school.let_time_pass(TONIGHT_20)
        edge = await school.reconcile("curfew start")
        home = school.devices(Home.HOME_USE)
        assert edge.errors == []
        assert edge.blocked == 0
        assert edge.queued == len(home)
        school.let_time_pass(TONIGHT_20 + timedelta(minutes=3))
        await school.reconcile("drift")
        home_ids = {device.device_id for device in home}
        assert curfew_group.members == home_ids
        for device in school.fleet.devices:
            has_curfew = CONSOLE_CURFEW in school.installed(device)
            assert has_curfew is (device.device_id in home_ids), device.serial
        with school.engine.connect() as connection:
            outcomes = dict(connection.execute(select(NIGHTS.c.device_id, NIGHTS.c.outcome)).all())
        assert {outcomes[school.device_ids[d.serial]] for d in home} == {"on_time"}

        school.let_time_pass(MORNING_07)
        morning = await school.reconcile("curfew end")
        assert morning.queued == len(home)
        school.settle(minutes=1)
        assert curfew_group.members == set()
        assert not any(CONSOLE_CURFEW in school.installed(d) for d in school.fleet.devices)
        steady = await school.reconcile("drift")
        assert steady.queued == 0
