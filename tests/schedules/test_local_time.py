"""Local wall-clock times to UTC across DST: skipped and repeated times included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schedules.local_time import Repeated, local_date, local_instant, school_zone

LONDON = school_zone("Europe/London")
ZONES = st.sampled_from(
    ["Europe/London", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "UTC"]
).map(school_zone)
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2037, 12, 31))
TIMES = st.times()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_winter_and_summer_offsets() -> None:
    assert local_instant(date(2025, 1, 10), time(20), LONDON) == utc(2025, 1, 10, 20)
    assert local_instant(date(2025, 7, 10), time(20), LONDON) == utc(2025, 7, 10, 19)


def test_a_skipped_time_means_the_moment_the_clocks_jump() -> None:
    # 30 March 2025: 01:00 GMT becomes 02:00 BST, so 01:30 never shows.
    assert local_instant(date(2025, 3, 30), time(1, 30), LONDON) == utc(2025, 3, 30, 1)
    assert local_instant(date(2025, 3, 30), time(2), LONDON) == utc(2025, 3, 30, 1)


def test_a_repeated_time_is_either_occurrence() -> None:
    # 26 October 2025: 02:00 BST becomes 01:00 GMT, so 01:30 shows twice.
    day, at = date(2025, 10, 26), time(1, 30)
    assert local_instant(day, at, LONDON) == utc(2025, 10, 26, 0, 30)
    assert local_instant(day, at, LONDON, repeated=Repeated.LATER) == utc(2025, 10, 26, 1, 30)


def test_an_unknown_zone_is_named() -> None:
    with pytest.raises(ValueError, match="Europe/Lndon"):
        school_zone("Europe/Lndon")


def test_local_date_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2025, 1, 1, 12), LONDON)  # noqa: DTZ001  # the point of the test
    assert local_date(utc(2025, 7, 1, 23, 30), LONDON) == date(2025, 7, 2)


@given(DAYS, TIMES, ZONES, st.sampled_from(Repeated))
def test_the_clock_shows_the_time_asked_for_or_the_first_time_after_it(
    day: date, at: time, zone: ZoneInfo, repeated: Repeated
) -> None:
    instant = local_instant(day, at, zone, repeated=repeated)
    assert instant.tzinfo is UTC
    wall = instant.astimezone(zone).replace(tzinfo=None)
    asked = datetime.combine(day, at)
    assert wall >= asked
    if wall != asked:  # skipped: one second earlier the clock showed less than asked
        earlier = (instant - timedelta(seconds=1)).astimezone(zone).replace(tzinfo=None)
        assert earlier < asked


@given(DAYS, TIMES, TIMES, ZONES)
def test_later_local_times_are_never_earlier_instants(
    day: date, one: time, other: time, zone: ZoneInfo
) -> None:
    low, high = sorted((one, other))
    assert local_instant(day, low, zone) <= local_instant(day, high, zone)
