"""The scheduler: which edges it plans, and one active replica through the lease row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from mdm_bridge.clock import FakeClock
from mdm_bridge.scheduler import HORIZON, Scheduler, edges, lease_holder, release_lease, take_lease
from mdm_bridge.store import migrate
from mdm_bridge.store.engine import create_database_engine
from policies import DEFAULT_POLICY_DIR, load_policy

POLICY = load_policy(DEFAULT_POLICY_DIR)
# Saturday 24 October 2026, 12:00 UTC: the UK clocks go back that night.
NOON = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def test_edges_are_the_curfew_edges_and_ban_times_in_the_next_two_days() -> None:
    ban_start, ban_end = NOON + timedelta(hours=3), NOON + timedelta(days=5)
    found = edges(POLICY, [(7, ban_start, ban_end)], NOON)
    assert [(e.at, e.why) for e in found] == [
        (ban_start, "ban 7 starts"),
        (datetime(2026, 10, 24, 19, 0, tzinfo=UTC), "curfew starts"),  # 20:00 BST
        (datetime(2026, 10, 25, 7, 0, tzinfo=UTC), "curfew ends"),  # 07:00 GMT
        (datetime(2026, 10, 25, 20, 0, tzinfo=UTC), "curfew starts"),
        (datetime(2026, 10, 26, 7, 0, tzinfo=UTC), "curfew ends"),
    ]
    assert all(NOON < e.at <= NOON + HORIZON for e in found)


def test_one_holder_at_a_time_and_a_lapsed_lease_changes_hands(engine: Engine) -> None:
    assert take_lease(engine, holder="a", now=NOON, ttl=TTL)
    assert not take_lease(engine, holder="b", now=NOON + timedelta(seconds=30), ttl=TTL)
    assert take_lease(engine, holder="a", now=NOON + timedelta(seconds=40), ttl=TTL), "renewal"
    assert lease_holder(engine, now=NOON + timedelta(seconds=90)) == "a"
    # a stops renewing: once the lease lapses, b takes over
    later = NOON + timedelta(seconds=101)
    assert lease_holder(engine, now=later) is None
    assert take_lease(engine, holder="b", now=later, ttl=TTL)
    assert not take_lease(engine, holder="a", now=later, ttl=TTL)
    release_lease(engine, holder="b")
    assert take_lease(engine, holder="a", now=later, ttl=TTL), "a released lease is free at once"


async def test_the_lease_holder_schedules_edges_and_the_other_stands_by(engine: Engine) -> None:
    clock = FakeClock(NOON)
    runs: list[str] = []

    async def reconcile(why: str) -> None:
        runs.append(why)

    async def sync() -> None:
        runs.append("inventory")

    def replica(name: str) -> Scheduler:
        return Scheduler(
            database=engine,
            clock=clock,
            policy=lambda: POLICY,
            holder=name,
            reconcile=reconcile,
            sync_inventory=sync,
            drift_seconds=300,
            inventory_seconds=3600,
            lease_seconds=60,
            grace_seconds=900,
        )

    first, second = replica("first"), replica("second")
    await first.start()
    await second.start()
    try:
        assert (first.active, second.active) == (True, False)
        planned = await first.refresh()
        assert [e.why for e in planned][:2] == ["curfew starts", "curfew ends"]
        assert await second.refresh() == [], "a standby plans nothing"
        jobs = {job.id: job for job in first._aps.get_jobs()}  # type: ignore[union-attr]
        assert {"lease", "drift", "inventory"} <= set(jobs)
        edge = next(job for name, job in jobs.items() if name.startswith("edge "))
        assert edge.misfire_grace_time == 900
        assert edge.next_run_time == datetime(2026, 10, 24, 19, 0, tzinfo=UTC)
        assert edge.args == ("curfew starts at 2026-10-24T19:00:00+00:00",)
        assert {job.id for job in second._aps.get_jobs()} == {"lease"}  # type: ignore[union-attr]
    finally:
        await first.stop()
        await second.stop()
    assert lease_holder(engine, now=NOON) is None, "stopping gives the lease back"


async def test_every_replica_tends_the_lease_on_a_timer(engine: Engine) -> None:
    """A paused lease job (APScheduler's `next_run_time=None`) never renewed the active
    replica's lease nor let a standby take over: found by the two-replica process test."""
    clock = FakeClock(NOON)

    async def nothing(*_: object) -> None:
        return None

    replicas = [
        Scheduler(
            database=engine,
            clock=clock,
            policy=lambda: POLICY,
            holder=name,
            reconcile=nothing,
            sync_inventory=nothing,
            drift_seconds=300,
            inventory_seconds=3600,
            lease_seconds=60,
            grace_seconds=900,
        )
        for name in ("first", "second")
    ]
    for replica in replicas:
        await replica.start()
    try:
        for replica in replicas:
            lease_job = replica._aps.get_job("lease")  # type: ignore[union-attr]
            assert lease_job is not None
            assert lease_job.next_run_time is not None, f"{replica.holder}: lease job paused"
    finally:
        for replica in replicas:
            await replica.stop()
