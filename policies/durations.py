"""Durations as schools write them in policy files: "30m", "48h", "2d", "1w", or ISO 8601
("P2D", "PT48H", "P1W", "P1DT12H"). Used by `files` for ban lengths and the repeat window.
Months and years are refused: their length varies, and a ban's end must be exact.
"""

from __future__ import annotations

import re
from datetime import timedelta

_SHORT = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
_ISO = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """The duration `text` names, or ValueError saying which forms are accepted."""
    value = text.strip()
    short = _SHORT.match(value.lower())
    if short:
        amount, unit = short.groups()
        duration = timedelta(**{_UNITS[unit]: int(amount)})
    else:
        iso = _ISO.match(value.upper())
        if not iso or value.upper() in ("P", "PT") or value.upper().endswith("T"):
            raise ValueError(
                f"{text!r} is not a duration: write e.g. 30m, 48h, 2d, 1w or ISO 8601 P2D, PT48H"
            )
        parts = {name: int(amount) for name, amount in iso.groupdict().items() if amount}
        duration = timedelta(**parts)
    if duration <= timedelta(0):
        raise ValueError(f"{text!r}: a duration must be longer than zero")
    return duration
