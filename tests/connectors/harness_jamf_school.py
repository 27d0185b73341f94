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
from dataclasses import replace
from typing import Any

import httpx
from fastapi import FastAPI

from connectors.base import ConnectorConfig
from connectors.jamf_school import create_connector
from mdm_bridge.clock import FakeClock
from mdm_bridge.model import ProfileDocument
from mocks import jamf_school
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_school.fixtures import APP_BAN_GROUP, CURFEW_GROUP, SAFARI_BAN_GROUP
from mocks.jamf_school.state import DEFAULT_API_KEY, DEFAULT_NETWORK_ID, JamfSchoolOptions
from tests.connectors.harness import START, DeviceTruth, Harness, Sleeper

BASE_URL = "https://school.jamfcloud.com/api"
CONTROL_URL = "https://school.jamfcloud.com"
CURFEW = "org.mdm-bridge.curfew"
SAFARI_BAN = "org.mdm-bridge.ban.safari"
APP_STORE_BAN = "org.mdm-bridge.ban.app-store"
# The bridge profile -> console group names; `profile_groups` writes the Safari ban by id.
GROUP_NAMES = {CURFEW: CURFEW_GROUP, SAFARI_BAN: SAFARI_BAN_GROUP, APP_STORE_BAN: APP_BAN_GROUP}
# What the suite installs: the Safari ban, whose console profile has no time filter (the curfew
# one is only on devices from 20:00, an hour after the harness's start). Jamf School never sees
# this content; the console profile scoped to the mapped group is what reaches the iPad.
TEST_PROFILE = ProfileDocument(
    identifier=SAFARI_BAN,
    display_name="Ban: no Safari",
    payloads=({"PayloadType": "com.apple.applicationaccess", "allowSafari": False},),
)


class JamfSchoolHarness(Harness):
    """The shared harness, speaking of bridge profiles and sure to meet a 429 burst.

    Jamf School lists every device in one request (no paging), so a per-request chance of a
    429 burst would usually miss it; starting a burst along with the share keeps the suite's
    "survives 429 bursts" meaning for this vendor. The iPads carry the console-made profiles
    (`com.zuludesk.…`), so the device truth names them by the bridge profile mapped to their
    group, which is what the suite installs and looks for.
    """

    async def device_truth(self, serial: str) -> DeviceTruth:
        truth = await super().device_truth(serial)
        bridge_names = bridge_profile_by_console_identifier(self.fleet, self.app)
        profiles = frozenset(bridge_names.get(name, name) for name in truth.profiles)
        return replace(truth, profiles=profiles)

    async def set_faults(self, **changes: Any) -> None:
        await super().set_faults(**changes)
        if changes.get("rateLimitShare"):
            burst = {"count": 2, "retryAfterSeconds": changes.get("retryAfterSeconds", 2)}
            response = await self.control.post("/_mock/faults/rate-limit-burst", json=burst)
            assert response.status_code == 200, response.text


def bridge_profile_by_console_identifier(fleet: Fleet, app: FastAPI) -> dict[str, str]:
    """Console profile identifier -> the bridge profile whose mapped group it is scoped to."""
    state = jamf_school.jamf_school_state_of(app)
    by_group: dict[int, str] = {}
    for bridge_profile, name in GROUP_NAMES.items():
        group = fleet.group_by_name(name)
        assert group is not None
        by_group[group.group_id] = bridge_profile
    return {
        school_profile.fixture.identifier: by_group[group_id]
        for school_profile in state.profiles.values()
        for group_id in school_profile.group_ids
        if group_id in by_group
    }


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
            test_profile=TEST_PROFILE,
        )
        await connector.aclose()
