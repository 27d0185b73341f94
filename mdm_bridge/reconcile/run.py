"""One reconcile run: observe -> decide -> plan -> queue (with the run record) -> apply.

`Reconciler.reconcile` is what the scheduler, the CLI and (later) the API call. It is
level-triggered: every run computes the desired state from the clock, so a missed or repeated
run is harmless. Observations are stored, so `preview` can say what a run would do at any time
without asking the MDM. An instance whose observation fails is not planned this run (planning
on stale state could repeat a change); its error is recorded and the next run tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from connectors.base import Connector, ConnectorError
from mdm_bridge.clock import Clock
from mdm_bridge.model import Action, ObservedDevice
from mdm_bridge.reconcile import outbox
from mdm_bridge.reconcile.curfew_nights import judge_nights, load_nights, save_nights
from mdm_bridge.reconcile.executor import Executor, Sent
from mdm_bridge.reconcile.facts import (
    DEVICES,
    OBSERVATIONS,
    DeviceRecord,
    Facts,
    device_ref,
    load_facts,
    observation_values,
)
from mdm_bridge.reconcile.plan import DevicePlan, Unsent, plan_device, resolve_lock
from mdm_bridge.store.engine import upsert_insert
from mdm_bridge.store.engine_tables import ReconcileRun
from policies import CurfewVerdict, Decision, Policy, desired_state, lock_profile

log = logging.getLogger(__name__)
RUNS = ReconcileRun.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceOutcome:
    record: DeviceRecord
    decision: Decision
    plan: DevicePlan
    observed: ObservedDevice | None


@dataclass(kw_only=True)
class Preview:
    """What a run at `at` would do, device by device, with the reasons."""

    at: datetime
    devices: list[DeviceOutcome] = field(default_factory=list)

    @property
    def actions(self) -> list[Action]:
        return [action for device in self.devices for action in device.plan.actions]

    def verdicts(self) -> Counter[CurfewVerdict]:
        return Counter(device.decision.curfew for device in self.devices)


@dataclass(kw_only=True)
class RunSummary:
    run_id: int
    trigger: str
    devices: int = 0
    converged: int = 0
    queued: int = 0
    superseded: int = 0
    blocked: int = 0
    sent: Sent = field(default_factory=Sent)
    errors: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Reconciler:
    database: Engine
    clock: Clock
    policy: Policy
    connectors: Mapping[int, Connector]  # by MDM instance id
    worker: str
    outbox_lease: timedelta = outbox.DEFAULT_LEASE  # renewed while sending (see executor.py)

    # -- deciding, without touching the MDM ------------------------------------------------
    def preview(self, at: datetime, device_ids: Sequence[int] | None = None) -> Preview:
        """Decide and plan every device at `at` from stored observations and the outbox."""
        with self.database.connect() as connection:
            facts = load_facts(connection, device_ids=device_ids)
            unsent = outbox.unsent(connection, device_ids)
            delivered = outbox.delivered(connection, device_ids)
        preview = Preview(at=at)
        for record in facts.devices:
            preview.devices.append(self._decide(record, facts, unsent, delivered, at))
        return preview

    def _decide(
        self,
        record: DeviceRecord,
        facts: Facts,
        unsent: Mapping[int, Sequence[Unsent]],
        delivered: Mapping[int, Mapping[str, str]],
        at: datetime,
    ) -> DeviceOutcome:
        pupil = facts.pupils.get(record.pupil_id) if record.pupil_id is not None else None
        reference = pupil.reference if pupil else ""
        observed = facts.observations.get(record.device_id)
        device = record.facts
        if observed is not None and observed.supervised != device.supervised:
            device = replace(device, supervised=observed.supervised)
        decision = desired_state(
            device=device,
            pupil=pupil,
            policy=self.policy,
            bans=facts.bans.get(reference, ()),
            exemptions=facts.exemptions_for(pupil),
            agreements=facts.agreements.get(reference, ()),
            holds=facts.holds.get(record.facts.ref.key, ()),
            now=at,
        )
        connector = self.connectors.get(record.instance_id)
        capabilities = connector.capabilities if connector else frozenset()
        desired, documents = resolve_lock(
            decision.desired,
            capabilities,
            decision.documents,
            lambda intent: lock_profile(self.policy, intent),
        )
        plan = (
            plan_device(
                desired,
                observed,
                capabilities=capabilities,
                documents=documents,
                unsent=unsent.get(record.device_id, ()),
                delivered=delivered.get(record.device_id),
            )
            if connector
            else DevicePlan(blocked=("its MDM connection is not configured",))
        )
        return DeviceOutcome(record=record, decision=decision, plan=plan, observed=observed)

    # -- a whole run ---------------------------------------------------------------------------
    async def reconcile(
        self, *, trigger: str, device_ids: Sequence[int] | None = None
    ) -> RunSummary:
        started = self.clock.now()
        errors: list[str] = []
        skipped: set[int] = set()
        for instance_id, connector in self.connectors.items():
            try:
                await self.observe(instance_id, connector, device_ids)
            except ConnectorError as error:
                errors.append(f"{connector.name}: observation failed: {error.message}")
                skipped.add(instance_id)
        at = self.clock.now()
        preview = await asyncio.to_thread(self.preview, at, device_ids)
        kept = [d for d in preview.devices if d.record.instance_id not in skipped]
        summary = await asyncio.to_thread(self._queue, trigger, started, kept, errors)
        for instance_id, connector in self.connectors.items():
            if instance_id in skipped:
                continue
            sent = await Executor(
                database=self.database,
                clock=self.clock,
                worker=self.worker,
                lease=self.outbox_lease,
            ).drain(instance_id, connector)
            _add(summary.sent, sent)
            summary.errors += sent.errors
        await asyncio.to_thread(self._finish, summary)
        log.info(
            "reconcile %s (%s): %d devices, %d converged, %d queued, %d sent, %d blocked",
            summary.run_id,
            trigger,
            summary.devices,
            summary.converged,
            summary.queued,
            summary.sent.sent,
            summary.blocked,
        )
        return summary

    async def observe(
        self, instance_id: int, connector: Connector, device_ids: Sequence[int] | None = None
    ) -> int:
        """Ask the MDM about this instance's devices and store what it says."""
        query = select(DEVICES).where(DEVICES.c.mdm_instance_id == instance_id)
        if device_ids is not None:
            query = query.where(DEVICES.c.id.in_(list(device_ids)))
        with self.database.connect() as connection:
            rows = list(connection.execute(query))
        refs = [device_ref(row, connector.name) for row in rows]
        by_key = {ref.key: row.id for ref, row in zip(refs, rows, strict=True)}
        observed = await connector.observe(refs)
        values = [observation_values(by_key[o.ref.key], o) for o in observed if o.ref.key in by_key]
        await asyncio.to_thread(self._store_observations, values)
        return len(values)

    def _store_observations(self, values: list[dict[str, object]]) -> None:
        if not values:
            return
        with self.database.begin() as connection:
            builder = upsert_insert(connection)
            statement = builder(OBSERVATIONS)
            columns = {
                name: getattr(statement.excluded, name) for name in values[0] if name != "device_id"
            }
            upsert = statement.on_conflict_do_update(index_elements=["device_id"], set_=columns)
            for start in range(0, len(values), 2000):
                connection.execute(upsert, values[start : start + 2000])

    def _queue(
        self, trigger: str, started: datetime, devices: list[DeviceOutcome], errors: list[str]
    ) -> RunSummary:
        now = self.clock.now()
        with self.database.begin() as connection:
            run_id = connection.execute(
                insert(RUNS)
                .values(trigger=trigger[:100], started_at=started, status="running", errors=[])
                .returning(RUNS.c.id)
            ).scalar_one()
            rows = [
                (d.record.instance_id, d.record.device_id, action)
                for d in devices
                for action in d.plan.actions
            ]
            queued = outbox.queue(connection, rows, run_id=run_id, now=now)
            stale = [key for d in devices for key in d.plan.stale]
            superseded = outbox.cancel(connection, stale, now=now, why="the desired state changed")
            nights = judge_nights(
                [(d.record.device_id, d.decision, d.plan, d.observed) for d in devices],
                self.policy,
                load_nights(connection, now, self.policy),
                now=now,
            )
            save_nights(connection, nights)
        summary = RunSummary(
            run_id=run_id,
            trigger=trigger,
            devices=len(devices),
            converged=sum(1 for d in devices if d.plan.converged),
            queued=queued,
            superseded=superseded,
            blocked=sum(1 for d in devices if d.plan.blocked),
            errors=list(errors),
        )
        return summary

    def _finish(self, summary: RunSummary) -> None:
        sent = summary.sent
        with self.database.begin() as connection:
            connection.execute(
                update(RUNS)
                .where(RUNS.c.id == summary.run_id)
                .values(
                    finished_at=self.clock.now(),
                    status="failed" if summary.errors else "done",
                    devices=summary.devices,
                    converged=summary.converged,
                    queued=summary.queued,
                    superseded=summary.superseded,
                    sent=sent.sent,
                    accepted=sent.accepted,
                    pending=sent.pending,
                    failed=sent.failed,
                    refused=sent.refused,
                    blocked=summary.blocked,
                    errors=summary.errors[:50],
                )
            )


def _add(total: Sent, more: Sent) -> None:
    total.sent += more.sent
    total.accepted += more.accepted
    total.pending += more.pending
    total.failed += more.failed
    total.refused += more.refused
    total.already_done += more.already_done
