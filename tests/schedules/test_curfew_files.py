"""Curfew rule files: a good file becomes a rule, a bad one names file, line and field."""

from __future__ import annotations

from datetime import time

import pytest

from schedules.calendar import DayKind
from schedules.curfew import ALL_DAY_KINDS, ALL_WEEKDAYS, CurfewWindow, Weekday
from schedules.files import default_curfew_rule, parse_curfew_rule
from schedules.source import SourceError

GOOD = """\
name: home-use nights
timezone: Europe/London
windows:
  - days: [Sun, monday, tue, wed, thu]
    when: [term]
    start: "20:00"
    end: "7:00"
  - start: "21:00"
    end: "08:30"
"""


def test_a_good_file_becomes_a_rule() -> None:
    rule = parse_curfew_rule(GOOD, "curfew.yaml")
    assert rule.name == "home-use nights"
    assert rule.windows == (
        CurfewWindow(
            start=time(20),
            end=time(7),
            days=frozenset({Weekday.SUN, Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU}),
            day_kinds=frozenset({DayKind.TERM}),
        ),
        CurfewWindow(start=time(21), end=time(8, 30)),
    )


def test_the_bundled_default_locks_every_night_from_2000_to_0700() -> None:
    rule = default_curfew_rule()
    assert rule.timezone == "Europe/London"
    assert rule.windows == (
        CurfewWindow(start=time(20), end=time(7), days=ALL_WEEKDAYS, day_kinds=ALL_DAY_KINDS),
    )


BAD = """\
name: x
timezone: Europe/Lndon
windows:
  - start: 20:00
    end: "25:00"
    days: [mon, fr]
    when: []
    colour: red
  - start: "20:00"
    end: "20:00"
"""


def test_every_problem_names_file_line_and_field() -> None:
    with pytest.raises(SourceError) as caught:
        parse_curfew_rule(BAD, "curfew.yaml")
    lines = str(caught.value).splitlines()
    expected = [
        "curfew.yaml:2: timezone: Value error, unknown time zone 'Europe/Lndon'",
        'curfew.yaml:4: windows.0.start: Value error, write the time in quotes, e.g. "20:00"',
        'curfew.yaml:5: windows.0.end: Value error, expected a 24-hour time such as "20:00"',
        "curfew.yaml:6: windows.0.days: Value error, unknown day 'fr'",
        "curfew.yaml:7: windows.0.when: Value error, list at least one",
        "curfew.yaml:8: windows.0.colour: Extra inputs are not permitted",
        "curfew.yaml:9: windows.1: Value error, start and end are the same time",
    ]
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start)


def test_an_unknown_kind_of_day_is_refused() -> None:
    text = GOOD.replace("when: [term]", "when: [weekend]")
    with pytest.raises(SourceError, match=r"curfew.yaml:5: windows.0.when.0: "):
        parse_curfew_rule(text, "curfew.yaml")
