"""The mock MDM's own notion of time.

Every part of the mock (fleet check-ins, token expiry, ``RemovalDate``, ``Retry-After``) asks a
``Clock`` for the time instead of reading the wall clock, so tests drive time with a
``ManualClock`` and never sleep. ``SystemClock`` is what ``mdm-bridge mock`` uses when serving.
This is the only module of ``mocks`` allowed to read the wall clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Source of the current instant as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start if start is not None else datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
        self._now = ensure_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = ensure_utc(instant)

    def advance(self, by: float | timedelta) -> datetime:
        """Move forward by seconds or a timedelta and return the new instant."""
        step = by if isinstance(by, timedelta) else timedelta(seconds=by)
        if step < timedelta(0):
            raise ValueError("a manual clock only moves forward")
        self._now = self._now + step
        return self._now


def ensure_utc(instant: datetime) -> datetime:
    """Return ``instant`` as an aware UTC datetime; naive values are refused, not guessed."""
    if instant.tzinfo is None:
        raise ValueError("the mock clock works with aware datetimes only")
    return instant.astimezone(UTC)


def to_epoch(instant: datetime) -> float:
    """Seconds since the epoch; the fleet keeps its timetable in these for compact storage."""
    return instant.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def monotonic_seconds() -> float:
    """Monotonic seconds, for measuring durations (benchmarks, ticker pacing), never for dates."""
    return time.monotonic()
