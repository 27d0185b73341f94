"""Fixtures for the mock MDM's contract tests: a manual clock and small, predictable fleets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.generate import FleetConfig

START = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


def calm_config(devices: int = 10, seed: int = 7) -> FleetConfig:
    """A fleet with no offline, locked, unsupervised or passcode-less surprises."""
    return FleetConfig(
        devices=devices,
        seed=seed,
        unsupervised_share=0.0,
        offline_share=0.0,
        locked_share=0.0,
        no_passcode_share=0.0,
        unenrolled_devices=2,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def fleet(clock: ManualClock) -> Fleet:
    return Fleet.build(calm_config(), clock)
