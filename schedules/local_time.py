"""School-local wall-clock times to UTC instants and back, correct across DST changes.

Called by `schedules.curfew` (and anyone else holding a local date and time); calls only the
standard library's `zoneinfo`. Curfew rules are written in the school's local time, while every
instant at our API boundary is timezone-aware UTC: this module is the one crossing between them.

Two local times need a decision. When the clocks go forward, a skipped time (01:30 on the UK's
spring night) is taken as the moment the clocks jump past it, which is when a wall clock first
shows that time or later. When the clocks go back, a repeated time happens twice and the caller
says which occurrence it means (`Repeated`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Repeated(StrEnum):
    """Which instant a local time means when the clocks go back and it happens twice."""

    EARLIER = "earlier"
    LATER = "later"


def school_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. "Europe/London"), or ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown time zone {name!r} (use an IANA name such as Europe/London)"
        raise ValueError(message) from None


def require_aware(name: str, instant: datetime) -> datetime:
    """`instant` in UTC, or ValueError if it has no time zone."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {instant.isoformat()}")
    return instant.astimezone(UTC)


def local_instant(
    day: date, at: time, zone: ZoneInfo, *, repeated: Repeated = Repeated.EARLIER
) -> datetime:
    """The UTC instant when clocks in `zone` show `at` on `day`."""
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first
    if _wall(first, zone) == wall:  # shown twice: clocks went back
        return first if repeated is Repeated.EARLIER else second
    # Skipped: fold=1 lands before the jump and fold=0 after it; find the jump itself.
    before, after = min(first, second), max(first, second)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if _wall(middle, zone) >= wall:
            after = middle
        else:
            before = middle
    return after.replace(microsecond=0) if after.microsecond else after


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """The calendar date in `zone` at the aware `instant`."""
    return require_aware("instant", instant).astimezone(zone).date()
