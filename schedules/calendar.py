"""Term calendars: which local dates are term, holiday or closure, read from iCalendar.

The school exports its calendar (.ics) from its MIS or shared calendar; `parse_term_calendar`
turns the all-day events in it into a `TermCalendar`. `schedules.curfew` asks it for the kind of
each date. Pure: the caller reads the file and passes its text in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class DayKind(StrEnum):
    TERM = "term"  # a date inside a term (weekends included; curfew windows pick weekdays)
    HOLIDAY = "holiday"  # between terms, half terms, bank holidays, INSET days
    CLOSURE = "closure"  # the school is shut but teaching goes on remotely (R20)


@dataclass(frozen=True, kw_only=True, slots=True)
class DateSpan:
    """Local dates `first` to `last`, both included."""

    first: date
    last: date
    name: str = ""

    def __contains__(self, day: object) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True, slots=True)
class TermCalendar:
    """Terms, holidays and closures of one school. No terms at all means every date is term."""

    terms: tuple[DateSpan, ...] = ()
    holidays: tuple[DateSpan, ...] = ()
    closures: tuple[DateSpan, ...] = ()

    def day_kind(self, day: date) -> DayKind:
        raise NotImplementedError


def parse_term_calendar(text: str, file: str) -> TermCalendar:
    """The term calendar in iCalendar `text`, or a SourceError naming file and line."""
    raise NotImplementedError
