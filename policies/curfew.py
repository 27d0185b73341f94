"""The one place `policies` touches `schedules`: the school's curfew as `decide` needs it.

`schedules` publishes the curfew as a rule plus a term calendar, passed separately to each
function (`curfew_window_at(rule, calendar, t)`, `next_curfew_edge(...)`). A policy carries both
together as a `CurfewSchedule`, so `Policy.schedule` stays one value and the rest of `policies`
asks only two questions: the curfew period containing an instant, and the next edge after one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from schedules import (
    CurfewRule,
    Interval,
    TermCalendar,
    curfew_window_at,
    local_date,
    local_instant,
    next_curfew_edge,
    school_zone,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class CurfewSchedule:
    rule: CurfewRule
    calendar: TermCalendar = field(default_factory=TermCalendar)

    def __post_init__(self) -> None:
        school_zone(self.rule.timezone)  # ValueError naming an unknown zone

    @property
    def zone(self) -> str:
        return self.rule.timezone

    def period_at(self, at: datetime) -> Interval | None:
        """The whole curfew period containing `at`, or None outside curfew."""
        return curfew_window_at(self.rule, self.calendar, at)

    def next_edge(self, after: datetime) -> datetime | None:
        """The first instant strictly after `after` at which curfew starts or ends."""
        edge = next_curfew_edge(self.rule, self.calendar, after)
        return edge.at if edge is not None else None

    def local_day(self, at: datetime) -> date:
        return local_date(at, school_zone(self.rule.timezone))

    def start_of_local_day(self, day: date) -> datetime:
        """The UTC instant the school's clocks reach 00:00 (or just past a skipped midnight)."""
        return local_instant(day, time(0), school_zone(self.rule.timezone))
