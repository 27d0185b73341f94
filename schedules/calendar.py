"""Term calendars: which local dates are term, holiday or closure, read from iCalendar.

The school exports its calendar (.ics) from its MIS or shared calendar, and `parse_term_calendar`
turns it into a `TermCalendar`; `schedules.curfew` asks that for the kind of each date. Only
all-day events whose CATEGORIES say TERM, HOLIDAY (or INSET, BANK HOLIDAY) or CLOSURE count;
parents' evenings, trips and the rest of a school calendar are left alone. Pure: the caller reads
the file and passes its text in, and every problem names the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from schedules.source import Problem, SourceError


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

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"DateSpan {self.name!r} ends ({self.last}) before it starts")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


@dataclass(frozen=True, kw_only=True, slots=True)
class TermCalendar:
    """Terms, holidays and closures of one school. No terms at all means every date is term.

    A closure beats a holiday, and a holiday beats a term, so an INSET day or half term inside a
    term event is still a day off. Dates outside every term are holidays.
    """

    terms: tuple[DateSpan, ...] = ()
    holidays: tuple[DateSpan, ...] = ()
    closures: tuple[DateSpan, ...] = ()

    def day_kind(self, day: date) -> DayKind:
        if any(day in span for span in self.closures):
            return DayKind.CLOSURE
        if any(day in span for span in self.holidays):
            return DayKind.HOLIDAY
        if not self.terms or any(day in span for span in self.terms):
            return DayKind.TERM
        return DayKind.HOLIDAY


_CATEGORIES = {
    "term": DayKind.TERM,
    "holiday": DayKind.HOLIDAY,
    "holidays": DayKind.HOLIDAY,
    "half term": DayKind.HOLIDAY,
    "bank holiday": DayKind.HOLIDAY,
    "inset": DayKind.HOLIDAY,
    "closure": DayKind.CLOSURE,
}
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DURATION = re.compile(r"^\+?P(?:(\d+)W|(\d+)D)$")


@dataclass(slots=True)
class _Property:
    name: str
    params: dict[str, str]
    value: str
    line: int


@dataclass(slots=True)
class _Event:
    line: int
    properties: list[_Property]

    def first(self, name: str) -> _Property | None:
        return next((p for p in self.properties if p.name == name), None)


def parse_term_calendar(text: str, file: str) -> TermCalendar:
    """The term calendar in iCalendar `text`, or a SourceError naming file and line."""
    problems: list[Problem] = []
    events = _events(_content_lines(text), file, problems)
    spans: dict[DayKind, list[DateSpan]] = {kind: [] for kind in DayKind}
    for event in events:
        kind = _kind(event)
        if kind is None or _cancelled(event):
            continue
        span = _span(event, file, problems)
        if span is not None:
            spans[kind].append(span)
    if not problems and not any(spans.values()):
        message = "no all-day event has CATEGORIES TERM, HOLIDAY or CLOSURE"
        problems.append(Problem(file, 1, "", message))
    if problems:
        raise SourceError(problems)
    return TermCalendar(
        terms=tuple(sorted(spans[DayKind.TERM], key=_order)),
        holidays=tuple(sorted(spans[DayKind.HOLIDAY], key=_order)),
        closures=tuple(sorted(spans[DayKind.CLOSURE], key=_order)),
    )


def _order(span: DateSpan) -> tuple[date, date]:
    return span.first, span.last


def _content_lines(text: str) -> list[tuple[int, str]]:
    """Unfolded content lines with the number of the physical line each starts on."""
    unfolded: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw[:1] in (" ", "\t") and unfolded:
            start, line = unfolded[-1]
            unfolded[-1] = (start, line + raw[1:])
        elif raw.strip():
            unfolded.append((number, raw))
    return unfolded


def _split(line: str, number: int) -> _Property | None:
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            head, value = line[:index], line[index + 1 :]
            name, *params = head.split(";")
            pairs = dict(_param(param) for param in params)
            return _Property(name.strip().upper(), pairs, value, number)
    return None


def _param(param: str) -> tuple[str, str]:
    key, _, value = param.partition("=")
    return key.strip().upper(), value.strip().strip('"')


def _events(lines: list[tuple[int, str]], file: str, problems: list[Problem]) -> list[_Event]:
    events: list[_Event] = []
    stack: list[tuple[str, int]] = []
    current: _Event | None = None
    for number, line in lines:
        prop = _split(line, number)
        if prop is None:
            problems.append(Problem(file, number, "", f"not an iCalendar line: {line[:40]!r}"))
            continue
        if not stack and prop.name != "BEGIN":
            problems.append(Problem(file, number, prop.name, "outside BEGIN:VCALENDAR"))
            continue
        if prop.name == "BEGIN":
            component = prop.value.strip().upper()
            if not stack and component != "VCALENDAR":
                problems.append(Problem(file, number, "", "the file must start BEGIN:VCALENDAR"))
            stack.append((component, number))
            if component == "VEVENT" and len(stack) == 2:
                current = _Event(number, [])
        elif prop.name == "END":
            component = prop.value.strip().upper()
            if not stack or stack[-1][0] != component:
                expected = stack[-1][0] if stack else "nothing"
                message = f"END:{component} where END:{expected} was expected"
                problems.append(Problem(file, number, "", message))
                continue
            stack.pop()
            if component == "VEVENT" and current is not None and len(stack) == 1:
                events.append(current)
                current = None
        elif current is not None and len(stack) == 2:
            current.properties.append(prop)
    for component, number in stack:
        problems.append(Problem(file, number, "", f"BEGIN:{component} is never ended"))
    if not lines:
        problems.append(Problem(file, 1, "", "empty file: expected BEGIN:VCALENDAR"))
    return events


def _kind(event: _Event) -> DayKind | None:
    kinds = [
        _CATEGORIES[name]
        for prop in event.properties
        if prop.name == "CATEGORIES"
        for name in (" ".join(part.split()).lower() for part in prop.value.split(","))
        if name in _CATEGORIES
    ]
    # A day off tagged both ways is a day off: the stronger kind wins, as in day_kind.
    for kind in (DayKind.CLOSURE, DayKind.HOLIDAY, DayKind.TERM):
        if kind in kinds:
            return kind
    return None


def _cancelled(event: _Event) -> bool:
    status = event.first("STATUS")
    return status is not None and status.value.strip().upper() == "CANCELLED"


def _span(event: _Event, file: str, problems: list[Problem]) -> DateSpan | None:
    summary = event.first("SUMMARY")
    name = _unescape(summary.value) if summary else ""
    for repeat in ("RRULE", "RDATE", "EXDATE"):
        prop = event.first(repeat)
        if prop is not None:
            message = "repeating events are not supported for terms, holidays and closures"
            problems.append(Problem(file, prop.line, repeat, f"{message}; list each one"))
            return None
    start_prop = event.first("DTSTART")
    if start_prop is None:
        problems.append(Problem(file, event.line, "DTSTART", "the event has no DTSTART"))
        return None
    first = _date(start_prop, file, problems)
    if first is None:
        return None
    end_prop, duration = event.first("DTEND"), event.first("DURATION")
    if end_prop is not None:
        end = _date(end_prop, file, problems)
        if end is None:
            return None
    elif duration is not None:
        match = _DURATION.match(duration.value.strip().upper())
        if not match:
            message = f"use whole days or weeks (P3D, P2W), not {duration.value!r}"
            problems.append(Problem(file, duration.line, "DURATION", message))
            return None
        weeks, days = match.groups()
        end = first + timedelta(weeks=int(weeks or 0), days=int(days or 0))
    else:
        end = first + timedelta(days=1)  # RFC 5545: an all-day event without an end lasts a day
    if end <= first:
        where = end_prop or duration
        line = where.line if where else event.line
        problems.append(Problem(file, line, "DTEND", f"the event {name!r} ends before it starts"))
        return None
    return DateSpan(first=first, last=end - timedelta(days=1), name=name)  # DTEND is exclusive


def _date(prop: _Property, file: str, problems: list[Problem]) -> date | None:
    value = prop.value.strip()
    match = _DATE.match(value)
    if not match or prop.params.get("VALUE", "DATE").upper() != "DATE":
        message = f"use an all-day date (;VALUE=DATE:YYYYMMDD), not {value!r}"
        problems.append(Problem(file, prop.line, prop.name, message))
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError as error:
        problems.append(Problem(file, prop.line, prop.name, f"not a date: {value} ({error})"))
        return None


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)
