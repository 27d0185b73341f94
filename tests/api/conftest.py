"""Fixtures for API tests: `bridge`, a running bridge with a registered mock Jamf Pro."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.bridge import Bridge, open_bridge


@pytest.fixture
async def bridge(database_url: str) -> AsyncIterator[Bridge]:
    async with open_bridge(database_url) as running:
        yield running
