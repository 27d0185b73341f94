"""Term calendars from a school's iCalendar export: kinds of day, and errors with file:line."""

from __future__ import annotations

from datetime import date

import pytest

from schedules.calendar import DateSpan, DayKind, TermCalendar, parse_term_calendar
from schedules.source import SourceError

ICS = """\
BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//School MIS//EN\r
BEGIN:VEVENT\r
UID:1\r
SUMMARY:Autumn term\r
CATEGORIES:Term\r
DTSTART;VALUE=DATE:20250903\r
DTEND;VALUE=DATE:20251220\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2\r
SUMMARY:Half term\\, autumn\r
CATEGORIES:School events,Half Term\r
DTSTART;VALUE=DATE:20251027\r
DURATION:P1W\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
TRIGGER:-P1D\r
END:VALARM\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:3\r
SUMMARY:INSET day\r
CATEGORIES:INSET\r
DTSTART;VALUE=DATE:20251114\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:4\r
SUMMARY:Snow closure, lessons on \r
 Teams\r
CATEGORIES:Closure\r
DTSTART;VALUE=DATE:20251203\r
DTEND;VALUE=DATE:20251205\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:5\r
SUMMARY:Parents' evening\r
DTSTART:20251008T160000Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:6\r
SUMMARY:Cancelled closure\r
STATUS:CANCELLED\r
CATEGORIES:CLOSURE\r
DTSTART;VALUE=DATE:20251001\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_export_gives_terms_holidays_and_closures() -> None:
    calendar = parse_term_calendar(ICS, "terms.ics")
    assert calendar.terms == (
        DateSpan(first=date(2025, 9, 3), last=date(2025, 12, 19), name="Autumn term"),
    )
    assert calendar.holidays[0] == DateSpan(
        first=date(2025, 10, 27), last=date(2025, 11, 2), name="Half term, autumn"
    )
    assert calendar.closures[0].name == "Snow closure, lessons on Teams"
    kinds = {
        date(2025, 9, 2): DayKind.HOLIDAY,  # summer, before the term
        date(2025, 9, 3): DayKind.TERM,
        date(2025, 9, 6): DayKind.TERM,  # a Saturday in term is still term
        date(2025, 10, 1): DayKind.TERM,  # the cancelled closure does not count
        date(2025, 10, 27): DayKind.HOLIDAY,
        date(2025, 11, 2): DayKind.HOLIDAY,
        date(2025, 11, 3): DayKind.TERM,
        date(2025, 11, 14): DayKind.HOLIDAY,  # INSET lasts the one day
        date(2025, 11, 15): DayKind.TERM,
        date(2025, 12, 4): DayKind.CLOSURE,
        date(2025, 12, 5): DayKind.TERM,  # DTEND is exclusive
        date(2025, 12, 20): DayKind.HOLIDAY,
    }
    assert {day: calendar.day_kind(day) for day in kinds} == kinds


def test_a_calendar_without_terms_is_term_except_its_days_off() -> None:
    day_off = DateSpan(first=date(2025, 5, 5), last=date(2025, 5, 5))
    calendar = TermCalendar(holidays=(day_off,))
    assert calendar.day_kind(date(2025, 5, 4)) == DayKind.TERM
    assert calendar.day_kind(date(2025, 5, 5)) == DayKind.HOLIDAY


def test_a_span_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        DateSpan(first=date(2025, 5, 5), last=date(2025, 5, 4))


def problems(text: str) -> list[str]:
    with pytest.raises(SourceError) as caught:
        parse_term_calendar(text, "terms.ics")
    return str(caught.value).splitlines()


def event(*lines: str) -> str:
    body = "\n".join(("BEGIN:VEVENT", "CATEGORIES:TERM", *lines, "END:VEVENT"))
    return f"BEGIN:VCALENDAR\n{body}\nEND:VCALENDAR\n"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ("DTSTART:20250903T080000Z",),
            "terms.ics:4: DTSTART: use an all-day date (;VALUE=DATE:YYYYMMDD), "
            "not '20250903T080000Z'",
        ),
        (("DTSTART;VALUE=DATE:20250230",), "terms.ics:4: DTSTART: not a date: 20250230"),
        (
            ("DTSTART;VALUE=DATE:20250903", "DTEND;VALUE=DATE:20250901"),
            "terms.ics:5: DTEND: the event '' ends before it starts",
        ),
        (
            ("DTSTART;VALUE=DATE:20250903", "RRULE:FREQ=WEEKLY"),
            "terms.ics:5: RRULE: repeating events are not supported",
        ),
        (
            ("DTSTART;VALUE=DATE:20250903", "DURATION:PT8H"),
            "terms.ics:5: DURATION: use whole days or weeks",
        ),
        (("SUMMARY:Spring term",), "terms.ics:2: DTSTART: the event has no DTSTART"),
    ],
)
def test_a_bad_event_names_file_line_and_property(lines: tuple[str, ...], expected: str) -> None:
    found = problems(event(*lines))
    assert len(found) == 1
    assert found[0].startswith(expected)


def test_broken_structure_names_the_line() -> None:
    assert problems("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n") == [
        "terms.ics:3: END:VCALENDAR where END:VEVENT was expected",
        "terms.ics:1: BEGIN:VCALENDAR is never ended",
        "terms.ics:2: BEGIN:VEVENT is never ended",
    ]
    assert problems("hello\n") == ["terms.ics:1: not an iCalendar line: 'hello'"]
    assert problems("") == ["terms.ics:1: empty file: expected BEGIN:VCALENDAR"]


def test_a_calendar_with_nothing_the_bridge_uses_is_refused() -> None:
    text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Sports day\nEND:VEVENT\nEND:VCALENDAR\n"
    assert problems(text) == [
        "terms.ics:1: no all-day event has CATEGORIES TERM, HOLIDAY or CLOSURE"
    ]
