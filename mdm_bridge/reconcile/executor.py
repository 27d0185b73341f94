"""From outbox rows to connector bulk calls, and the answers back into the outbox.

A worker claims a batch of one MDM instance's rows, sends them kind by kind in the planner's
order (unlocks, profile removals, installs, locks: a locked iPad refuses installs), and records
one answer per row. A row claimed before (its worker died after claiming it) may already have
reached the MDM, so those devices are re-read first and a change already there is not sent
again: no action goes out twice for the same target state.

While a batch is out, a heartbeat renews the worker's lease on its rows every third of the
lease, so a slow MDM never makes a live worker's rows look abandoned, and the lease can stay
short: rows of a worker killed mid-send are due again one lease after its last heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import ActionResult, Connector, ConnectorError, FailureKind, Outcome
from mdm_bridge.clock import Clock
from mdm_bridge.model import Action, ActionKind, LockState, ObservedDevice
from mdm_bridge.reconcile import outbox
from mdm_bridge.reconcile.plan import ORDER, heading_to

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Sent:
    """What one drain did, by outcome."""

    sent: int = 0
    accepted: int = 0
    pending: int = 0
    failed: int = 0
    refused: int = 0
    already_done: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, result: ActionResult) -> None:
        self.sent += 1
        if result.outcome is Outcome.ACCEPTED:
            self.accepted += 1
        elif result.outcome is Outcome.PENDING:
            self.pending += 1
        elif result.outcome is Outcome.REFUSED:
            self.refused += 1
        else:
            self.failed += 1


def already_there(action: Action, observed: ObservedDevice) -> bool:
    """True when the MDM already holds (or the device already shows) what `action` asks."""
    heading = heading_to(observed)
    scoped = observed.groups | observed.profiles
    identifier = action.profile.identifier if action.profile else ""
    match action.kind:
        case ActionKind.LOCK:
            return heading is LockState.LOCKED
        case ActionKind.UNLOCK:
            return heading is LockState.UNLOCKED
        case ActionKind.INSTALL_PROFILE:
            return identifier in observed.groups
        case ActionKind.REMOVE_PROFILE:
            return identifier not in scoped
    return False


@dataclass(kw_only=True)
class Executor:
    database: Engine
    clock: Clock
    worker: str
    batch_size: int = 5000
    lease: timedelta = outbox.DEFAULT_LEASE
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # the heartbeat's wait

    async def drain(self, instance_id: int, connector: Connector) -> Sent:
        """Send every due row of one instance; stop when none is left or the MDM refuses us."""
        done = Sent()
        while True:
            claimed = await asyncio.to_thread(self._claim, instance_id)
            if not claimed:
                return done
            try:
                async with self._holding(claimed):
                    claimed = await self._drop_already_there(claimed, connector, done)
                    answers = await self._send(claimed, connector)
            except ConnectorError as error:
                done.errors.append(f"{connector.name}: {error.message}")
                answers = [(row, _failed(row.action, error)) for row in claimed]
                await asyncio.to_thread(self._finish, answers)
                for _, result in answers:
                    done.count(result)
                return done
            await asyncio.to_thread(self._finish, answers)
            for _, result in answers:
                done.count(result)

    def _claim(self, instance_id: int) -> list[outbox.Claimed]:
        with self.database.begin() as connection:
            return outbox.claim(
                connection,
                instance_id=instance_id,
                worker=self.worker,
                now=self.clock.now(),
                limit=self.batch_size,
                lease=self.lease,
            )

    @contextlib.asynccontextmanager
    async def _holding(self, claimed: Sequence[outbox.Claimed]) -> AsyncIterator[None]:
        """Renew the lease on `claimed` for as long as the block runs."""
        heartbeat = asyncio.create_task(self._heartbeat(claimed), name="outbox-lease-heartbeat")
        try:
            yield
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, claimed: Sequence[outbox.Claimed]) -> None:
        while True:
            await self.sleep(self.lease.total_seconds() / 3)
            try:
                await asyncio.to_thread(self._renew, claimed)
            except SQLAlchemyError as error:  # the next beat tries again; the lease has slack
                log.warning("could not renew the outbox lease (%s)", type(error).__name__)

    def _renew(self, claimed: Sequence[outbox.Claimed]) -> None:
        with self.database.begin() as connection:
            outbox.renew(
                connection, claimed, worker=self.worker, now=self.clock.now(), lease=self.lease
            )

    def _finish(self, answers: Sequence[tuple[outbox.Claimed, ActionResult]]) -> None:
        with self.database.begin() as connection:
            outbox.finish(connection, answers, worker=self.worker, now=self.clock.now())

    async def _drop_already_there(
        self, claimed: list[outbox.Claimed], connector: Connector, done: Sent
    ) -> list[outbox.Claimed]:
        uncertain = [row for row in claimed if row.attempts > 1]
        if not uncertain:
            return claimed
        devices = [row.action.device for row in uncertain]
        observed = {o.ref.key: o for o in await connector.observe(devices)}
        there = [
            row
            for row in uncertain
            if row.action.device.key in observed
            and already_there(row.action, observed[row.action.device.key])
        ]
        if there:
            why = "re-read after an interrupted send: the MDM already has it"
            with self.database.begin() as connection:
                outbox.settle_unneeded(
                    connection, there, worker=self.worker, now=self.clock.now(), why=why
                )
            done.already_done += len(there)
            log.info("%s: %d interrupted sends had already arrived", connector.name, len(there))
        skip = {row.row_id for row in there}
        return [row for row in claimed if row.row_id not in skip]

    async def _send(
        self, claimed: Sequence[outbox.Claimed], connector: Connector
    ) -> list[tuple[outbox.Claimed, ActionResult]]:
        answers: list[tuple[outbox.Claimed, ActionResult]] = []
        for kind in ORDER:
            rows = [row for row in claimed if row.action.kind is kind]
            if not rows:
                continue
            results = await connector.apply([row.action for row in rows])
            if len(results) != len(rows):
                raise RuntimeError(f"{connector.name} answered {len(results)} of {len(rows)}")
            answers += zip(rows, results, strict=True)
        return answers


def _failed(action: Action, error: ConnectorError) -> ActionResult:
    retry = getattr(error, "retry_after", None)
    return ActionResult(
        action=action,
        outcome=Outcome.FAILED,
        failure=error.kind if error.kind is not FailureKind.AUTH else FailureKind.TEMPORARY,
        retry_after=retry if retry is not None else 300.0,
        detail=error.message,
    )
