"""Per device, per night: was the iPad locked on time, late, or never, and why not.

Judged at every run inside a curfew period, from the latest observation: the first time an iPad
is seen locked decides on time (within `ON_TIME` of the curfew start) or late; until then the
night reads "never" with the reason (offline, unsupervised, the MDM has no lock...). iPads the
curfew does not concern (school-only, no agreement, exempt) are recorded as not applicable, so
the night's record covers every iPad. Only changed rows are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from mdm_bridge.model import LockIntent, LockState, ObservedDevice
from mdm_bridge.reconcile.plan import DevicePlan
from mdm_bridge.store.engine import upsert_insert
from mdm_bridge.store.engine_tables import CurfewNight
from policies import CurfewVerdict, Decision, Policy, lock_profile

NIGHTS = CurfewNight.__table__  # type: ignore[attr-defined]
ON_TIME = timedelta(minutes=10)


@dataclass(frozen=True, kw_only=True, slots=True)
class NightUpdate:
    device_id: int
    night: date
    starts_at: datetime
    ends_at: datetime
    outcome: str
    reason: str
    locked_seen_at: datetime | None

    def same_as(self, other: NightUpdate | None) -> bool:
        return other is not None and (other.outcome, other.reason, other.locked_seen_at) == (
            self.outcome,
            self.reason,
            self.locked_seen_at,
        )


def _night_of(policy: Policy, at: datetime) -> tuple[date, datetime, datetime] | None:
    period = policy.schedule.period_at(at)
    if period is None:
        return None
    return policy.schedule.local_day(period.start), period.start, period.end


def load_nights(connection: Connection, now: datetime, policy: Policy) -> dict[int, NightUpdate]:
    """Tonight's rows so far, by device id (none outside a curfew period)."""
    night = _night_of(policy, now)
    if night is None:
        return {}
    rows = connection.execute(select(NIGHTS).where(NIGHTS.c.night == night[0]))
    return {
        row.device_id: NightUpdate(
            device_id=row.device_id,
            night=row.night,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            outcome=row.outcome,
            reason=row.reason,
            locked_seen_at=row.locked_seen_at,
        )
        for row in rows
    }


def judge_nights(
    devices: Sequence[tuple[int, Decision, DevicePlan, ObservedDevice | None]],
    policy: Policy,
    existing: dict[int, NightUpdate],
    *,
    now: datetime,
) -> list[NightUpdate]:
    """The rows that change, for (device id, decision, plan, observation) at `now`."""
    night = _night_of(policy, now)
    if night is None:
        return []
    day, start, end = night
    zone = ZoneInfo(policy.schedule.zone)
    changed: list[NightUpdate] = []
    for device_id, decision, plan, observed in devices:
        before = existing.get(device_id)
        outcome, reason, seen = _judge(decision, plan, observed, before, policy, start, zone)
        update = NightUpdate(
            device_id=device_id,
            night=day,
            starts_at=start,
            ends_at=end,
            outcome=outcome,
            reason=reason,
            locked_seen_at=seen,
        )
        if not update.same_as(before):
            changed.append(update)
    return changed


def _judge(
    decision: Decision,
    plan: DevicePlan,
    observed: ObservedDevice | None,
    before: NightUpdate | None,
    policy: Policy,
    start: datetime,
    zone: ZoneInfo,
) -> tuple[str, str, datetime | None]:
    if before is not None and before.locked_seen_at is not None:
        return before.outcome, before.reason, before.locked_seen_at
    if decision.curfew is CurfewVerdict.NOT_HOME_USE:
        return "not_applicable", "not home-use", None
    if decision.curfew is CurfewVerdict.EXEMPT:
        return "not_applicable", "curfew exemption", None
    lock = decision.desired.lock
    if lock is None:
        return "not_applicable", "not in curfew", None
    if observed is not None and _locked(observed, policy, lock):
        outcome = "on_time" if observed.observed_at <= start + ON_TIME else "late"
        return outcome, "", observed.observed_at
    if plan.blocked:
        return "never", plan.blocked[0][:200], None
    if observed is None:
        return "never", "never observed", None
    if observed.last_check_in is not None and observed.last_check_in < start:
        since = observed.last_check_in.astimezone(zone)
        return "never", f"offline since {since:%Y-%m-%d %H:%M}", None
    return "never", "waiting for the iPad to carry out the lock", None


def _locked(observed: ObservedDevice, policy: Policy, lock: LockIntent) -> bool:
    """Locked by Lost Mode, or (MDMs without it) by the lock profile being installed."""
    if observed.lock is LockState.LOCKED:
        return True
    return lock_profile(policy, lock).identifier in observed.profiles


def save_nights(connection: Connection, updates: Sequence[NightUpdate]) -> None:
    if not updates:
        return
    builder = upsert_insert(connection)
    statement = builder(NIGHTS)
    upsert = statement.on_conflict_do_update(
        index_elements=["device_id", "night"],
        set_={
            "outcome": statement.excluded.outcome,
            "reason": statement.excluded.reason,
            "locked_seen_at": statement.excluded.locked_seen_at,
            "updated_at": statement.excluded.updated_at,
        },
    )
    values = [
        {
            "device_id": u.device_id,
            "night": u.night,
            "starts_at": u.starts_at,
            "ends_at": u.ends_at,
            "outcome": u.outcome,
            "reason": u.reason,
            "locked_seen_at": u.locked_seen_at,
            "updated_at": u.locked_seen_at or u.starts_at,
        }
        for u in updates
    ]
    for start in range(0, len(values), 2000):
        connection.execute(upsert, values[start : start + 2000])
