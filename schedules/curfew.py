"""Curfew rules as data, and the UTC windows they give on real dates.

Called by `policies` (is this iPad in curfew now, and when does that change?) and by the
scheduler wiring (the curfew edges of the next day or two). Calls `schedules.calendar` for the
kind of each date and `schedules.local_time` to turn local times into UTC instants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from enum import IntEnum

from schedules.calendar import DayKind, TermCalendar


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


@dataclass(frozen=True, kw_only=True, slots=True)
class CurfewWindow:
    """Locked from `start` to `end`, school-local time, starting on `days` of the given kinds.

    An `end` at or before `start` means the window crosses midnight and ends the next day.
    """

    start: time
    end: time
    days: frozenset[Weekday] = ALL_WEEKDAYS
    day_kinds: frozenset[DayKind] = ALL_DAY_KINDS


@dataclass(frozen=True, kw_only=True, slots=True)
class CurfewRule:
    """The curfew of one school: its time zone and weekly windows."""

    name: str
    timezone: str
    windows: tuple[CurfewWindow, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Interval:
    """From `start` (included) to `end` (excluded), both aware UTC."""

    start: datetime
    end: datetime

    def __contains__(self, instant: object) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True, slots=True)
class CurfewEdge:
    """An instant at which the curfew begins (`locked`) or ends (not `locked`)."""

    at: datetime
    locked: bool


def curfew_windows(
    rule: CurfewRule, calendar: TermCalendar, start: datetime, end: datetime
) -> Sequence[Interval]:
    """The curfew intervals overlapping [start, end), merged where they touch, in order."""
    raise NotImplementedError


def curfew_window_at(
    rule: CurfewRule, calendar: TermCalendar, instant: datetime
) -> Interval | None:
    """The whole curfew interval containing `instant`, or None when the iPad may be used."""
    raise NotImplementedError


def in_curfew(rule: CurfewRule, calendar: TermCalendar, instant: datetime) -> bool:
    raise NotImplementedError


def next_curfew_edge(
    rule: CurfewRule, calendar: TermCalendar, after: datetime
) -> CurfewEdge | None:
    """The first edge strictly after `after` (within a year), or None if there is none."""
    raise NotImplementedError


def curfew_edges(
    rule: CurfewRule, calendar: TermCalendar, start: datetime, end: datetime
) -> Sequence[CurfewEdge]:
    """Every edge in [start, end), in order: what the scheduler arms for the next day or two."""
    raise NotImplementedError
