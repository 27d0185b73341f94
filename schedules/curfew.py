"""Curfew rules as data, and the UTC windows they give on real dates.

Called by `policies` (is this iPad in curfew now, and when does that change?) and by the
scheduler wiring (the curfew edges of the next day or two). Calls `schedules.calendar` for the
kind of each date and `schedules.local_time` to turn local times into UTC instants.

A window belongs to the local date it starts on: "20:00-07:00 on Sun-Thu in term" locks from
Sunday 20:00 to Monday 07:00, chosen by Sunday's weekday and Sunday's kind of day. Windows that
overlap or touch merge into one interval, so the iPad is never unlocked for zero seconds. A start
time repeated by the clocks going back means its first occurrence and a repeated end time its
second, so the curfew covers the whole repeated hour; a time the clocks skip means the jump.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from functools import lru_cache

from schedules.calendar import DayKind, TermCalendar
from schedules.local_time import Repeated, local_date, local_instant, require_aware, school_zone


class Weekday(IntEnum):
    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6


ALL_WEEKDAYS = frozenset(Weekday)
ALL_DAY_KINDS = frozenset(DayKind)
# How many days a chain of touching windows is followed each way before it is cut: a rule that
# locks for ever is reported up to this horizon instead of looping.
HORIZON_DAYS = 400


@dataclass(frozen=True, kw_only=True, slots=True)
class CurfewWindow:
    """Locked from `start` to `end`, school-local time, starting on `days` of the given kinds.

    An `end` before `start` means the window crosses midnight and ends the next day.
    """

    start: time
    end: time
    days: frozenset[Weekday] = ALL_WEEKDAYS
    day_kinds: frozenset[DayKind] = ALL_DAY_KINDS

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("curfew times are school-local wall-clock times, without a zone")
        if self.start == self.end:
            raise ValueError(f"a curfew window cannot start and end at {self.start:%H:%M}")
        if not self.days:
            raise ValueError("a curfew window needs at least one weekday")
        if not self.day_kinds:
            raise ValueError("a curfew window needs at least one kind of day")

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start


@dataclass(frozen=True, kw_only=True, slots=True)
class CurfewRule:
    """The curfew of one school: its time zone and weekly windows (none: no curfew)."""

    name: str
    timezone: str
    windows: tuple[CurfewWindow, ...]

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a curfew rule needs a name")
        school_zone(self.timezone)


@dataclass(frozen=True, kw_only=True, slots=True)
class Interval:
    """From `start` (included) to `end` (excluded), both aware UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware("Interval.start", self.start)
        require_aware("Interval.end", self.end)
        if self.end <= self.start:
            raise ValueError(f"Interval ends at {self.end} before it starts at {self.start}")

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, datetime) and self.start <= instant < self.end


@dataclass(frozen=True, kw_only=True, slots=True)
class CurfewEdge:
    """An instant at which the curfew begins (`locked`) or ends (not `locked`)."""

    at: datetime
    locked: bool

    def __post_init__(self) -> None:
        require_aware("CurfewEdge.at", self.at)


def curfew_windows(
    rule: CurfewRule, calendar: TermCalendar, start: datetime, end: datetime
) -> Sequence[Interval]:
    """The curfew intervals overlapping [start, end), merged where they touch, in order.

    Intervals are whole: the first may start before `start` and the last end after `end`.
    """
    return _covering(rule, calendar, start, end).intervals


def curfew_window_at(
    rule: CurfewRule, calendar: TermCalendar, instant: datetime
) -> Interval | None:
    """The whole curfew interval containing `instant`, or None when the iPad may be used."""
    instant = require_aware("instant", instant)
    found = _covering(rule, calendar, instant, instant + timedelta(microseconds=1)).intervals
    return found[0] if found else None


def in_curfew(rule: CurfewRule, calendar: TermCalendar, instant: datetime) -> bool:
    return curfew_window_at(rule, calendar, instant) is not None


def curfew_edges(
    rule: CurfewRule, calendar: TermCalendar, start: datetime, end: datetime
) -> Sequence[CurfewEdge]:
    """Every edge in [start, end), in order: what the scheduler arms for the next day or two."""
    start, end = require_aware("start", start), require_aware("end", end)
    found = _covering(rule, calendar, start, end)
    edges: list[CurfewEdge] = []
    for index, interval in enumerate(found.intervals):
        first, last = index == 0, index == len(found.intervals) - 1
        if start <= interval.start < end and not (first and found.cut_before):
            edges.append(CurfewEdge(at=interval.start, locked=True))
        if start <= interval.end < end and not (last and found.cut_after):
            edges.append(CurfewEdge(at=interval.end, locked=False))
    return edges


def next_curfew_edge(
    rule: CurfewRule, calendar: TermCalendar, after: datetime
) -> CurfewEdge | None:
    """The first edge strictly after `after` (within a year), or None if there is none."""
    after = require_aware("after", after)
    step = timedelta(days=8)
    since = after + timedelta(microseconds=1)
    while since - after < timedelta(days=366):
        edges = curfew_edges(rule, calendar, since, since + step)
        if edges:
            return edges[0]
        since += step
    return None


@dataclass(frozen=True, slots=True)
class _Found:
    intervals: list[Interval]
    cut_before: bool  # the first interval was cut at the horizon: its start is not an edge
    cut_after: bool


def _covering(rule: CurfewRule, calendar: TermCalendar, start: datetime, end: datetime) -> _Found:
    start, end = require_aware("start", start), require_aware("end", end)
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    zone = school_zone(rule.timezone)
    # A window starting the day before can reach into the first day; two days before only when
    # the clocks go back across midnight, which a few zones do.
    low, high = local_date(start, zone) - timedelta(days=_REACH), local_date(end, zone)
    merged = _merge(
        interval
        for offset in range((high - low).days + 1)
        for interval in _day_intervals(rule, calendar, low + timedelta(days=offset))
    )
    inside = [interval for interval in merged if interval.start < end and interval.end > start]
    if not inside:
        return _Found([], cut_before=False, cut_after=False)
    # Follow chains of touching windows into the days before and after, one day at a time.
    first, cut_before = _follow(rule, calendar, inside[0], low, -1)
    last, cut_after = _follow(rule, calendar, inside[-1], high, +1)
    if len(inside) == 1:
        whole = Interval(start=first.start, end=last.end)
        return _Found([whole], cut_before=cut_before, cut_after=cut_after)
    return _Found([first, *inside[1:-1], last], cut_before=cut_before, cut_after=cut_after)


_REACH = 2


def _follow(
    rule: CurfewRule, calendar: TermCalendar, interval: Interval, edge_day: date, step: int
) -> tuple[Interval, bool]:
    """`interval` grown by windows of days beyond `edge_day` that touch it, and if it was cut."""
    day = edge_day
    for _ in range(HORIZON_DAYS):
        nearby = [
            other
            for reach in range(1, _REACH + 1)
            for other in _day_intervals(rule, calendar, day + timedelta(days=step * reach))
        ]
        grown = interval
        blocks = _merge(nearby)
        for other in blocks if step > 0 else reversed(blocks):  # outward from `interval`
            if other.start <= grown.end and other.end >= grown.start:
                grown = Interval(start=min(grown.start, other.start), end=max(grown.end, other.end))
        if grown == interval:
            return interval, False
        interval, day = grown, day + timedelta(days=step)
    return interval, True


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for interval in sorted(intervals, key=_by_start):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(start=merged[-1].start, end=interval.end)
        else:
            merged.append(interval)
    return merged


def _by_start(interval: Interval) -> datetime:
    return interval.start


@lru_cache(maxsize=8192)
def _day_intervals(rule: CurfewRule, calendar: TermCalendar, day: date) -> tuple[Interval, ...]:
    """The windows starting on local `day`, as UTC intervals. Cached: every device asks the same."""
    zone = school_zone(rule.timezone)
    weekday, kind = Weekday(day.weekday()), calendar.day_kind(day)
    intervals = []
    for window in rule.windows:
        if weekday not in window.days or kind not in window.day_kinds:
            continue
        begins = local_instant(day, window.start, zone, repeated=Repeated.EARLIER)
        end_day = day + timedelta(days=1) if window.crosses_midnight else day
        ends = local_instant(end_day, window.end, zone, repeated=Repeated.LATER)
        if ends > begins:  # a window inside a skipped hour is no window at all
            intervals.append(Interval(start=begins.astimezone(UTC), end=ends.astimezone(UTC)))
    return tuple(intervals)
