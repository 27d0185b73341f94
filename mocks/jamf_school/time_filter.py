"""The time filter of Jamf School profiles: is a profile meant to be on a device at an instant?

`mocks.jamf_school.scoping` asks `filter_allows(profile_filter, instant, rules)` at each device
check-in to decide which of the group-scoped profiles to install or remove. Jamf School sets the
filter in its console (days of the week, a start and an end time, weekend and holiday switches);
how it treats a window that crosses midnight and which time zone it reads are not documented, so
both are switches in `TimeFilterRules`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_SATURDAY, _SUNDAY = 6, 7


class MidnightCrossing(enum.StrEnum):
    """How a window whose end is earlier than its start (20:00 → 07:00) is read."""

    # The window opens on a listed day and closes the next morning, whatever that day is.
    INTO_NEXT_DAY = "into-next-day"
    # Each listed day is active before the end and after the start, on that same date only.
    WITHIN_SAME_DAY = "within-same-day"


@dataclass(frozen=True, kw_only=True)
class TimeFilter:
    """A profile's time filter as the API shows it, parsed."""

    days_of_week: frozenset[int] = frozenset()  # ISO days, 1 = Monday; empty = no filter
    start: time | None = None
    end: time | None = None
    restricted_weekend_use: bool = False
    use_holidays: bool = False


@dataclass(frozen=True, kw_only=True)
class TimeFilterRules:
    """The school-wide reading of every time filter."""

    time_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    midnight_crossing: MidnightCrossing = MidnightCrossing.INTO_NEXT_DAY
    holidays: frozenset[date] = frozenset()
    # One client reads `useHolidays` the other way round; flip this to emulate that reading.
    invert_use_holidays: bool = False


def parse_wall_clock(text: str | None) -> time | None:
    """Read `H:MM` or `HH:MM` as shown by the API; None and "" mean no bound."""
    if not text:
        return None
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def format_wall_clock(value: time | None) -> str | None:
    """Write a bound the way the API does: hours without a leading zero."""
    return None if value is None else f"{value.hour}:{value.minute:02d}"


def parse_days(days: Iterable[str]) -> frozenset[int]:
    return frozenset(int(day) for day in days)


def filter_allows(profile_filter: TimeFilter, instant: datetime, rules: TimeFilterRules) -> bool:
    """True when the filter lets the profile be installed at `instant` (an aware datetime)."""
    local = instant.astimezone(rules.time_zone)
    weekday = local.isoweekday()
    if profile_filter.restricted_weekend_use and weekday in (_SATURDAY, _SUNDAY):
        return True
    holiday_keeps_profile = profile_filter.use_holidays != rules.invert_use_holidays
    if holiday_keeps_profile and local.date() in rules.holidays:
        return True
    if not profile_filter.days_of_week:
        return True
    start = profile_filter.start or time(0, 0)
    end = profile_filter.end
    now = local.time()
    if end is None or start == end:
        # No closing time (or an empty-looking window): the whole listed day from `start`.
        return weekday in profile_filter.days_of_week and now >= start
    if start < end:
        return weekday in profile_filter.days_of_week and start <= now < end
    return _crossing_window_allows(profile_filter.days_of_week, start, end, local, rules)


def _crossing_window_allows(
    days: frozenset[int], start: time, end: time, local: datetime, rules: TimeFilterRules
) -> bool:
    weekday = local.isoweekday()
    now = local.time()
    if rules.midnight_crossing is MidnightCrossing.WITHIN_SAME_DAY:
        return weekday in days and (now >= start or now < end)
    yesterday = (local - timedelta(days=1)).isoweekday()
    opened_today = weekday in days and now >= start
    still_open_from_yesterday = yesterday in days and now < end
    return opened_today or still_open_from_yesterday
