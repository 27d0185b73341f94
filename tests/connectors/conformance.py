"""One conformance suite for every connector, each against its own mock over ASGI.

What every connector owes the reconcile loop: a complete inventory across pages, even with the
mock's fault knobs on (5xx, 429 bursts, expired tokens, latency); an up-front refusal of any
action it lacks the capability for, with no request sent; and, for what it can do, bulk locks,
unlocks and profile changes that converge under the same faults when re-planned each round
(as the level-triggered reconcile loop does), with offline devices never reported as done.

Not collected itself: each `test_conformance_<vendor>.py` star-imports these tests and defines
the `harness` fixture for its connector, so every test here runs against every connector.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.base import (
    REQUIRED_CAPABILITY,
    ActionResult,
    Capability,
    FailureKind,
    Outcome,
    OutcomeReader,
)
from mdm_bridge.model import (
    Action,
    ActionKind,
    DeviceRef,
    LockCause,
    LockIntent,
    LockState,
    ObservedDevice,
    ProfileRef,
)
from tests.connectors.harness import Harness

DEVICES = 2_100  # more than two pages for every vendor's page size


async def _inventory(harness: Harness) -> list[DeviceRef]:
    return [device async for device in harness.connector.list_devices()]


async def test_inventory_is_complete_across_pages(harness: Harness) -> None:
    devices = await _inventory(harness)
    serials = [device.serial_number for device in devices]
    assert len(serials) == len(set(serials)), "a device was listed twice"
    assert set(serials) == harness.expected_serials
    assert all(device.mdm_instance == harness.connector.name for device in devices)


async def test_inventory_survives_5xx_429_and_latency(harness: Harness) -> None:
    await harness.set_faults(errorShare=0.2, rateLimitShare=0.1, retryAfterSeconds=5, latencyMs=1.0)
    serials = {device.serial_number for device in await _inventory(harness)}
    assert serials == harness.expected_serials
    assert 5.0 in harness.sleeper.delays, "Retry-After was not honoured"


async def test_inventory_survives_token_expiry_mid_run(harness: Harness) -> None:
    listed: list[str] = []
    async for device in harness.connector.list_devices():
        listed.append(device.serial_number)
        if len(listed) == 1:
            await harness.expire_tokens()
    assert set(listed) == harness.expected_serials
    assert len(listed) == len(harness.expected_serials)


def _every_kind_of_action(device: DeviceRef) -> list[Action]:
    curfew = LockIntent(cause=LockCause.CURFEW, message="Home iPads rest from 20:00")
    profile = ProfileRef(identifier="org.mdm-bridge.restrictions.ks2", content_hash="a1")
    extra: dict[ActionKind, dict[str, Any]] = {
        ActionKind.LOCK: {"lock": curfew},
        ActionKind.INSTALL_PROFILE: {"profile": profile},
        ActionKind.REMOVE_PROFILE: {"profile": profile},
    }
    return [
        Action(kind=kind, device=device, target_hash="t", reason="test", **extra.get(kind, {}))
        for kind in ActionKind
    ]


async def test_actions_beyond_capabilities_are_refused_up_front(harness: Harness) -> None:
    device = (await _inventory(harness))[0]
    actions = _every_kind_of_action(device)
    unsupported = [
        action
        for action in actions
        if Capability.INVENTORY_ONLY in harness.connector.capabilities
        or not _supported(action, harness.connector.capabilities)
    ]
    if not unsupported:
        assert Capability.INVENTORY_ONLY not in harness.connector.capabilities
        return
    before = len(await harness.requests_seen())
    results = await harness.connector.apply(unsupported)
    assert [result.action for result in results] == unsupported
    assert {result.outcome for result in results} == {Outcome.REFUSED}
    assert {result.failure for result in results} == {FailureKind.PERMANENT}
    assert all("cannot" in result.detail for result in results)
    assert len(await harness.requests_seen()) == before, "a refused action reached the MDM"


def _supported(action: Action, capabilities: frozenset[Capability]) -> bool:
    return REQUIRED_CAPABILITY[action.kind] in capabilities


# ---- actions ----------------------------------------------------------------------------------

CURFEW = LockIntent(cause=LockCause.CURFEW, message="Home iPads rest from 20:00")
FAULTS = {"errorShare": 0.2, "rateLimitShare": 0.05, "retryAfterSeconds": 3, "latencyMs": 5.0}
ROUNDS = 8
Planner = Callable[[ObservedDevice], Action | None]


async def _healthy_devices(harness: Harness, count: int) -> list[DeviceRef]:
    """Online, supervised iPads: the ones every action should reach."""
    chosen = []
    async for device in harness.connector.list_devices():
        truth = await harness.device_truth(device.serial_number)
        if truth.enrolled and truth.online and truth.supervised and not truth.lost_mode:
            chosen.append(device)
            if len(chosen) == count:
                return chosen
    raise AssertionError("the fleet has too few healthy devices for this test")


def _action(kind: ActionKind, device: DeviceRef, **extra: Any) -> Action:
    return Action(kind=kind, device=device, target_hash=kind.value, reason="conformance", **extra)


def _has_pending(observed: ObservedDevice, kind: str) -> bool:
    return any(command.kind == kind for command in observed.pending_commands)


async def _writes(harness: Harness) -> int:
    return sum(
        1
        for request in await harness.requests_seen()
        if request["method"] != "GET" and "token" not in str(request["path"])
    )


async def _converge(harness: Harness, devices: list[DeviceRef], plan: Planner) -> list[Action]:
    """Observe, plan, apply, let devices check in; until nothing is left to do.

    Returns every action sent. Expires every token after the first round, so a refresh happens
    mid-run. Fails when a round still has work after `ROUNDS`.
    """
    sent: list[Action] = []
    for round_number in range(ROUNDS):
        observed = await harness.connector.observe(devices)
        assert {o.ref.key for o in observed} == {d.key for d in devices}, "a device went unseen"
        actions = [action for o in observed if (action := plan(o)) is not None]
        if not actions:
            return sent
        results = await harness.connector.apply(actions)
        assert [r.action for r in results] == actions
        assert not [r for r in results if r.failure in (FailureKind.PERMANENT, FailureKind.AUTH)]
        sent += [r.action for r in results if r.outcome is not Outcome.FAILED]
        if round_number == 0:
            await harness.expire_tokens()
        await harness.let_time_pass(30 * 60)  # screens unlock, deferred installs come round
        await harness.check_in_online()
    raise AssertionError(f"still not converged after {ROUNDS} rounds")


async def _settle(harness: Harness) -> None:
    """Let two hours pass in check-in steps, so every locked screen unlocks and checks in.

    A connector whose MDM cannot show per-device profiles (Jamf School) converges in its own view
    while a passcode-locked iPad has still answered NotNow; the MDM offers the profile again at
    the next check-in. The device's real state is what must end right, so compare after this.
    """
    for _ in range(4):
        await harness.let_time_pass(30 * 60)
        await harness.check_in_online()


async def _refused_without_requests(harness: Harness, actions: list[Action]) -> None:
    before = len(await harness.requests_seen())
    results = await harness.connector.apply(actions)
    assert {r.outcome for r in results} == {Outcome.REFUSED}
    assert len(await harness.requests_seen()) == before


async def test_bulk_lock_and_unlock_converge_under_faults(harness: Harness) -> None:
    devices = await _healthy_devices(harness, 40)
    if Capability.LOST_MODE not in harness.connector.capabilities:
        await _refused_without_requests(
            harness, [_action(ActionKind.LOCK, d, lock=CURFEW) for d in devices]
        )
        return
    await harness.set_faults(**FAULTS)

    def lock(o: ObservedDevice) -> Action | None:
        if o.lock is LockState.LOCKED or _has_pending(o, "lock"):
            return None
        return _action(ActionKind.LOCK, o.ref, lock=CURFEW)

    def unlock(o: ObservedDevice) -> Action | None:
        if o.lock is LockState.UNLOCKED or _has_pending(o, "unlock"):
            return None
        return _action(ActionKind.UNLOCK, o.ref)

    locks = await _converge(harness, devices, lock)
    assert all([(await harness.device_truth(d.serial_number)).lost_mode for d in devices])
    if Capability.BULK_COMMANDS in harness.connector.capabilities:
        assert await _writes(harness) < len(locks), "locks were not sent in bulk"
    await _converge(harness, devices, unlock)
    truths = [await harness.device_truth(d.serial_number) for d in devices]
    assert not any(truth.lost_mode for truth in truths)


async def test_profiles_converge_under_faults(harness: Harness) -> None:
    devices = await _healthy_devices(harness, 30)
    document = harness.test_profile
    capable = Capability.PROFILES_BY_GROUP in harness.connector.capabilities
    if not capable or document is None:
        assert not capable or Capability.INVENTORY_ONLY in harness.connector.capabilities
        profile = ProfileRef(identifier="org.mdm-bridge.conformance", content_hash="c0")
        await _refused_without_requests(
            harness, [_action(ActionKind.INSTALL_PROFILE, d, profile=profile) for d in devices]
        )
        return
    await harness.set_faults(**FAULTS)
    identifier = document.identifier
    leaving = {d.key for d in devices[::3]}

    def install(o: ObservedDevice) -> Action | None:
        if identifier in o.profiles:
            return None
        return _action(ActionKind.INSTALL_PROFILE, o.ref, profile=document.ref, document=document)

    def remove_some(o: ObservedDevice) -> Action | None:
        if o.ref.key not in leaving or identifier not in o.profiles:
            return None
        return _action(ActionKind.REMOVE_PROFILE, o.ref, profile=document.ref)

    await _converge(harness, devices, install)
    await _settle(harness)
    for device in devices:
        assert identifier in (await harness.device_truth(device.serial_number)).profiles
    await _converge(harness, devices, remove_some)
    await _settle(harness)
    for device in devices:
        installed = identifier in (await harness.device_truth(device.serial_number)).profiles
        assert installed is (device.key not in leaving), device.serial_number


async def test_offline_devices_are_reported_pending_never_done(harness: Harness) -> None:
    devices = await _healthy_devices(harness, 12)
    locks = [_action(ActionKind.LOCK, d, lock=CURFEW) for d in devices]
    if Capability.LOST_MODE not in harness.connector.capabilities:
        await _refused_without_requests(harness, locks)
        return
    offline = {d.key for d in devices[:3]}
    for device in devices[:3]:
        await harness.take_offline(device.serial_number)
    results = await harness.connector.apply(locks)
    assert {r.outcome for r in results} <= {Outcome.ACCEPTED, Outcome.PENDING}
    await harness.check_in_online()

    observed = {o.ref.key: o for o in await harness.connector.observe(devices)}
    for device in devices:
        truth = await harness.device_truth(device.serial_number)
        seen = observed[device.key]
        if device.key in offline:
            assert not truth.lost_mode
            assert truth.pending_commands
            assert seen.lock is not LockState.LOCKED, "an offline device was reported locked"
        else:
            assert truth.lost_mode
            assert seen.lock is LockState.LOCKED
    if isinstance(harness.connector, OutcomeReader):
        await _outcomes_follow_the_devices(harness, results, offline)


async def _outcomes_follow_the_devices(
    harness: Harness, results: list[ActionResult], offline: set[str]
) -> None:
    assert isinstance(harness.connector, OutcomeReader)
    reread = await harness.connector.read_outcomes(results)
    for result in reread:
        expected = Outcome.PENDING if result.action.device.key in offline else Outcome.ACCEPTED
        assert result.outcome is expected, (result.action.device.serial_number, result.detail)
    for result in results:
        if result.action.device.key in offline:
            await harness.bring_online(result.action.device.serial_number)
    await harness.check_in_online()
    settled = await harness.connector.read_outcomes(results)
    assert {r.outcome for r in settled} == {Outcome.ACCEPTED}
