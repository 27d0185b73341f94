"""The one place the service reads time.

Everything that needs "now" (curfew edges, ban expiries, token lifetimes, audit timestamps) takes
a `Clock`. Production wiring passes `SystemClock`; tests pass `FakeClock` and move it by hand, so
DST nights and expiries are exact and no test sleeps.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Source of the current instant (always timezone-aware, in UTC) and of elapsed time."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The real wall clock. The only class in the service allowed to read it."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"clock instants must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)


class FakeClock:
    """A clock that moves only when told to; safe to share between threads."""

    def __init__(self, start: datetime) -> None:
        self._now = _require_aware(start)
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def set(self, instant: datetime) -> None:
        """Jump to `instant`; it may go back (a device clock can), monotonic time never does."""
        target = _require_aware(instant)
        with self._lock:
            self._elapsed += max(0.0, (target - self._now).total_seconds())
            self._now = target

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by `delta` (a timedelta or seconds) and return the new instant."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("advance() moves forward only; use set() to jump back")
        with self._lock:
            self._now += step
            self._elapsed += step.total_seconds()
            return self._now
