"""`GET /metrics`: Prometheus text that parses, whose numbers match the database after a night's
runs, and connector failures counted by kind as they happen."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from connectors.base import (
    ActionResult,
    AuthError,
    Capability,
    FailureKind,
    Outcome,
    PermanentError,
    TemporaryError,
)
from mdm_bridge.metrics import CONTENT_TYPE, ConnectorErrors
from mdm_bridge.model import Action, ActionKind, DeviceRef, ObservedDevice, Vendor
from mdm_bridge.reconcile.curfew_nights import NIGHTS
from mdm_bridge.reconcile.outbox import TABLE as OUTBOX
from mdm_bridge.reconcile.run import RUNS
from tests.api.bridge import Bridge
from tests.api.test_devices_api import converge_daytime, curfew_night

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(bridge: Bridge, role: str = "service") -> Samples:
    async with bridge.as_(role) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE
    return samples(response.text)


async def test_figures_match_the_database_after_a_night(bridge: Bridge) -> None:
    await converge_daytime(bridge)
    await curfew_night(bridge)
    found = await scrape(bridge)
    with bridge.engine.connect() as connection:
        runs = connection.execute(select(RUNS.c.trigger, RUNS.c.finished_at)).all()
        outbox = connection.execute(
            select(OUTBOX.c.kind, OUTBOX.c.status, OUTBOX.c.outcome, func.count()).group_by(
                OUTBOX.c.kind, OUTBOX.c.status, OUTBOX.c.outcome
            )
        ).all()
        nights = dict(
            connection.execute(
                select(NIGHTS.c.outcome, func.count()).group_by(NIGHTS.c.outcome)
            ).all()
        )
    assert len(runs) == 4
    assert all(finished is not None for _, finished in runs)
    by_kind = {"drift": 0, "curfew": 0, "other": 0}
    for trigger, _ in runs:
        kind = trigger.split()[0] if trigger.split()[0] in by_kind else "other"
        by_kind[kind] += 1
    assert by_kind == {"drift": 2, "curfew": 1, "other": 1}
    for kind, count in by_kind.items():
        labels = (("trigger", kind),)
        assert found[("mdm_bridge_reconcile_run_duration_seconds_count", labels)] == count
        inf = (("le", "+Inf"), ("trigger", kind))
        assert found[("mdm_bridge_reconcile_run_duration_seconds_bucket", inf)] == count
    actions = {
        (key[1][0][1], key[1][1][1]): value
        for key, value in found.items()
        if key[0] == "mdm_bridge_actions_total"
    }
    expected = {
        (kind, outcome if status == "sent" else status): float(count)
        for kind, status, outcome, count in outbox
        if status not in ("queued", "claimed")
    }
    assert actions == expected
    assert actions[("lock", "accepted")] + actions.get(("lock", "pending"), 0) > 0
    curfew = {
        key[1][0][1]: value for key, value in found.items() if key[0] == "mdm_bridge_curfew_devices"
    }
    assert curfew == {
        outcome: float(nights.get(outcome, 0))
        for outcome in ("on_time", "late", "never", "not_applicable")
    }
    assert curfew["on_time"] > 0
    assert sum(curfew.values()) == len(bridge.fleet.devices)
    errors = [v for k, v in found.items() if k[0] == "mdm_bridge_connector_errors_total"]
    assert len(errors) == 9
    assert sum(errors) == 0


async def test_only_technicians_and_the_service_token_scrape(bridge: Bridge) -> None:
    assert await scrape(bridge, "technician")
    for role in ("teacher", "senior_leader", "dsl", "auditor"):
        async with bridge.as_(role) as client:
            assert (await client.get("/metrics")).status_code == 403, role
    async with bridge.client() as client:
        assert (await client.get("/metrics")).status_code == 401


class FlakyConnector:
    """A connector whose every call fails the way it is told to."""

    name = "flaky"
    vendor = Vendor.JAMF_PRO
    capabilities = frozenset({Capability.LOST_MODE})

    def __init__(self, error: Exception | None) -> None:
        self.error = error

    async def observe(self, devices: Sequence[DeviceRef]) -> list[ObservedDevice]:
        if self.error:
            raise self.error
        return []

    async def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        if self.error:
            raise self.error
        kinds = (FailureKind.TEMPORARY, FailureKind.PERMANENT, None)
        return [
            ActionResult(
                action=action,
                outcome=Outcome.ACCEPTED if kind is None else Outcome.FAILED,
                failure=kind,
            )
            for action, kind in zip(actions, kinds, strict=False)
        ]

    async def list_devices(self) -> AsyncIterator[DeviceRef]:
        if self.error:
            raise self.error
        yield DeviceRef(mdm_instance="flaky", vendor_id="1", serial_number="S1")

    async def aclose(self) -> None:
        return None

    async def read_outcomes(self, results: Sequence[ActionResult]) -> list[ActionResult]:
        return list(results)


def errors_of(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    found = samples(generate_latest(registry).decode())
    return {
        (dict(labels)["kind"], dict(labels)["operation"]): value
        for (name, labels), value in found.items()
        if name == "mdm_bridge_connector_errors_total" and value
    }


async def test_connector_failures_are_counted_by_kind_and_passed_on() -> None:
    registry = CollectorRegistry()
    counting = ConnectorErrors()
    registry.register(counting)
    ref = DeviceRef(mdm_instance="flaky", vendor_id="1", serial_number="S1")
    failing = {
        "temporary": TemporaryError("the MDM answered 503", retry_after=30.0),
        "permanent": PermanentError("no such device"),
        "auth_config": AuthError("the client secret was refused"),
    }
    for error in failing.values():
        watched: Any = counting.watch(FlakyConnector(error))
        with pytest.raises(type(error)):
            await watched.observe([ref])
        with pytest.raises(type(error)):
            await watched.apply([])
        with pytest.raises(type(error)):
            async for _ in watched.list_devices():
                pass
    lock = Action(kind=ActionKind.UNLOCK, device=ref, target_hash="h", reason="test")
    working: Any = counting.watch(FlakyConnector(None))
    results = await working.apply([lock, lock, lock])
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.FAILED, Outcome.ACCEPTED]
    assert [ref async for ref in working.list_devices()] == [ref]
    assert await working.read_outcomes(results) == results  # optional protocols pass through
    assert errors_of(registry) == {
        ("temporary", "observe"): 1,
        ("temporary", "apply"): 2,  # one call that raised, one failed result
        ("temporary", "inventory"): 1,
        ("permanent", "observe"): 1,
        ("permanent", "apply"): 2,
        ("permanent", "inventory"): 1,
        ("auth_config", "observe"): 1,
        ("auth_config", "apply"): 1,
        ("auth_config", "inventory"): 1,
    }
