"""Curfew rules on real dates: DST nights, term and holiday rules, merging, edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.calendar import DateSpan, DayKind, TermCalendar
from schedules.curfew import (
    HORIZON_DAYS,
    CurfewEdge,
    CurfewRule,
    CurfewWindow,
    Interval,
    Weekday,
    curfew_edges,
    curfew_window_at,
    curfew_windows,
    in_curfew,
    next_curfew_edge,
)

NIGHTLY = CurfewRule(
    name="home",
    timezone="Europe/London",
    windows=(CurfewWindow(start=time(20), end=time(7)),),
)
ANY_DAY = TermCalendar()


def utc(month: int, day: int, hour: int, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("inside", "start", "end"),
    [
        (utc(1, 10, 23), utc(1, 10, 20), utc(1, 11, 7)),  # winter: GMT = UTC
        (utc(7, 10, 23), utc(7, 10, 19), utc(7, 11, 6)),  # summer: BST = UTC+1
        (utc(3, 29, 23), utc(3, 29, 20), utc(3, 30, 6)),  # clocks go forward: 10 hours
        (utc(10, 25, 23), utc(10, 25, 19), utc(10, 26, 7)),  # clocks go back: 12 hours
    ],
)
def test_a_2000_to_0700_curfew_follows_london_time(
    inside: datetime, start: datetime, end: datetime
) -> None:
    assert curfew_window_at(NIGHTLY, ANY_DAY, inside) == Interval(start=start, end=end)
    assert not in_curfew(NIGHTLY, ANY_DAY, end)  # the end is excluded
    assert in_curfew(NIGHTLY, ANY_DAY, start)
    assert not in_curfew(NIGHTLY, ANY_DAY, start - timedelta(microseconds=1))


def test_a_window_over_the_repeated_hour_covers_all_of_it() -> None:
    rule = CurfewRule(
        name="late",
        timezone="Europe/London",
        windows=(CurfewWindow(start=time(1, 30), end=time(1, 45)),),
    )
    # 26 October 2025: 01:30-01:45 happens twice; the curfew runs from the first to the last.
    window = curfew_window_at(rule, ANY_DAY, utc(10, 26, 1))
    assert window == Interval(start=utc(10, 26, 0, 30), end=utc(10, 26, 1, 45))


def test_a_window_inside_the_skipped_hour_never_happens() -> None:
    rule = CurfewRule(
        name="gap",
        timezone="Europe/London",
        windows=(CurfewWindow(start=time(1, 10), end=time(1, 50)),),
    )
    assert curfew_windows(rule, ANY_DAY, utc(3, 29, 12), utc(3, 31, 12)) == [
        Interval(start=utc(3, 31, 0, 10), end=utc(3, 31, 0, 50))
    ]


SCHOOL_NIGHTS = CurfewRule(
    name="term and holidays",
    timezone="Europe/London",
    windows=(
        CurfewWindow(
            start=time(20),
            end=time(7),
            days=frozenset({Weekday.SUN, Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU}),
            day_kinds=frozenset({DayKind.TERM}),
        ),
        CurfewWindow(
            start=time(21, 30),
            end=time(8),
            days=frozenset({Weekday.FRI, Weekday.SAT}),
            day_kinds=frozenset({DayKind.TERM}),
        ),
        CurfewWindow(start=time(21), end=time(9), day_kinds=frozenset({DayKind.HOLIDAY})),
    ),
)
AUTUMN = TermCalendar(
    terms=(DateSpan(first=date(2025, 9, 3), last=date(2025, 12, 19)),),
    holidays=(DateSpan(first=date(2025, 10, 27), last=date(2025, 10, 31)),),
    closures=(DateSpan(first=date(2025, 12, 3), last=date(2025, 12, 3)),),
)


def test_the_kind_and_weekday_of_the_start_date_pick_the_window() -> None:
    def window(at: datetime) -> Interval | None:
        return curfew_window_at(SCHOOL_NIGHTS, AUTUMN, at)

    # Thursday 2 October, term: 20:00-07:00 BST.
    assert window(utc(10, 2, 22)) == Interval(start=utc(10, 2, 19), end=utc(10, 3, 6))
    # Friday 3 October, term: 21:30-08:00 BST.
    assert window(utc(10, 3, 20)) is None
    assert window(utc(10, 3, 21)) == Interval(start=utc(10, 3, 20, 30), end=utc(10, 4, 7))
    # Monday 27 October, half term (GMT now): 21:00-09:00.
    assert window(utc(10, 27, 20, 30)) is None
    assert window(utc(10, 28, 8, 30)) == Interval(start=utc(10, 27, 21), end=utc(10, 28, 9))
    # Wednesday 3 December, a closure: no window was written for closures.
    assert window(utc(12, 3, 22)) is None
    # Saturday 20 December: the holidays have begun.
    assert window(utc(12, 20, 22)) == Interval(start=utc(12, 20, 21), end=utc(12, 21, 9))


def test_touching_windows_merge_into_one_lock() -> None:
    split = CurfewRule(
        name="split",
        timezone="Europe/London",
        windows=(
            CurfewWindow(start=time(20), end=time(0)),
            CurfewWindow(start=time(0), end=time(7)),
            CurfewWindow(start=time(6), end=time(6, 30)),
        ),
    )
    after = utc(1, 6, 12)
    assert curfew_windows(split, ANY_DAY, after, after + timedelta(days=3)) == curfew_windows(
        NIGHTLY, ANY_DAY, after, after + timedelta(days=3)
    )


def test_a_curfew_that_never_ends_is_reported_without_false_edges() -> None:
    always = CurfewRule(
        name="always",
        timezone="UTC",
        windows=(
            CurfewWindow(start=time(0), end=time(12)),
            CurfewWindow(start=time(12), end=time(0)),
        ),
    )
    now = utc(5, 1, 12)
    window = curfew_window_at(always, ANY_DAY, now)
    assert window is not None
    assert window.start < now - timedelta(days=300)
    assert window.end > now + timedelta(days=300)
    assert curfew_edges(always, ANY_DAY, now, now + timedelta(days=2)) == []
    assert next_curfew_edge(always, ANY_DAY, now) is None


def test_no_windows_means_no_curfew() -> None:
    none = CurfewRule(name="none", timezone="Europe/London", windows=())
    assert curfew_window_at(none, ANY_DAY, utc(1, 1, 23)) is None
    assert next_curfew_edge(none, ANY_DAY, utc(1, 1, 23)) is None


def test_edges_for_the_scheduler() -> None:
    assert curfew_edges(NIGHTLY, ANY_DAY, utc(1, 10, 12), utc(1, 12, 0)) == [
        CurfewEdge(at=utc(1, 10, 20), locked=True),
        CurfewEdge(at=utc(1, 11, 7), locked=False),
        CurfewEdge(at=utc(1, 11, 20), locked=True),
    ]
    assert next_curfew_edge(NIGHTLY, ANY_DAY, utc(1, 10, 20)) == CurfewEdge(
        at=utc(1, 11, 7), locked=False
    )


def test_naive_instants_and_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        curfew_window_at(NIGHTLY, ANY_DAY, datetime(2025, 1, 1, 22))  # noqa: DTZ001  # on purpose
    with pytest.raises(ValueError, match="unknown time zone"):
        CurfewRule(name="x", timezone="Mars/Olympus", windows=())
    with pytest.raises(ValueError, match="cannot start and end"):
        CurfewWindow(start=time(20), end=time(20))
    with pytest.raises(ValueError, match="at least one weekday"):
        CurfewWindow(start=time(20), end=time(7), days=frozenset())


# hypothesis takes naive bounds and attaches the zone itself
INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
WALL = st.times().map(lambda at: at.replace(second=0, microsecond=0))
WINDOWS = st.builds(
    lambda times, days, kinds: CurfewWindow(
        start=times[0], end=times[1], days=days, day_kinds=kinds
    ),
    st.tuples(WALL, WALL).filter(lambda times: times[0] != times[1]),
    st.frozensets(st.sampled_from(Weekday), min_size=1),
    st.frozensets(st.sampled_from(DayKind), min_size=1),
)
RULES = st.builds(
    CurfewRule,
    name=st.just("generated"),
    timezone=st.sampled_from(["Europe/London", "America/New_York", "Australia/Lord_Howe"]),
    windows=st.lists(WINDOWS, max_size=3).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(RULES, INSTANTS)
def test_edges_alternate_and_agree_with_the_windows(rule: CurfewRule, start: datetime) -> None:
    end = start + timedelta(days=3)
    edges = curfew_edges(rule, AUTUMN, start, end)
    assert [edge.at for edge in edges] == sorted(edge.at for edge in edges)
    assert all(a.locked != b.locked for a, b in pairwise(edges))
    for edge in edges:
        assert in_curfew(rule, AUTUMN, edge.at) == edge.locked
        assert in_curfew(rule, AUTUMN, edge.at - timedelta(microseconds=1)) != edge.locked
    first = next_curfew_edge(rule, AUTUMN, start - timedelta(microseconds=1))
    if edges:
        assert first == edges[0]
    else:
        assert first is None or first.at >= end
        assert in_curfew(rule, AUTUMN, start) == in_curfew(rule, AUTUMN, end - timedelta(hours=1))


@settings(max_examples=60, deadline=None)
@given(RULES, INSTANTS)
def test_the_window_at_an_instant_is_whole_and_holds_it(rule: CurfewRule, at: datetime) -> None:
    window = curfew_window_at(rule, AUTUMN, at)
    if window is None:
        assert curfew_windows(rule, AUTUMN, at, at + timedelta(microseconds=1)) == []
        return
    assert at in window
    assert window.start.tzinfo is UTC
    if window.end - window.start < timedelta(days=HORIZON_DAYS):  # else cut at the horizon
        assert not in_curfew(rule, AUTUMN, window.end)
        assert not in_curfew(rule, AUTUMN, window.start - timedelta(microseconds=1))
        assert curfew_window_at(rule, AUTUMN, window.start) == window
