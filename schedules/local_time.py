"""School-local wall-clock times to UTC instants and back, correct across DST changes.

Called by `schedules.curfew` (and anyone else holding a local date and time); calls only the
standard library's `zoneinfo`. Curfew rules are written in the school's local time, while every
instant at our API boundary is timezone-aware UTC: this module is the one crossing between them.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo


class Repeated(StrEnum):
    """Which instant a local time means when the clocks go back and it happens twice."""

    EARLIER = "earlier"
    LATER = "later"


def school_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. "Europe/London"), or ValueError naming it."""
    raise NotImplementedError


def local_instant(
    day: date, at: time, zone: ZoneInfo, *, repeated: Repeated = Repeated.EARLIER
) -> datetime:
    """The UTC instant when clocks in `zone` show `at` on `day`."""
    raise NotImplementedError


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """The calendar date in `zone` at the aware `instant`."""
    raise NotImplementedError
