"""Contract of the Jamf School profile time filter (mock-behaviours §7, time-filter engine)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from mocks.jamf_school.time_filter import (
    MidnightCrossing,
    TimeFilter,
    TimeFilterRules,
    filter_allows,
    format_wall_clock,
    parse_days,
    parse_wall_clock,
)

LONDON = ZoneInfo("Europe/London")
EVERY_DAY = frozenset(range(1, 8))
SCHOOL_NIGHTS = frozenset({1, 2, 3, 4, 5})  # windows opening Monday to Friday evening
CURFEW = TimeFilter(days_of_week=SCHOOL_NIGHTS, start=time(20, 0), end=time(7, 0))
RULES = TimeFilterRules(time_zone=LONDON)


def _local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def test_no_days_means_no_filter() -> None:
    assert filter_allows(TimeFilter(), _local(2026, 11, 23, 12), RULES)


def test_a_daytime_window_is_closed_outside_its_hours_and_days() -> None:
    lessons = TimeFilter(days_of_week=frozenset({1}), start=time(9, 0), end=time(15, 0))
    monday = 23
    assert filter_allows(lessons, _local(2026, 11, monday, 9), RULES)
    assert not filter_allows(lessons, _local(2026, 11, monday, 15), RULES)
    assert not filter_allows(lessons, _local(2026, 11, monday, 8, 59), RULES)
    assert not filter_allows(lessons, _local(2026, 11, monday + 1, 10), RULES)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (_local(2026, 11, 23, 19, 59), False),  # Monday before the curfew
        (_local(2026, 11, 23, 20, 0), True),  # Monday 20:00, window opens
        (_local(2026, 11, 24, 6, 59), True),  # Tuesday small hours, still Monday's window
        (_local(2026, 11, 24, 7, 0), False),  # Tuesday 07:00, window closed
        (_local(2026, 11, 28, 6, 0), True),  # Saturday 06:00 closes Friday's window
        (_local(2026, 11, 28, 21, 0), False),  # Saturday evening: no window opens
        (_local(2026, 11, 23, 6, 0), False),  # Monday morning: Sunday opened nothing
    ],
)
def test_a_window_crossing_midnight_runs_into_the_next_morning(
    when: datetime, expected: bool
) -> None:
    assert filter_allows(CURFEW, when, RULES) is expected


def test_the_same_day_reading_of_a_crossing_window_can_be_chosen() -> None:
    rules = TimeFilterRules(time_zone=LONDON, midnight_crossing=MidnightCrossing.WITHIN_SAME_DAY)
    assert filter_allows(CURFEW, _local(2026, 11, 23, 6, 0), rules)  # Monday early
    assert not filter_allows(CURFEW, _local(2026, 11, 28, 6, 0), rules)  # Saturday early


def test_the_time_zone_decides_which_wall_clock_is_read() -> None:
    evening_utc = datetime(2026, 7, 6, 19, 30, tzinfo=UTC)  # 20:30 in London (BST)
    assert filter_allows(CURFEW, evening_utc, RULES)
    assert not filter_allows(CURFEW, evening_utc, TimeFilterRules(time_zone=ZoneInfo("UTC")))


def test_weekend_and_holiday_switches_keep_the_profile_all_day() -> None:
    weekend = TimeFilter(
        days_of_week=SCHOOL_NIGHTS, start=time(20), end=time(7), restricted_weekend_use=True
    )
    assert filter_allows(weekend, _local(2026, 11, 28, 14), RULES)
    holiday = date(2026, 12, 24)
    holiday_rules = TimeFilterRules(time_zone=LONDON, holidays=frozenset({holiday}))
    on_holidays = TimeFilter(
        days_of_week=SCHOOL_NIGHTS, start=time(20), end=time(7), use_holidays=True
    )
    assert filter_allows(on_holidays, _local(2026, 12, 24, 14), holiday_rules)
    assert not filter_allows(CURFEW, _local(2026, 12, 24, 14), holiday_rules)
    inverted = TimeFilterRules(
        time_zone=LONDON, holidays=frozenset({holiday}), invert_use_holidays=True
    )
    assert filter_allows(CURFEW, _local(2026, 12, 24, 14), inverted)
    assert not filter_allows(on_holidays, _local(2026, 12, 24, 14), inverted)


def test_an_open_ended_window_lasts_the_rest_of_the_day() -> None:
    afternoons = TimeFilter(days_of_week=EVERY_DAY, start=time(13, 0), end=None)
    assert filter_allows(afternoons, _local(2026, 11, 23, 23, 59), RULES)
    assert not filter_allows(afternoons, _local(2026, 11, 23, 12, 59), RULES)


def test_wall_clock_and_day_strings_round_trip_the_api_format() -> None:
    assert parse_wall_clock("0:00") == time(0, 0)
    assert parse_wall_clock("23:15") == time(23, 15)
    assert parse_wall_clock(None) is None
    assert format_wall_clock(time(7, 0)) == "7:00"
    assert format_wall_clock(None) is None
    assert parse_days(["1", "7"]) == frozenset({1, 7})
