"""Profiles follow scope at each device's next check-in; locked devices defer; RemovalDate holds."""

from __future__ import annotations

import plistlib
from datetime import UTC, datetime, timedelta

import pytest

from mocks.clock import ManualClock, from_epoch
from mocks.commands import CommandState, RequestType
from mocks.fleet import ClockLocked, Fleet, GroupInUse
from mocks.groups import DuplicateGroupName
from mocks.profiles import Profile, ProfilePayloadError, Scope, read_profile_plist


def mobileconfig(identifier: str, removal: datetime | None = None) -> bytes:
    document: dict[str, object] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": identifier,
        "PayloadUUID": "6E2C1B0A-0000-4000-8000-000000000001",
        "PayloadContent": [
            {
                "PayloadType": "com.apple.applicationaccess",
                "PayloadVersion": 1,
                "PayloadIdentifier": identifier + ".restrictions",
                "PayloadUUID": "6E2C1B0A-0000-4000-8000-000000000002",
                "allowSafari": False,
            }
        ],
    }
    if removal is not None:
        document["RemovalDate"] = removal.replace(tzinfo=None)
    return plistlib.dumps(document)


def scoped_profile(fleet: Fleet, scope: Scope, removal: datetime | None = None) -> Profile:
    payload = mobileconfig("org.school.curfew", removal)
    return fleet.put_profile(
        Profile(
            profile_id=fleet.next_profile_id(),
            name="Curfew",
            payload=payload,
            content=read_profile_plist(payload),
            scope=scope,
        )
    )


def installed_ids(fleet: Fleet, index: int) -> list[int]:
    return sorted(fleet.devices[index].installed or ())


def settle(fleet: Fleet, clock: ManualClock, seconds: float = 60.0) -> None:
    clock.advance(seconds)
    fleet.tick()


def test_group_scope_installs_at_next_check_in_and_leaves_with_the_group(
    fleet: Fleet, clock: ManualClock
) -> None:
    group = fleet.create_group(name="Curfew")
    profile = scoped_profile(fleet, Scope(group_ids=frozenset({group.group_id})))
    fleet.add_to_group(group, fleet.devices[:3])
    assert installed_ids(fleet, 0) == []  # nothing happens before the device checks in
    settle(fleet, clock)
    assert [installed_ids(fleet, i) for i in range(4)] == [[profile.profile_id]] * 3 + [[]]
    fleet.remove_from_group(group, [fleet.devices[0]])
    settle(fleet, clock)
    assert installed_ids(fleet, 0) == []
    assert installed_ids(fleet, 1) == [profile.profile_id]
    kinds = [c.request_type for c in fleet.commands_for(fleet.devices[0])]
    assert kinds == [RequestType.INSTALL_PROFILE, RequestType.REMOVE_PROFILE]


def test_locked_device_answers_not_now_and_gets_it_later(fleet: Fleet, clock: ManualClock) -> None:
    device = fleet.devices[0]
    fleet.set_screen_locked(device, fleet.now() + 1800)
    profile = scoped_profile(fleet, Scope(device_ids=frozenset({device.device_id})))
    settle(fleet, clock)
    first = fleet.commands_for(device)
    assert [c.state for c in first] == [CommandState.NOT_NOW]
    assert installed_ids(fleet, 0) == []
    settle(fleet, clock, 3600)
    assert installed_ids(fleet, 0) == [profile.profile_id]
    assert fleet.commands_for(device)[-1].state is CommandState.ACKNOWLEDGED


def test_all_devices_scope_with_exclusions(fleet: Fleet, clock: ManualClock) -> None:
    staff = fleet.create_group(name="Staff")
    fleet.add_to_group(staff, [fleet.devices[1]])
    scope = Scope(
        all_devices=True,
        excluded_device_ids=frozenset({1}),
        excluded_group_ids=frozenset({staff.group_id}),
    )
    profile = scoped_profile(fleet, scope)
    settle(fleet, clock, 3600)
    assert installed_ids(fleet, 0) == []
    assert installed_ids(fleet, 1) == []
    assert all(installed_ids(fleet, i) == [profile.profile_id] for i in range(2, 10))


def test_removal_date_is_honoured_on_the_device_clock_even_offline(
    fleet: Fleet, clock: ManualClock
) -> None:
    device = fleet.devices[0]
    removal = clock.now() + timedelta(hours=2)
    profile = scoped_profile(fleet, Scope(device_ids=frozenset({1})), removal=removal)
    settle(fleet, clock)
    assert installed_ids(fleet, 0) == [profile.profile_id]
    fleet.set_offline(device)
    fleet.delete_profile(profile.profile_id)  # unscoped, but the device cannot hear about it
    clock.set(removal - timedelta(seconds=1))
    fleet.tick()
    assert installed_ids(fleet, 0) == [profile.profile_id]
    clock.set(removal + timedelta(seconds=1))
    fleet.tick()
    assert installed_ids(fleet, 0) == []


def test_device_clock_ahead_removes_early(fleet: Fleet, clock: ManualClock) -> None:
    device = fleet.devices[0]
    device.clock_offset = 3600.0
    removal = clock.now() + timedelta(hours=2)
    scoped_profile(fleet, Scope(device_ids=frozenset({1})), removal=removal)
    settle(fleet, clock)
    clock.set(removal - timedelta(minutes=59))
    fleet.tick()
    assert installed_ids(fleet, 0) == []


def test_still_scoped_profile_past_its_removal_date_does_not_stick(
    fleet: Fleet, clock: ManualClock
) -> None:
    removal = clock.now() + timedelta(minutes=5)
    scoped_profile(fleet, Scope(device_ids=frozenset({1})), removal=removal)
    settle(fleet, clock)
    assert installed_ids(fleet, 0) != []
    settle(fleet, clock, 4 * 3600)
    assert installed_ids(fleet, 0) == []


def test_lost_mode_refuses_profile_installs_without_piling_up_errors(
    fleet: Fleet, clock: ManualClock
) -> None:
    device = fleet.devices[0]
    fleet.enqueue(device, RequestType.ENABLE_LOST_MODE, {"message": "lock"}, source="test")
    settle(fleet, clock)
    scoped_profile(fleet, Scope(device_ids=frozenset({1})))
    settle(fleet, clock, 5 * 3600)
    installs = [c for c in fleet.commands_for(device) if c.profile_id is not None]
    assert len(installs) == 1
    assert installs[0].error is not None
    assert installs[0].error.code == 12078


def test_updated_profile_redeploys_only_when_asked(fleet: Fleet, clock: ManualClock) -> None:
    profile = scoped_profile(fleet, Scope(device_ids=frozenset({1})))
    settle(fleet, clock)
    new_payload = mobileconfig("org.school.curfew.v2")
    updated = fleet.put_profile(
        Profile(
            profile_id=profile.profile_id,
            name="Curfew",
            payload=new_payload,
            content=read_profile_plist(new_payload),
            scope=profile.scope,
            redeploy_to_all=True,
        )
    )
    assert updated.version == 2
    settle(fleet, clock)
    installed = (fleet.devices[0].installed or {})[profile.profile_id]
    assert (installed.version, installed.identifier) == (2, "org.school.curfew.v2")


def test_group_names_are_unique_and_scoped_groups_cannot_be_deleted(fleet: Fleet) -> None:
    group = fleet.create_group(name="Curfew")
    with pytest.raises(DuplicateGroupName):
        fleet.create_group(name="curfew")
    scoped_profile(fleet, Scope(group_ids=frozenset({group.group_id})))
    with pytest.raises(GroupInUse):
        fleet.delete_group(group.group_id)
    other = fleet.create_group(name="Spare")
    fleet.set_group_members(other, fleet.devices[:2])
    assert fleet.delete_group(other.group_id) is other
    assert fleet.devices[0].group_ids == set()


def test_bad_plists_are_refused() -> None:
    with pytest.raises(ProfilePayloadError):
        read_profile_plist(b"<not a plist")
    with pytest.raises(ProfilePayloadError):
        read_profile_plist(plistlib.dumps({"PayloadType": "Configuration"}))


def test_plist_removal_date_is_utc() -> None:
    when = datetime(2026, 11, 24, 7, 0, tzinfo=UTC).replace(tzinfo=None)  # plists are naive UTC
    content = read_profile_plist(plistlib.dumps({"PayloadIdentifier": "x", "RemovalDate": when}))
    assert content.removal_date is not None
    assert from_epoch(content.removal_date).hour == 7


def test_forced_automatic_time_locks_the_device_clock(fleet: Fleet, clock: ManualClock) -> None:
    payload = plistlib.dumps(
        {
            "PayloadIdentifier": "org.school.clock",
            "PayloadContent": [
                {"PayloadType": "com.apple.applicationaccess", "forceAutomaticDateAndTime": True}
            ],
        }
    )
    content = read_profile_plist(payload)
    assert content.forces_automatic_time
    fleet.put_profile(
        Profile(
            profile_id=fleet.next_profile_id(),
            name="Clock",
            payload=payload,
            content=content,
            scope=Scope(device_ids=frozenset({1})),
        )
    )
    device = fleet.devices[0]
    fleet.set_clock_offset(device, 60.0)  # allowed before the profile arrives
    settle(fleet, clock)
    with pytest.raises(ClockLocked):
        fleet.set_clock_offset(device, 7200.0)
    assert device.clock_offset == 60.0
