"""The conformance suite against the Apple School Manager connector and its mock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.connectors.conformance import *  # noqa: F403 - the shared suite runs here
from tests.connectors.conformance import DEVICES
from tests.connectors.harness import Harness, apple_school_manager


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with apple_school_manager(DEVICES) as harness:
        yield harness
