"""The clock: the fake moves only when told; the real one is aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mdm_bridge.clock import FakeClock, SystemClock

START = datetime(2026, 10, 24, 19, 59, 30, tzinfo=UTC)


def test_fake_clock_stands_still() -> None:
    clock = FakeClock(START)
    assert clock.now() == START
    assert clock.now() == START
    assert clock.monotonic() == 0.0


def test_advance_by_timedelta_and_seconds() -> None:
    clock = FakeClock(START)
    assert clock.advance(timedelta(seconds=30)) == datetime(2026, 10, 24, 20, 0, tzinfo=UTC)
    assert clock.advance(90) == datetime(2026, 10, 24, 20, 1, 30, tzinfo=UTC)
    assert clock.monotonic() == 120.0


def test_set_converts_to_utc_and_keeps_monotonic_forward() -> None:
    clock = FakeClock(START)
    london = ZoneInfo("Europe/London")
    # 01:30 on the night UK clocks go back happens twice; fold=1 is the second, GMT one.
    clock.set(datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=london))
    assert clock.now() == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    elapsed = clock.monotonic()
    clock.set(START)  # jumping back moves "now" but never monotonic time
    assert clock.now() == START
    assert clock.monotonic() == elapsed


def test_fake_clock_refuses_naive_instants() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    clock = FakeClock(START)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 1, 1))  # noqa: DTZ001


def test_fake_clock_never_goes_back_with_advance() -> None:
    with pytest.raises(ValueError, match="forward"):
        FakeClock(START).advance(-1)


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
