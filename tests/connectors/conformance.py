"""One conformance suite for every connector, each against its own mock over ASGI.

What every connector owes the reconcile loop: a complete inventory across pages, even with the
mock's fault knobs on (5xx, 429 bursts, expired tokens, latency); and an up-front refusal of any
action it lacks the capability for, with no request sent.

Not collected itself: each `test_conformance_<vendor>.py` star-imports these tests and defines
the `harness` fixture for its connector, so every test here runs against every connector.
"""

from __future__ import annotations

from typing import Any

from connectors.base import REQUIRED_CAPABILITY, Capability, FailureKind, Outcome
from mdm_bridge.model import Action, ActionKind, DeviceRef, LockCause, LockIntent, ProfileRef
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
