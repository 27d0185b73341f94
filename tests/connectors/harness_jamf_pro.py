"""The Jamf Pro connector wired to the Jamf Pro mock over ASGI, for the conformance suite and
the connector's own tests. One fake clock drives the connector, its sleeps and the mock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx

from connectors.base import ConnectorConfig
from connectors.jamf_pro import JamfProConnector, create_connector
from mdm_bridge.clock import FakeClock
from mdm_bridge.model import ProfileDocument
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_pro.app import build_jamf_pro_app
from mocks.jamf_pro.state import JamfProSettings
from tests.connectors.harness import START, Harness, Sleeper

JAMF_URL = "https://school.jamfcloud.com"
# Small command batches, so a 40-device test still sends several bulk requests into the faults.
CLIENT_OPTIONS = {"client_id": "mdm-bridge", "command_batch_size": "8"}
CLIENT_SECRETS = {"client_secret": "mdm-bridge-secret"}
USER_OPTIONS = {"username": "bridge"}
USER_SECRETS = {"password": "bridge-password"}

CURFEW = ProfileDocument(
    identifier="org.mdm-bridge.curfew",
    display_name="Curfew: apps off",
    payloads=(
        {
            "PayloadType": "com.apple.applicationaccess",
            "allowSafari": False,
            "allowListedAppBundleIDs": ["com.apple.mobilenotes"],
        },
    ),
    removal_date=START + timedelta(hours=12),
)


async def _no_wait(seconds: float) -> None:
    """The mock's injected latency: let other requests run, but do not really wait."""
    await asyncio.sleep(0)


@asynccontextmanager
async def jamf_pro(
    devices: int,
    *,
    options: Mapping[str, str] = CLIENT_OPTIONS,
    secrets: Mapping[str, str] = CLIENT_SECRETS,
    fleet_config: FleetConfig | None = None,
    settings: JamfProSettings | None = None,
) -> AsyncIterator[Harness]:
    clock = FakeClock(START)
    fleet = Fleet.build(fleet_config or FleetConfig(devices=devices, seed=11), clock)
    app = build_jamf_pro_app(fleet, settings=settings, sleep=_no_wait)
    config = ConnectorConfig(
        name="jamf-pro", base_url=JAMF_URL, options=dict(options), secrets=dict(secrets)
    )
    sleeper = Sleeper(clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        httpx.AsyncClient(transport=transport, base_url=JAMF_URL) as control,
    ):
        connector = create_connector(config, client=client, clock=clock, sleep=sleeper)
        yield Harness(
            connector=connector,
            app=app,
            fleet=fleet,
            clock=clock,
            sleeper=sleeper,
            control=control,
            expected_serials={d.serial for d in fleet.devices},
            extra={"state": app.state.jamf_pro},
            test_profile=CURFEW,
        )
        await connector.aclose()


def jamf_connector(harness: Harness) -> JamfProConnector:
    assert isinstance(harness.connector, JamfProConnector)
    return harness.connector
