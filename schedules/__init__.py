"""WHEN things apply: curfew rules, term calendars and DST-correct instants (DESIGN.md §2).

Pure: time is always passed in, files are passed in as text. `policies` imports these names.
"""

from schedules.calendar import DateSpan, DayKind, TermCalendar, parse_term_calendar
from schedules.curfew import (
    ALL_DAY_KINDS,
    ALL_WEEKDAYS,
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
from schedules.files import default_curfew_rule, parse_curfew_rule
from schedules.local_time import Repeated, local_date, local_instant, school_zone
from schedules.source import Located, Problem, SourceError, load_yaml, validate

__all__ = [
    "ALL_DAY_KINDS",
    "ALL_WEEKDAYS",
    "CurfewEdge",
    "CurfewRule",
    "CurfewWindow",
    "DateSpan",
    "DayKind",
    "Interval",
    "Located",
    "Problem",
    "Repeated",
    "SourceError",
    "TermCalendar",
    "Weekday",
    "curfew_edges",
    "curfew_window_at",
    "curfew_windows",
    "default_curfew_rule",
    "in_curfew",
    "load_yaml",
    "local_date",
    "local_instant",
    "next_curfew_edge",
    "parse_curfew_rule",
    "parse_term_calendar",
    "school_zone",
    "validate",
]
