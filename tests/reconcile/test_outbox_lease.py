"""The outbox lease is renewed while a worker sends, so it can be short (found by the SIGKILL
process test: with a fixed two-minute lease a restarted service left the killed worker's
half-sent locks alone for two minutes, in the middle of a curfew edge)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine, select

from connectors.base import ActionResult, Outcome
from mdm_bridge.clock import FakeClock
from mdm_bridge.model import Action, ObservedDevice
from mdm_bridge.reconcile import outbox
from mdm_bridge.reconcile.executor import Executor
from tests.reconcile.conftest import NOW
from tests.reconcile.test_outbox import lock

LEASE = timedelta(seconds=6)


def test_renewing_extends_only_the_holders_claim(engine: Engine, fleet) -> None:  # type: ignore[no-untyped-def]
    instance, devices = fleet
    with engine.begin() as connection:
        outbox.queue(connection, [(instance, devices[0], lock(1))], run_id=None, now=NOW)
        held = outbox.claim(
            connection, instance_id=instance, worker="a", now=NOW, limit=10, lease=LEASE
        )
    renewed_at = NOW + timedelta(seconds=5)
    with engine.begin() as connection:
        assert outbox.renew(connection, held, worker="b", now=renewed_at, lease=LEASE) == 0
        assert outbox.renew(connection, held, worker="a", now=renewed_at, lease=LEASE) == 1
    with engine.begin() as connection:  # the first lease would have lapsed by now
        taken = outbox.claim(
            connection, instance_id=instance, worker="b", now=NOW + LEASE, limit=10
        )
    assert taken == []
    with engine.begin() as connection:
        taken = outbox.claim(
            connection, instance_id=instance, worker="b", now=renewed_at + LEASE, limit=10
        )
    assert [row.attempts for row in taken] == [2]


class SlowConnector:
    """Answers only once the clock is well past the lease the rows were claimed with, and
    meanwhile checks that no other worker could take them."""

    name = "slow"
    capabilities = frozenset()

    def __init__(self, engine: Engine, instance: int, clock: FakeClock) -> None:
        self.engine, self.instance, self.clock = engine, instance, clock
        self.past_the_lease = asyncio.Event()  # set by the heartbeat's wait
        self.taken_by_another: list[outbox.Claimed] | None = None

    async def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        await self.past_the_lease.wait()
        with self.engine.begin() as connection:
            self.taken_by_another = outbox.claim(
                connection, instance_id=self.instance, worker="b", now=self.clock.now(), limit=10
            )
        return [ActionResult(action=action, outcome=Outcome.ACCEPTED) for action in actions]

    async def observe(self, devices: Sequence[object]) -> list[ObservedDevice]:
        return []


async def test_a_slow_send_keeps_its_rows(engine: Engine, fleet) -> None:  # type: ignore[no-untyped-def]
    instance, devices = fleet
    clock = FakeClock(NOW)
    with engine.begin() as connection:
        outbox.queue(connection, [(instance, devices[0], lock(1))], run_id=None, now=NOW)

    connector = SlowConnector(engine, instance, clock)

    async def heartbeat_wait(seconds: float) -> None:  # time passes only between beats
        if clock.advance(seconds) >= NOW + 2 * LEASE:
            connector.past_the_lease.set()
        await asyncio.sleep(0)

    executor = Executor(database=engine, clock=clock, worker="a", lease=LEASE, sleep=heartbeat_wait)
    sent = await executor.drain(instance, connector)  # type: ignore[arg-type]

    assert connector.taken_by_another == []
    assert sent.accepted == 1
    with engine.connect() as connection:
        status = connection.execute(select(outbox.TABLE.c.status)).scalar_one()
    assert status == "sent"
