"""The conformance suite against the Jamf Pro connector and its mock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.connectors.conformance import *  # noqa: F403 - the shared suite runs here
from tests.connectors.conformance import DEVICES
from tests.connectors.harness import Harness
from tests.connectors.harness_jamf_pro import jamf_pro


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with jamf_pro(DEVICES) as harness:
        yield harness
