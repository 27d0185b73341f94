"""The Jamf School connector wired to the fake Jamf School over ASGI, for the conformance suite.

The technician's console set-up comes from the mock's default fixtures (`mocks.jamf_school`): a
profile per bridge profile, each scoped to a static group. `PROFILE_GROUPS` is the connector's
mapping onto those groups, by name for some entries and by id for others, as a school might
write it. One `FakeClock` drives the fleet and the connector's sleeps.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from connectors.base import ConnectorConfig
from connectors.jamf_school import create_connector
from mdm_bridge.clock import FakeClock
from mocks import jamf_school
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_school.fixtures import APP_BAN_GROUP, CURFEW_GROUP, SAFARI_BAN_GROUP
from mocks.jamf_school.state import DEFAULT_API_KEY, DEFAULT_NETWORK_ID, JamfSchoolOptions
from tests.connectors.harness import START, Harness, Sleeper

BASE_URL = "https://school.jamfcloud.com/api"
CONTROL_URL = "https://school.jamfcloud.com"
CURFEW = "org.mdm-bridge.curfew"
SAFARI_BAN = "org.mdm-bridge.ban.safari"
APP_STORE_BAN = "org.mdm-bridge.ban.app-store"
# The bridge profile -> console group names; `profile_groups` writes the Safari ban by id.
GROUP_NAMES = {CURFEW: CURFEW_GROUP, SAFARI_BAN: SAFARI_BAN_GROUP, APP_STORE_BAN: APP_BAN_GROUP}


class JamfSchoolHarness(Harness):
    """The shared harness, with 429 bursts that are sure to meet the inventory read.

    Jamf School lists every device in one request (no paging), so a per-request chance of a
    429 burst would usually miss it; starting a burst along with the share keeps the suite's
    "survives 429 bursts" meaning for this vendor.
    """

    async def set_faults(self, **changes: Any) -> None:
        await super().set_faults(**changes)
        if changes.get("rateLimitShare"):
            burst = {"count": 2, "retryAfterSeconds": changes.get("retryAfterSeconds", 2)}
            response = await self.control.post("/_mock/faults/rate-limit-burst", json=burst)
            assert response.status_code == 200, response.text


def profile_groups(fleet: Fleet) -> dict[str, int | str]:
    """The mapping a technician would configure for the mock's console fixtures."""
    safari = fleet.group_by_name(SAFARI_BAN_GROUP)
    assert safari is not None
    return {CURFEW: CURFEW_GROUP, SAFARI_BAN: safari.group_id, APP_STORE_BAN: APP_BAN_GROUP}


def jamf_school_config(
    mapping: Mapping[str, int | str],
    *,
    api_key: str = DEFAULT_API_KEY,
    options: Mapping[str, str] | None = None,
) -> ConnectorConfig:
    return ConnectorConfig(
        name="jamf-school",
        base_url=BASE_URL,
        options={"network_id": DEFAULT_NETWORK_ID, "profile_groups": json.dumps(mapping)}
        | dict(options or {}),
        secrets={"api_key": api_key},
    )


@asynccontextmanager
async def jamf_school_harness(
    devices: int,
    *,
    options: JamfSchoolOptions | None = None,
    mapping: Mapping[str, int | str] | None = None,
    api_key: str = DEFAULT_API_KEY,
) -> AsyncIterator[Harness]:
    clock = FakeClock(START)
    fleet = Fleet.build(FleetConfig(devices=devices, seed=17), clock)
    app = jamf_school.create_app(fleet, clock, options or JamfSchoolOptions())
    sleeper = Sleeper(clock)
    transport = httpx.ASGITransport(app=app)
    config = jamf_school_config(mapping or profile_groups(fleet), api_key=api_key)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        httpx.AsyncClient(transport=transport, base_url=CONTROL_URL) as control,
    ):
        connector = create_connector(config, client=client, clock=clock, sleep=sleeper)
        extra: dict[str, Any] = {"state": jamf_school.jamf_school_state_of(app)}
        yield JamfSchoolHarness(
            connector=connector,
            app=app,
            fleet=fleet,
            clock=clock,
            sleeper=sleeper,
            control=control,
            expected_serials={device.serial for device in fleet.devices},
            extra=extra,
        )
        await connector.aclose()
