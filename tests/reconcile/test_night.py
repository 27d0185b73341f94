"""End to end, one night at a school: the reconcile engine, the real Jamf Pro connector and the
mock Jamf Pro, all on one fake clock (issue 6).

Each test builds a school (`tests.reconcile.school`) at 19:00 London time, brings every iPad to
its daytime state, then lets the evening and night pass with reconcile runs at the moments the
scheduler would trigger them: curfew edges, ban edges, and drift cycles a few minutes apart.
Ground truth is the simulated iPad (Lost Mode on or off, profiles installed), never what the
connector believes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from mdm_bridge.reconcile.curfew_nights import NIGHTS
from mdm_bridge.reconcile.run import RUNS
from mdm_bridge.store.records import BanRow, ExemptionRow
from mocks.clock import to_epoch
from mocks.commands import CommandState, RequestType
from mocks.device import Device
from policies import CurfewVerdict
from tests.reconcile.school import EVENING, MORNING_07, TONIGHT_20, Home, TestSchool, build_school

BANS = BanRow.__table__  # type: ignore[attr-defined]
EXEMPTIONS = ExemptionRow.__table__  # type: ignore[attr-defined]
DRIFT = timedelta(minutes=3)  # the drift cycle's period in these tests
# Known bug, left for the connector/policies owners: a profile identifier is one Jamf Pro profile
# scoped to one group ("mdm-bridge: <identifier>"), so two contents of one identifier cannot
# coexist. A web allow-list exemption for one class rewrites the KS2 profile for every KS2 iPad.
# Fix: a group and profile per content variant (see the report of issue 6).
ONE_CONTENT_PER_IDENTIFIER = pytest.mark.xfail(
    strict=True, reason="Jamf Pro holds one content per profile identifier"
)


@pytest.fixture
async def school(database_url: str) -> AsyncIterator[TestSchool]:
    """A school at 19:00 whose iPads all carry their restriction profile (two runs, converged)."""
    async with build_school(database_url, devices=48) as built:
        await daytime(built)
        yield built


async def daytime(school: TestSchool) -> None:
    first = await school.reconcile("first run")
    assert first.errors == []
    assert first.queued == len(school.fleet.devices)
    school.settle()
    for device in school.fleet.devices:
        assert school.restriction_identifier(device) in school.installed(device), device.serial
        assert device.lost_mode is None


async def curfew_starts(school: TestSchool) -> None:
    """20:00: the edge run, then a drift run once the iPads have had time to answer."""
    school.let_time_pass(TONIGHT_20)
    await school.reconcile("curfew start")
    school.let_time_pass(TONIGHT_20 + DRIFT)
    await school.reconcile("drift")


def locked(devices: list[Device]) -> set[str]:
    return {device.serial for device in devices if device.lost_mode is not None}


def serials(devices: list[Device]) -> set[str]:
    return {device.serial for device in devices}


def nights(school: TestSchool) -> dict[int, tuple[str, str]]:
    with school.engine.connect() as connection:
        rows = connection.execute(select(NIGHTS.c.device_id, NIGHTS.c.outcome, NIGHTS.c.reason))
        return {row.device_id: (row.outcome, row.reason) for row in rows}


def insert_row(school: TestSchool, table: object, **values: object) -> int:
    with school.engine.begin() as connection:
        return int(
            connection.execute(
                insert(table).values(**values).returning(table.c.id)  # type: ignore[attr-defined]
            ).scalar_one()
        )


# -- the curfew -----------------------------------------------------------------------------------


async def test_home_use_ipads_lock_at_20_and_all_unlock_at_07(school: TestSchool) -> None:
    home, school_only = school.devices(Home.HOME_USE), school.devices(Home.SCHOOL_ONLY)
    assert home
    assert school_only

    school.let_time_pass(TONIGHT_20 - timedelta(minutes=1))
    assert locked(school.fleet.devices) == set()
    await curfew_starts(school)

    assert locked(school.fleet.devices) == serials(home)
    outcomes = nights(school)
    for device in home:
        assert outcomes[school.device_ids[device.serial]] == ("on_time", ""), device.serial
    for device in school_only:
        assert outcomes[school.device_ids[device.serial]] == ("not_applicable", "not home-use")

    school.let_time_pass(MORNING_07)
    assert locked(school.fleet.devices) == serials(home), "nobody unlocks before 07:00"
    summary = await school.reconcile("curfew end")
    assert summary.queued == len(home)
    assert summary.errors == []
    school.settle(minutes=1)
    assert locked(school.fleet.devices) == set()
    for device in school.fleet.devices:  # the night's lock left the restrictions in place
        assert school.restriction_identifier(device) in school.installed(device)


async def test_a_pupil_without_both_parts_of_the_agreement_is_never_locked(
    school: TestSchool,
) -> None:
    meeting_only = school.devices(Home.MEETING_ONLY)
    assert meeting_only
    await curfew_starts(school)
    preview = school.reconciler.preview(school.clock.now())
    by_serial = {d.record.facts.ref.serial_number: d for d in preview.devices}
    for device in meeting_only:
        decision = by_serial[device.serial].decision
        assert not decision.home_use
        assert decision.curfew is CurfewVerdict.NOT_HOME_USE
        assert decision.desired.lock is None
        assert nights(school)[school.device_ids[device.serial]] == (
            "not_applicable",
            "not home-use",
        )
    school.let_time_pass(MORNING_07)
    assert locked(meeting_only) == set()
    assert not any(
        command.request_type is RequestType.ENABLE_LOST_MODE
        for device in meeting_only
        for command in school.fleet.commands_for(device)
    )


# -- runs and steady state ------------------------------------------------------------------------


async def test_each_run_records_its_counts_and_a_converged_run_queues_nothing(
    school: TestSchool,
) -> None:
    school.let_time_pass(TONIGHT_20)
    edge = await school.reconcile("curfew start")
    home = len(school.devices(Home.HOME_USE))
    assert (edge.devices, edge.queued, edge.sent.sent, edge.sent.accepted) == (48, home, home, home)
    assert edge.converged == 48 - home
    assert edge.blocked == 0
    with school.engine.connect() as connection:
        row = connection.execute(select(RUNS).where(RUNS.c.id == edge.run_id)).one()
    assert row.trigger == "curfew start"
    assert row.status == "done"
    assert row.errors == []
    assert (row.devices, row.converged, row.queued, row.sent, row.accepted) == (
        48,
        48 - home,
        home,
        home,
        home,
    )
    assert row.started_at == TONIGHT_20
    assert row.finished_at >= row.started_at

    school.let_time_pass(TONIGHT_20 + DRIFT)
    for trigger in ("drift", "drift again"):
        steady = await school.reconcile(trigger)
        assert (steady.queued, steady.converged, steady.sent.sent) == (0, 48, 0), trigger
    assert school.reconciler.preview(school.clock.now()).actions == []


# -- bans -----------------------------------------------------------------------------------------


async def test_a_remove_ban_locks_within_one_run_and_lifts_at_its_end(school: TestSchool) -> None:
    pupil_device = school.devices(Home.SCHOOL_ONLY)[0]  # so the curfew cannot be the lock
    now = school.clock.now()
    ends = now + timedelta(minutes=30)
    insert_row(
        school,
        BANS,
        pupil_id=school.pupil_ids[pupil_device.pupil_ref],
        level=3,
        reason="a bullying message",
        category="bullying",
        issued_by="teacher",
        issued_at=now,
        starts_at=now,
        ends_at=ends,
        approved_by="head",
        approved_at=now,
    )
    summary = await school.reconcile("ban issued")
    assert summary.queued == 1
    school.settle(minutes=1)
    assert locked(school.fleet.devices) == {pupil_device.serial}
    assert pupil_device.lost_mode is not None
    assert pupil_device.lost_mode.message == school.policy.ban_message

    school.let_time_pass(ends + timedelta(seconds=1))
    assert locked(school.fleet.devices) == {pupil_device.serial}
    await school.reconcile("ban ends")
    school.settle(minutes=1)
    assert locked(school.fleet.devices) == set()


async def test_an_unapproved_remove_ban_does_nothing(school: TestSchool) -> None:
    pupil_device = school.devices(Home.SCHOOL_ONLY)[0]
    now = school.clock.now()
    insert_row(
        school,
        BANS,
        pupil_id=school.pupil_ids[pupil_device.pupil_ref],
        level=3,
        reason="awaiting the head",
        category="bullying",
        issued_by="teacher",
        issued_at=now,
        starts_at=now,
        ends_at=now + timedelta(hours=1),
    )
    summary = await school.reconcile("ban issued")
    assert summary.queued == 0
    school.settle(minutes=1)
    assert locked(school.fleet.devices) == set()


async def test_a_restrict_ban_profile_reaches_the_ipad_and_leaves_at_its_end(
    school: TestSchool,
) -> None:
    pupil_device = school.devices(Home.HOME_USE)[0]
    others = [d for d in school.fleet.devices if d is not pupil_device]
    ban_profile = school.policy.ban_identifier(1)
    now = school.clock.now()
    ends = now + timedelta(minutes=40)
    insert_row(
        school,
        BANS,
        pupil_id=school.pupil_ids[pupil_device.pupil_ref],
        level=1,
        reason="social media in a lesson",
        category="social media",
        issued_by="teacher",
        issued_at=now,
        starts_at=now,
        ends_at=ends,
    )
    summary = await school.reconcile("ban issued")
    assert summary.queued == 1
    school.settle(minutes=1)
    assert ban_profile in school.installed(pupil_device)
    assert not any(ban_profile in school.installed(d) for d in others)
    assert school.restriction_identifier(pupil_device) in school.installed(pupil_device)

    school.let_time_pass(ends + timedelta(seconds=1))
    await school.reconcile("ban ends")
    school.settle(minutes=1)
    assert ban_profile not in school.installed(pupil_device)
    assert school.restriction_identifier(pupil_device) in school.installed(pupil_device)
    steady = await school.reconcile("drift")
    assert steady.queued == 0
    assert steady.converged == 48


async def test_two_restrict_bans_of_one_level_each_keep_their_own_end(school: TestSchool) -> None:
    first, second = school.devices(Home.HOME_USE)[:2]
    ban_profile = school.policy.ban_identifier(1)
    now = school.clock.now()
    short, long = now + timedelta(minutes=30), now + timedelta(hours=20)
    for device, ends in ((first, short), (second, long)):
        insert_row(
            school,
            BANS,
            pupil_id=school.pupil_ids[device.pupil_ref],
            level=1,
            reason="games in a lesson",
            category="games",
            issued_by="teacher",
            issued_at=now,
            starts_at=now,
            ends_at=ends,
        )
    summary = await school.reconcile("bans issued")
    assert summary.errors == []
    school.settle(minutes=1)
    assert ban_profile in school.installed(first)
    assert ban_profile in school.installed(second)
    school.let_time_pass(short + timedelta(seconds=1))
    await school.reconcile("first ban ends")
    school.settle(minutes=1)
    assert ban_profile not in school.installed(first)
    assert ban_profile in school.installed(second), "the second ban ended with the first"


# -- exemptions -----------------------------------------------------------------------------------


async def test_a_curfew_exemption_keeps_one_ipad_unlocked_while_the_others_lock(
    school: TestSchool,
) -> None:
    home = school.devices(Home.HOME_USE)
    exempt = home[0]
    now = school.clock.now()
    insert_row(
        school,
        EXEMPTIONS,
        school_id=school.school_id,
        kind="curfew",
        pupil_id=school.pupil_ids[exempt.pupil_ref],
        domains=[],
        reason="overnight residential trip: the iPad is the camera",
        requested_by="teacher",
        requested_at=now,
        starts_at=now,
        ends_at=MORNING_07 + timedelta(hours=1),
        approved_by="head",
        approved_at=now,
    )
    await curfew_starts(school)
    assert locked(school.fleet.devices) == serials(home) - {exempt.serial}
    assert nights(school)[school.device_ids[exempt.serial]] == (
        "not_applicable",
        "curfew exemption",
    )
    assert school.restriction_identifier(exempt) in school.installed(exempt)


@ONE_CONTENT_PER_IDENTIFIER
async def test_a_web_allow_exemption_changes_only_its_groups_filter(school: TestSchool) -> None:
    ks2 = [d for d in school.fleet.devices if int(d.year_group.split()[-1]) >= 3]
    group = ks2[0].class_name
    in_group = [d for d in ks2 if d.class_name == group]
    rest = [d for d in ks2 if d.class_name != group]
    assert in_group
    assert rest
    now = school.clock.now()
    before = {d.serial: installed_payloads(school, d) for d in school.fleet.devices}
    insert_row(
        school,
        EXEMPTIONS,
        school_id=school.school_id,
        kind="web_allow",
        group_name=group,
        domains=["www.romans.example"],
        reason="topic: the Romans",
        requested_by="teacher",
        requested_at=now,
        starts_at=now,
        ends_at=now + timedelta(hours=2),
        approved_by="digital lead",
        approved_at=now,
    )
    await school.reconcile("exemption approved")
    school.settle()
    await school.reconcile("drift")
    school.settle()
    for device in school.fleet.devices:
        after = installed_payloads(school, device)
        if device in in_group:
            assert "www.romans.example" in after, device.serial
            assert after.replace("www.romans.example", "") != ""
        else:
            assert after == before[device.serial], device.serial
    steady = await school.reconcile("drift")
    assert steady.queued == 0


def installed_payloads(school: TestSchool, device: Device) -> str:
    """The bytes of the restriction profile the iPad really has (as text, to search in)."""
    identifier = school.restriction_identifier(device)
    for installed in (device.installed or {}).values():
        if installed.identifier == identifier:
            profile = school.fleet.profile(installed.profile_id)
            assert profile is not None
            return profile.payload.decode("utf-8", "replace")
    raise AssertionError(f"{device.serial} has no {identifier}")


# -- drift ----------------------------------------------------------------------------------------


async def test_a_device_taken_out_of_its_bridge_group_is_put_back(school: TestSchool) -> None:
    device = school.devices()[0]
    identifier = school.restriction_identifier(device)
    bridge_group = school.fleet.group_by_name(f"mdm-bridge: {identifier}")
    assert bridge_group is not None
    school.fleet.remove_from_group(bridge_group, [device])  # a technician's slip in Jamf
    school.settle(minutes=1)
    assert identifier not in school.installed(device)

    summary = await school.reconcile("drift")
    assert summary.queued == 1
    school.settle(minutes=1)
    assert identifier in school.installed(device)


async def test_a_bridge_profile_deleted_in_the_mdm_is_put_back(school: TestSchool) -> None:
    device = school.devices()[0]
    identifier = school.restriction_identifier(device)
    profile = next(p for p in school.fleet.profiles() if p.content.identifier == identifier)
    school.fleet.delete_profile(profile.profile_id)
    school.settle()
    sharing = [d for d in school.fleet.devices if school.restriction_identifier(d) == identifier]
    assert not any(identifier in school.installed(d) for d in sharing)

    await school.reconcile("drift")
    school.settle()
    assert all(identifier in school.installed(d) for d in sharing)
    steady = await school.reconcile("drift")
    assert steady.queued == 0


# -- an iPad offline all night --------------------------------------------------------------------


async def test_an_ipad_offline_all_night_gets_no_stale_lock(school: TestSchool) -> None:
    home = school.devices(Home.HOME_USE)
    away = home[0]
    school.let_time_pass(EVENING + timedelta(minutes=30))
    school.fleet.set_offline(away, until=to_epoch(MORNING_07 + timedelta(hours=1)))
    await curfew_starts(school)
    assert locked(school.fleet.devices) == serials(home) - {away.serial}
    outcome, reason = nights(school)[school.device_ids[away.serial]]
    assert outcome == "never"
    assert reason.startswith("offline since 2026-11-23 19:"), reason

    school.let_time_pass(MORNING_07)
    await school.reconcile("curfew end")
    morning = MORNING_07 + timedelta(hours=1, minutes=5)
    while school.clock.now() < morning:  # the lock must never be in force after 07:00
        school.let_time_pass(school.clock.now() + timedelta(seconds=30))
        assert away.lost_mode is None, school.clock.now()
    await school.reconcile("drift")
    school.settle(minutes=1)
    assert locked(school.fleet.devices) == set()
    assert away.last_checkin is not None
    assert away.last_checkin >= to_epoch(MORNING_07)

    history = school.fleet.commands_for(away)
    locks = [c for c in history if c.request_type is RequestType.ENABLE_LOST_MODE]
    unlocks = [c for c in history if c.request_type is RequestType.DISABLE_LOST_MODE]
    for lock in locks:
        later = [u for u in unlocks if u.queued_at >= lock.queued_at]
        assert later, "a lock went out with no unlock behind it"
        assert later[0].completed_at == lock.completed_at, "the unlock came in a later check-in"
        assert later[0].state is CommandState.ACKNOWLEDGED
    steady = await school.reconcile("drift")
    assert steady.queued == 0
