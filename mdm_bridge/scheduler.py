"""When to reconcile (DESIGN.md §3, step 6): curfew edges, ban starts and ends, a drift cycle and
an inventory sync, on one active scheduler per deployment.

The scheduler only says *when*; every run computes the desired state from the clock, so a
missed or repeated tick is harmless. What it schedules:
- a job at each curfew edge and each ban start and end in the next `HORIZON`, recomputed at
  every drift run and whenever policy or bans change (`refresh`);
- the drift reconcile every `drift_interval_seconds`, and the inventory sync hourly.

Exactly one replica is active: each one tries, every third of the lease, to take or renew the
`scheduler` row in `leases` (one conditional UPDATE, atomic on both databases). The holder
schedules; the others stand by and take over once the lease lapses unrenewed.

APScheduler choices, on purpose:
- `coalesce=True`: several missed drift ticks (a pause, a slow run) become one run, not a burst.
- `max_instances=1`: a slow run is never overlapped by the next tick of the same job.
- `misfire_grace_time` = `edge_grace_seconds` (15 minutes by default) for edge jobs: APScheduler's
  default of 1 s would silently drop a 20:00 lock when the loop is busy at 20:00; 15 minutes is
  still "tonight". Past that the next drift run does the same work anyway.
- The scheduler's time zone is the school's, never the host's.
Job times come from our clock (`edges`); APScheduler's own timer only wakes the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from mdm_bridge.clock import Clock
from mdm_bridge.store.engine_tables import SchedulerLease
from mdm_bridge.store.records import BanRow
from policies import Policy

log = logging.getLogger(__name__)
LEASES = SchedulerLease.__table__  # type: ignore[attr-defined]
BANS = BanRow.__table__  # type: ignore[attr-defined]
LEASE_NAME = "scheduler"
HORIZON = timedelta(hours=48)


@dataclass(frozen=True, kw_only=True, slots=True)
class Edge:
    at: datetime
    why: str


def edges(
    policy: Policy, ban_times: Sequence[tuple[int, datetime, datetime]], now: datetime
) -> list[Edge]:
    """Every instant in (now, now + HORIZON] at which some iPad's answer changes, in order.

    `ban_times` are (ban id, starts_at, ends_at). Pure: the same input, the same edges.
    """
    end = now + HORIZON
    found: list[Edge] = []
    cursor = now
    while True:
        edge = policy.schedule.next_edge(cursor)
        if edge is None or edge > end:
            break
        locking = policy.schedule.period_at(edge) is not None
        found.append(Edge(at=edge, why="curfew starts" if locking else "curfew ends"))
        cursor = edge
    for ban_id, starts_at, ends_at in ban_times:
        if now < starts_at <= end:
            found.append(Edge(at=starts_at, why=f"ban {ban_id} starts"))
        if now < ends_at <= end:
            found.append(Edge(at=ends_at, why=f"ban {ban_id} ends"))
    return sorted(found, key=lambda edge: (edge.at, edge.why))


def take_lease(
    database: Engine, *, holder: str, now: datetime, ttl: timedelta, name: str = LEASE_NAME
) -> bool:
    """Take or renew the lease for `holder`; False while another holder's lease is unexpired."""
    with database.begin() as connection:
        renewed = connection.execute(
            update(LEASES)
            .where(
                LEASES.c.name == name,
                (LEASES.c.holder == holder) | (LEASES.c.expires_at <= now),
            )
            .values(holder=holder, expires_at=now + ttl)
        )
        if renewed.rowcount == 1:
            return True
        exists = connection.execute(select(LEASES.c.name).where(LEASES.c.name == name)).first()
    if exists is not None:
        return False
    try:
        with database.begin() as connection:
            connection.execute(
                insert(LEASES).values(
                    name=name, holder=holder, acquired_at=now, expires_at=now + ttl
                )
            )
    except IntegrityError:  # another replica inserted it first
        return False
    return True


def release_lease(database: Engine, *, holder: str, name: str = LEASE_NAME) -> None:
    with database.begin() as connection:
        connection.execute(LEASES.delete().where(LEASES.c.name == name, LEASES.c.holder == holder))


def lease_holder(database: Engine, *, now: datetime, name: str = LEASE_NAME) -> str | None:
    with database.connect() as connection:
        row = connection.execute(
            select(LEASES.c.holder, LEASES.c.expires_at).where(LEASES.c.name == name)
        ).first()
    return row.holder if row is not None and row.expires_at > now else None


Job = Callable[[str], Awaitable[object]]


@dataclass(kw_only=True)
class Scheduler:
    """The service component: stands by, or (holding the lease) schedules the runs."""

    database: Engine
    clock: Clock
    policy: Callable[[], Policy]  # the policy in force (read when the reconciler starts)
    holder: str
    reconcile: Job  # called with the trigger's description
    sync_inventory: Callable[[], Awaitable[object]]
    drift_seconds: int
    inventory_seconds: int
    lease_seconds: int
    grace_seconds: int
    name: str = "scheduler"
    active: bool = False
    _aps: AsyncIOScheduler | None = None

    async def start(self) -> None:
        zone = ZoneInfo(self.policy().schedule.zone)
        self._aps = AsyncIOScheduler(
            timezone=zone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        self._aps.add_job(
            self._tend_lease,
            IntervalTrigger(seconds=max(self.lease_seconds // 3, 1), timezone=zone),
            id="lease",  # first run one period after start (`start` tends it once itself)
        )
        self._aps.start()
        await self._tend_lease()

    async def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        if self.active:
            await asyncio.to_thread(release_lease, self.database, holder=self.holder)
            self.active = False

    async def ready(self) -> bool:
        return self._aps is not None

    async def _tend_lease(self) -> None:
        ttl = timedelta(seconds=self.lease_seconds)
        try:
            held = await asyncio.to_thread(
                take_lease, self.database, holder=self.holder, now=self.clock.now(), ttl=ttl
            )
        except SQLAlchemyError as error:  # the database is away: we cannot know, so stand by
            log.error("scheduler lease unreadable (%s): standing by", type(error).__name__)
            held = False
        if held and not self.active:
            log.info("scheduler lease taken by %s: this replica schedules", self.holder)
            self.active = True
            self._activate()
        elif not held and self.active:
            log.warning("scheduler lease lost by %s: standing by", self.holder)
            self.active = False
            self._deactivate()

    def _activate(self) -> None:
        aps = self._aps
        assert aps is not None
        zone = ZoneInfo(self.policy().schedule.zone)
        aps.add_job(
            self._drift,
            IntervalTrigger(seconds=self.drift_seconds, timezone=zone),
            id="drift",
            replace_existing=True,
            next_run_time=self.clock.now(),  # once at once: catch up on taking over
        )
        aps.add_job(
            self.sync_inventory,
            IntervalTrigger(seconds=self.inventory_seconds, timezone=zone),
            id="inventory",
            replace_existing=True,
        )

    def _deactivate(self) -> None:
        aps = self._aps
        if aps is None:
            return
        for job in aps.get_jobs():
            if job.id != "lease":
                job.remove()

    async def _drift(self) -> None:
        await self.reconcile("drift cycle")
        await self.refresh()

    async def refresh(self) -> list[Edge]:
        """Re-plan the edge jobs from the policy and the bans (after any change to either)."""
        aps = self._aps
        if aps is None or not self.active:
            return []
        now = self.clock.now()
        with self.database.connect() as connection:
            ban_times = [
                (row.id, row.starts_at, row.ends_at)
                for row in connection.execute(
                    select(BANS.c.id, BANS.c.starts_at, BANS.c.ends_at).where(
                        BANS.c.lifted_at.is_(None), BANS.c.ends_at > now
                    )
                )
            ]
        upcoming = edges(self.policy(), ban_times, now)
        for job in aps.get_jobs():
            if job.id.startswith("edge "):
                job.remove()
        for edge in upcoming:
            aps.add_job(
                self.reconcile,
                DateTrigger(run_date=edge.at),
                args=[f"{edge.why} at {edge.at.isoformat()}"],
                id=f"edge {edge.at.isoformat()} {edge.why}",
                misfire_grace_time=self.grace_seconds,
                replace_existing=True,
            )
        return upcoming
