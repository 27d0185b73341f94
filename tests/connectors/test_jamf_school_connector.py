"""The Jamf School connector against its mock: observation, group moves, offline devices, faults."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import ActionResult, AuthError, FailureKind, Outcome
from connectors.jamf_school import JamfSchoolConnector
from mdm_bridge.model import Action, ActionKind, DeviceRef, LockCause, LockIntent, ProfileRef
from mocks.device import Device
from mocks.jamf_school.auth import ALL_RIGHTS, ApiKey, Right
from mocks.jamf_school.fixtures import CURFEW_GROUP, SAFARI_BAN_GROUP
from mocks.jamf_school.state import JamfSchoolOptions
from tests.connectors.harness import Harness
from tests.connectors.harness_jamf_school import (
    APP_STORE_BAN,
    CURFEW,
    GROUP_NAMES,
    SAFARI_BAN,
    jamf_school_harness,
)

FLEET = 60


def _connector(harness: Harness) -> JamfSchoolConnector:
    connector = harness.connector
    assert isinstance(connector, JamfSchoolConnector)
    return connector


def _ref(device: Device) -> DeviceRef:
    return DeviceRef(
        mdm_instance="jamf-school", vendor_id=device.udid, serial_number=device.serial,
        udid=device.udid,
    )  # fmt: skip


def _profile_action(kind: ActionKind, device: Device, identifier: str) -> Action:
    profile = ProfileRef(identifier=identifier, content_hash="c1")
    return Action(kind=kind, device=_ref(device), target_hash="t1", reason="test", profile=profile)


def _group_id(harness: Harness, name: str) -> int:
    group = harness.fleet.group_by_name(name)
    assert group is not None
    return group.group_id


def _reachable(harness: Harness, device: Device) -> None:
    """Online and unlocked, so an install is not answered NotNow at the next check-in."""
    harness.fleet.set_online(device)
    harness.fleet.set_screen_locked(device, None)


def _installed(harness: Harness, device: Device) -> set[str]:
    """Identifiers of the console profiles really on the simulated iPad."""
    return {installed.identifier for installed in (device.installed or {}).values()}


async def _moves_sent(harness: Harness) -> list[dict[str, Any]]:
    return [
        r for r in await harness.requests_seen() if r["path"].startswith("/api/devices/groups/")
    ]


async def test_installs_become_one_group_move_per_group_and_reach_the_devices() -> None:
    async with jamf_school_harness(FLEET) as harness:
        devices = harness.fleet.devices[:20]
        for device in devices:
            _reachable(harness, device)
        actions = [_profile_action(ActionKind.INSTALL_PROFILE, d, SAFARI_BAN) for d in devices]
        actions += [_profile_action(ActionKind.INSTALL_PROFILE, d, APP_STORE_BAN) for d in devices]

        results = await harness.connector.apply(actions)

        assert [result.action for result in results] == actions
        assert {result.outcome for result in results} == {Outcome.ACCEPTED}
        assert all("next check-in" in result.detail for result in results)
        moves = await _moves_sent(harness)
        assert [(m["method"], m["path"]) for m in moves] == [
            ("POST", "/api/devices/groups/add")
        ] * 2
        safari = harness.fleet.group_by_name(SAFARI_BAN_GROUP)
        assert safari is not None
        assert safari.members == {d.device_id for d in devices}
        for device in devices:
            harness.fleet.check_in(device)
            assert "com.zuludesk.MDM.iOS.bridge.ban-safari" in _installed(harness, device)


async def test_removal_takes_the_device_out_of_the_group_and_the_profile_follows() -> None:
    async with jamf_school_harness(FLEET) as harness:
        device = harness.fleet.devices[0]
        _reachable(harness, device)
        install = _profile_action(ActionKind.INSTALL_PROFILE, device, SAFARI_BAN)
        assert (await harness.connector.apply([install]))[0].outcome is Outcome.ACCEPTED
        harness.fleet.check_in(device)
        assert "com.zuludesk.MDM.iOS.bridge.ban-safari" in _installed(harness, device)

        remove = _profile_action(ActionKind.REMOVE_PROFILE, device, SAFARI_BAN)
        assert (await harness.connector.apply([remove]))[0].outcome is Outcome.ACCEPTED
        assert (await _moves_sent(harness))[-1]["path"] == "/api/devices/groups/remove"
        harness.fleet.check_in(device)
        assert "com.zuludesk.MDM.iOS.bridge.ban-safari" not in _installed(harness, device)


async def test_an_offline_device_is_accepted_not_done_until_it_checks_in() -> None:
    async with jamf_school_harness(FLEET) as harness:
        device = harness.fleet.devices[1]
        harness.fleet.set_offline(device)
        action = _profile_action(ActionKind.INSTALL_PROFILE, device, SAFARI_BAN)

        [result] = await harness.connector.apply([action])

        assert result.outcome is Outcome.ACCEPTED  # Jamf School took the move, nothing more
        await harness.let_time_pass(3 * 3600)
        assert "com.zuludesk.MDM.iOS.bridge.ban-safari" not in _installed(harness, device)
        [seen] = await harness.connector.observe([action.device])
        assert seen.groups == {SAFARI_BAN}
        assert SAFARI_BAN not in seen.profiles, "an undelivered move was reported done"
        assert [command.kind for command in seen.pending_commands] == ["install_profile"]

        _reachable(harness, device)
        await harness.let_time_pass(60)
        assert "com.zuludesk.MDM.iOS.bridge.ban-safari" in _installed(harness, device)
        [seen] = await harness.connector.observe([action.device])
        assert SAFARI_BAN in seen.profiles
        assert seen.pending_commands == ()


async def test_a_removal_counts_until_the_device_has_checked_in() -> None:
    async with jamf_school_harness(FLEET) as harness:
        device = harness.fleet.devices[1]
        safari = harness.fleet.group_by_name(SAFARI_BAN_GROUP)
        assert safari is not None
        harness.fleet.add_to_group(safari, [device])
        harness.fleet.set_offline(device)
        action = _profile_action(ActionKind.REMOVE_PROFILE, device, SAFARI_BAN)

        [result] = await harness.connector.apply([action])

        assert result.outcome is Outcome.ACCEPTED
        [seen] = await harness.connector.observe([action.device])
        assert seen.groups == frozenset()
        assert SAFARI_BAN in seen.profiles
        assert [command.kind for command in seen.pending_commands] == ["remove_profile"]
        _reachable(harness, device)
        await harness.let_time_pass(60)
        [seen] = await harness.connector.observe([action.device])
        assert seen.profiles == frozenset()


async def test_observation_reports_bridge_profiles_groups_and_check_in() -> None:
    async with jamf_school_harness(FLEET) as harness:
        fleet = harness.fleet
        in_curfew, in_both, outside = fleet.devices[2], fleet.devices[3], fleet.devices[4]
        fleet.add_to_group(fleet.group_by_name(CURFEW_GROUP), [in_curfew, in_both])  # type: ignore[arg-type]
        fleet.add_to_group(fleet.group_by_name(SAFARI_BAN_GROUP), [in_both])  # type: ignore[arg-type]
        refs = [_ref(d) for d in (in_curfew, in_both, outside)]

        few = await harness.connector.observe(refs)  # one read per device
        many = await harness.connector.observe(refs + [_ref(d) for d in fleet.devices[5:20]])

        for observed in (few, many[:3]):
            assert [o.ref for o in observed] == refs
            assert [o.profiles for o in observed] == [{CURFEW}, {CURFEW, SAFARI_BAN}, frozenset()]
            assert [o.groups for o in observed] == [{CURFEW}, {CURFEW, SAFARI_BAN}, frozenset()]
            assert [o.supervised for o in observed] == [
                d.supervised for d in (in_curfew, in_both, outside)
            ]
            for o, device in zip(observed, (in_curfew, in_both, outside), strict=True):
                assert o.last_check_in is not None
                # the list gives whole seconds of local wall-clock time, the single read more
                assert abs(o.last_check_in.timestamp() - device.last_checkin) < 1
                assert o.observed_at == harness.clock.now()
        # "KS2 pupils" is not a bridge group, so it never shows up
        assert all(o.groups <= {CURFEW, SAFARI_BAN} for o in many)


async def test_unknown_devices_fail_alone_and_the_rest_of_the_move_goes_through() -> None:
    async with jamf_school_harness(FLEET) as harness:
        known = harness.fleet.devices[:3]
        ghost = DeviceRef(mdm_instance="jamf-school", vendor_id="0" * 40, serial_number="GHOST")
        profile = ProfileRef(identifier=CURFEW, content_hash="c1")
        actions = [_profile_action(ActionKind.INSTALL_PROFILE, d, CURFEW) for d in known]
        actions.insert(1, Action(kind=ActionKind.INSTALL_PROFILE, device=ghost, target_hash="t",
                                 reason="test", profile=profile))  # fmt: skip

        results = await harness.connector.apply(actions)

        assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.FAILED] + [
            Outcome.ACCEPTED
        ] * 2
        assert results[1].failure is FailureKind.PERMANENT
        assert "does not know this device" in results[1].detail
        curfew = harness.fleet.group_by_name(CURFEW_GROUP)
        assert curfew is not None
        assert curfew.members == {d.device_id for d in known}


async def test_lock_is_refused_while_the_profile_change_beside_it_is_sent() -> None:
    async with jamf_school_harness(FLEET) as harness:
        device = harness.fleet.devices[0]
        intent = LockIntent(cause=LockCause.CURFEW, message="Rest time")
        lock = Action(kind=ActionKind.LOCK, device=_ref(device), target_hash="t", reason="curfew",
                      lock=intent)  # fmt: skip
        install = _profile_action(ActionKind.INSTALL_PROFILE, device, CURFEW)

        results = await harness.connector.apply([lock, install])

        assert [r.outcome for r in results] == [Outcome.REFUSED, Outcome.ACCEPTED]
        assert "cannot lock" in results[0].detail


async def test_an_unmapped_profile_is_a_configuration_failure_and_sends_nothing() -> None:
    async with jamf_school_harness(FLEET) as harness:
        device = harness.fleet.devices[0]
        action = _profile_action(ActionKind.INSTALL_PROFILE, device, "org.mdm-bridge.unknown")

        [result] = await harness.connector.apply([action])

        assert result.outcome is Outcome.FAILED
        assert result.failure is FailureKind.AUTH
        assert "org.mdm-bridge.unknown" in result.detail
        assert "profile_groups" in result.detail
        assert await _moves_sent(harness) == []


async def test_group_moves_converge_under_5xx_and_429_bursts() -> None:
    async with jamf_school_harness(FLEET) as harness:
        await harness.set_faults(errorShare=0.4, rateLimitShare=0.2, retryAfterSeconds=3)
        devices = harness.fleet.devices[:30]
        pending = [_profile_action(ActionKind.INSTALL_PROFILE, d, CURFEW) for d in devices]
        pending += [_profile_action(ActionKind.INSTALL_PROFILE, d, SAFARI_BAN) for d in devices]
        rounds = 0
        while pending and rounds < 10:  # what the outbox does: retry what did not go through
            rounds += 1
            results: list[ActionResult] = await harness.connector.apply(pending)
            assert all(r.failure in (None, FailureKind.TEMPORARY) for r in results)
            pending = [r.action for r in results if r.outcome is not Outcome.ACCEPTED]
        assert pending == []
        wanted = {d.device_id for d in devices}
        for name in (CURFEW_GROUP, SAFARI_BAN_GROUP):
            group = harness.fleet.group_by_name(name)
            assert group is not None
            assert group.members == wanted


async def test_verify_resolves_names_and_ids_to_the_tenants_groups() -> None:
    async with jamf_school_harness(FLEET) as harness:
        group_map = await _connector(harness).verify()
        assert {p: g.group_id for p, g in group_map.by_profile.items()} == {
            profile: _group_id(harness, name) for profile, name in GROUP_NAMES.items()
        }


@pytest.mark.parametrize("list_key", ["deviceGroups", "DeviceGroups"])
async def test_verify_reads_either_casing_of_the_group_list(list_key: str) -> None:
    async with jamf_school_harness(
        FLEET, options=JamfSchoolOptions(group_list_key=list_key)
    ) as harness:
        assert set((await _connector(harness).verify()).by_profile) == set(GROUP_NAMES)


async def test_verify_names_every_missing_or_unusable_mapping() -> None:
    mapping: dict[str, int | str] = {
        CURFEW: CURFEW_GROUP,
        "org.mdm-bridge.ban.camera": "Bridge - ban: no Camera",
        "org.mdm-bridge.ban.games": 999,
        "org.mdm-bridge.supervised": "Supervised iPads",
    }
    async with jamf_school_harness(FLEET, mapping=mapping) as harness:
        with pytest.raises(AuthError) as raised:
            await _connector(harness).verify()
        message = raised.value.message
        assert (
            "'org.mdm-bridge.ban.camera' -> group 'Bridge - ban: no Camera' does not exist"
            in message
        )
        assert "'org.mdm-bridge.ban.games' -> group id 999 does not exist" in message
        assert "smart group" in message
        assert CURFEW_GROUP not in message
        # a batch in that state fails as configuration, with nothing moved
        action = _profile_action(ActionKind.INSTALL_PROFILE, harness.fleet.devices[0], CURFEW)
        [result] = await harness.connector.apply([action])
        assert result.failure is FailureKind.AUTH
        assert "does not exist" in result.detail
        assert await _moves_sent(harness) == []


async def test_a_group_deleted_after_start_fails_as_configuration_and_is_checked_again() -> None:
    mapping: dict[str, int | str] = {CURFEW: CURFEW_GROUP, "org.mdm-bridge.spare": "Bridge - spare"}
    async with jamf_school_harness(FLEET, mapping=mapping) as harness:
        spare = harness.fleet.create_group(name="Bridge - spare")
        await _connector(harness).verify()
        harness.fleet.delete_group(spare.group_id)
        action = _profile_action(
            ActionKind.INSTALL_PROFILE, harness.fleet.devices[0], "org.mdm-bridge.spare"
        )

        [result] = await harness.connector.apply([action])

        assert result.failure is FailureKind.AUTH
        assert "not in Jamf School any more" in result.detail
        with pytest.raises(AuthError, match="does not exist"):
            await harness.connector.observe([action.device])


async def test_wrong_credentials_are_an_auth_failure_that_shows_no_secret() -> None:
    async with jamf_school_harness(FLEET, api_key="WRONG-KEY-123") as harness:
        with pytest.raises(AuthError) as raised:
            [d async for d in harness.connector.list_devices()]
        assert "401" in raised.value.message
        assert "WRONG-KEY-123" not in raised.value.message
        assert "WRONG-KEY-123" not in repr(harness.connector)


async def _read_everything(connector: JamfSchoolConnector) -> None:
    await connector.verify()
    [d async for d in connector.list_devices()]


@pytest.mark.parametrize("missing", [Right.DEVICES_READ, Right.GROUPS_READ])
async def test_a_key_that_may_not_read_is_a_configuration_failure(missing: Right) -> None:
    key = ApiKey(key="LIMITED-KEY", rights=ALL_RIGHTS - {missing})
    options = JamfSchoolOptions(api_keys=(key,))
    async with jamf_school_harness(FLEET, options=options, api_key="LIMITED-KEY") as harness:
        with pytest.raises(AuthError, match="405") as raised:
            await _read_everything(_connector(harness))
        assert "LIMITED-KEY" not in raised.value.message


async def test_a_key_that_may_not_move_devices_fails_each_move_as_configuration() -> None:
    key = ApiKey(key="LIMITED-KEY", rights=ALL_RIGHTS - {Right.GROUPS_WRITE})
    options = JamfSchoolOptions(api_keys=(key,))
    async with jamf_school_harness(FLEET, options=options, api_key="LIMITED-KEY") as harness:
        action = _profile_action(ActionKind.INSTALL_PROFILE, harness.fleet.devices[0], CURFEW)
        [result] = await harness.connector.apply([action])
        assert result.failure is FailureKind.AUTH
        assert "405" in result.detail


async def test_a_refused_protocol_version_reads_as_a_configuration_error() -> None:
    options = JamfSchoolOptions(accepted_protocol_versions=frozenset({"4"}))
    async with jamf_school_harness(FLEET, options=options) as harness:
        with pytest.raises(AuthError, match="protocol_version"):
            [d async for d in harness.connector.list_devices()]
