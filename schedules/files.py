"""Curfew rule files (YAML) the technician edits, and the defaults shipped with the bridge.

Called by `policies` and the service when loading a school's configuration; calls
`schedules.source` so that every error names file, line and field. A file looks like:

    name: home-use nights
    timezone: Europe/London
    windows:
      - days: [sun, mon, tue, wed, thu]  # the day the window starts; default every day
        when: [term]                     # term, holiday, closure; default all three
        start: "20:00"
        end: "07:00"                     # before start: ends the next morning
"""

from __future__ import annotations

import re
from datetime import time
from importlib.resources import files
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schedules.calendar import DayKind
from schedules.curfew import ALL_DAY_KINDS, ALL_WEEKDAYS, CurfewRule, CurfewWindow, Weekday
from schedules.local_time import school_zone
from schedules.source import load_yaml, validate

DEFAULT_FILE = "defaults/curfew.yaml"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DAYS = {
    name: day
    for day in Weekday
    for name in (
        day.name.lower(),
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[day],
    )
}


class _WindowFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time
    end: time
    days: list[Weekday] = Field(default_factory=lambda: sorted(ALL_WEEKDAYS))
    when: list[DayKind] = Field(default_factory=lambda: sorted(ALL_DAY_KINDS))

    @field_validator("start", "end", mode="before")
    @classmethod
    def _wall_time(cls, value: Any) -> time:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError('write the time in quotes, e.g. "20:00" (YAML reads 20:00 as 1200)')
        match = _TIME.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f'expected a 24-hour time such as "20:00", got {value!r}')
        return time(int(match[1]), int(match[2]))

    @field_validator("days", mode="before")
    @classmethod
    def _weekdays(cls, value: Any) -> list[Weekday]:
        if not isinstance(value, list):
            raise ValueError("expected a list of days such as [mon, tue]")
        unknown = [day for day in value if str(day).strip().lower() not in _DAYS]
        if unknown:
            raise ValueError(f"unknown day {unknown[0]!r}; use mon, tue, wed, thu, fri, sat, sun")
        return [_DAYS[str(day).strip().lower()] for day in value]

    @field_validator("days", "when")
    @classmethod
    def _not_empty(cls, value: list[Any]) -> list[Any]:
        if not value:
            raise ValueError("list at least one")
        return value

    @model_validator(mode="after")
    def _has_length(self) -> _WindowFile:
        if self.start == self.end:
            raise ValueError("start and end are the same time; a window needs a length")
        return self


class _RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    timezone: str
    windows: list[_WindowFile]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        school_zone(value)
        return value


def parse_curfew_rule(text: str, file: str) -> CurfewRule:
    """The curfew rule in YAML `text`, or a SourceError naming file and line of each problem."""
    parsed = validate(_RuleFile, load_yaml(text, file))
    return CurfewRule(
        name=parsed.name,
        timezone=parsed.timezone,
        windows=tuple(
            CurfewWindow(
                start=window.start,
                end=window.end,
                days=frozenset(window.days),
                day_kinds=frozenset(window.when),
            )
            for window in parsed.windows
        ),
    )


def default_curfew_rule() -> CurfewRule:
    """The bundled default: home iPads locked 20:00-07:00 school-local time, every night."""
    text = files("schedules").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return parse_curfew_rule(text, f"schedules/{DEFAULT_FILE}")
