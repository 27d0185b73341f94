"""Jamf Pro actions against the mock: profile content, group membership, observation."""

from __future__ import annotations

import dataclasses
import plistlib
from datetime import UTC

from connectors.base import FailureKind, Outcome
from mdm_bridge.model import (
    Action,
    ActionKind,
    DeviceRef,
    LockCause,
    LockIntent,
    LockState,
    ProfileDocument,
)
from mocks.jamf_pro.state import JamfProState
from tests.connectors.harness import Harness
from tests.connectors.harness_jamf_pro import CURFEW, jamf_pro

GROUP = "mdm-bridge: org.mdm-bridge.curfew"


async def _devices(harness: Harness, count: int) -> list[DeviceRef]:
    chosen = []
    async for device in harness.connector.list_devices():
        truth = await harness.device_truth(device.serial_number)
        if truth.online and truth.supervised:
            chosen.append(device)
        if len(chosen) == count:
            break
    return chosen


def _install(device: DeviceRef, document: ProfileDocument = CURFEW) -> Action:
    return Action(
        kind=ActionKind.INSTALL_PROFILE,
        device=device,
        target_hash="t",
        reason="curfew",
        profile=document.ref,
        document=document,
    )


def _state(harness: Harness) -> JamfProState:
    state = harness.extra["state"]
    assert isinstance(state, JamfProState)
    return state


async def _writes(harness: Harness) -> list[str]:
    return [
        f"{r['method']} {r['path']}"
        for r in await harness.requests_seen()
        if r["method"] != "GET" and "token" not in r["path"]
    ]


async def test_a_profile_is_uploaded_once_with_its_removal_date_and_scoped_to_its_group() -> None:
    async with jamf_pro(20) as harness:
        devices = await _devices(harness, 4)
        results = await harness.connector.apply([_install(d) for d in devices])
        assert {r.outcome for r in results} == {Outcome.ACCEPTED}
        [profile] = harness.fleet.profiles()
        document = plistlib.loads(profile.payload)
        assert document["PayloadIdentifier"] == "org.mdm-bridge.curfew"
        assert document["RemovalDate"].replace(tzinfo=UTC) == CURFEW.removal_date
        assert document["PayloadContent"][0]["allowSafari"] is False
        assert document["PayloadContent"][0]["PayloadUUID"]
        group = harness.fleet.group_by_name(GROUP)
        assert group is not None
        assert profile.scope.group_ids == {group.group_id}
        assert group.members == {int(d.vendor_id) for d in devices}
        assert len(await _writes(harness)) == 3  # group, profile, one membership edit

        before = await _writes(harness)
        await harness.connector.apply([_install(d) for d in devices])
        assert await _writes(harness) == before, "an unchanged profile and group were rewritten"


async def test_changed_content_updates_the_same_profile_with_a_stable_identifier() -> None:
    async with jamf_pro(20) as harness:
        [device] = await _devices(harness, 1)
        await harness.connector.apply([_install(device)])
        stricter = dataclasses.replace(
            CURFEW, payloads=({"PayloadType": "com.apple.applicationaccess", "allowCamera": False},)
        )
        assert stricter.content_hash != CURFEW.content_hash
        [result] = await harness.connector.apply([_install(device, stricter)])
        assert result.outcome is Outcome.ACCEPTED
        [profile] = harness.fleet.profiles()
        assert profile.version == 2
        assert plistlib.loads(profile.payload)["PayloadIdentifier"] == CURFEW.identifier
        assert (await _writes(harness))[-1].startswith("PUT /JSSResource/mobiledeviceconfig")


async def test_membership_changes_are_diffed_into_one_edit() -> None:
    async with jamf_pro(20) as harness:
        a, b, c = await _devices(harness, 3)
        await harness.connector.apply([_install(a), _install(b)])
        remove_b = Action(
            kind=ActionKind.REMOVE_PROFILE,
            device=b,
            target_hash="t",
            reason="ban over",
            profile=CURFEW.ref,
        )
        edits_before = len(await _writes(harness))
        results = await harness.connector.apply([_install(a), _install(c), remove_b])
        assert [r.detail.split(" ")[0] for r in results] == ["already", "added", "removed"]
        assert len(await _writes(harness)) == edits_before + 1
        group = harness.fleet.group_by_name(GROUP)
        assert group is not None
        assert group.members == {int(a.vendor_id), int(c.vendor_id)}


async def test_observation_reports_groups_profiles_lost_mode_and_pending_locks() -> None:
    async with jamf_pro(20) as harness:
        online, offline = await _devices(harness, 2)
        await harness.take_offline(offline.serial_number)
        lock = LockIntent(cause=LockCause.BAN, message="See your teacher")
        actions = [
            Action(kind=ActionKind.LOCK, device=d, target_hash="t", reason="ban", lock=lock)
            for d in (online, offline)
        ] + [_install(online)]
        assert {r.outcome for r in await harness.connector.apply(actions)} == {Outcome.ACCEPTED}
        await harness.check_in_online()
        seen = {o.ref: o for o in await harness.connector.observe([online, offline])}
        assert seen[online].lock is LockState.LOCKED
        assert seen[online].groups == {GROUP.removeprefix("mdm-bridge: ")}
        assert seen[online].pending_commands == ()
        # Lost Mode refuses profile installs (12078): in the group, yet not installed
        assert seen[online].profiles == frozenset()
        assert seen[offline].lock is LockState.UNLOCKED
        assert [c.kind for c in seen[offline].pending_commands] == ["lock"]
        assert seen[online].observed_at == harness.clock.now()
        sent = harness.fleet.pending_for(harness.fleet.devices[int(offline.vendor_id) - 1])
        assert sent[0].params == {"message": "See your teacher"}


async def test_actions_jamf_cannot_carry_fail_permanently_without_a_request() -> None:
    async with jamf_pro(5) as harness:
        [device] = await _devices(harness, 1)
        no_id = dataclasses.replace(device, management_id=None)
        not_jamf = dataclasses.replace(device, vendor_id="ipad-7")
        lock = LockIntent(cause=LockCause.CURFEW, message="Rest")
        silent = LockIntent(cause=LockCause.CURFEW, message="")
        actions = [
            Action(kind=ActionKind.LOCK, device=no_id, target_hash="t", reason="r", lock=lock),
            Action(
                kind=ActionKind.INSTALL_PROFILE,
                device=device,
                target_hash="t",
                reason="r",
                profile=CURFEW.ref,
            ),
            Action(kind=ActionKind.UNLOCK, device=no_id, target_hash="t", reason="r"),
            Action(kind=ActionKind.LOCK, device=device, target_hash="t", reason="r", lock=silent),
            Action(
                kind=ActionKind.REMOVE_PROFILE,
                device=not_jamf,
                target_hash="t",
                reason="r",
                profile=CURFEW.ref,
            ),
        ]
        results = await harness.connector.apply(actions)
        assert {r.failure for r in results} == {FailureKind.PERMANENT}
        assert "managementId" in results[0].detail
        assert "content" in results[1].detail
        assert "managementId" in results[2].detail
        assert "message" in results[3].detail
        assert "not a Jamf Pro mobile device id" in results[4].detail
        assert await _writes(harness) == []
