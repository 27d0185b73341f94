"""Each connector wired to its mock over ASGI, with one fake clock driving both.

Each `test_conformance_<vendor>.py` turns one of these into its `harness` fixture: a mock app
from a seeded fleet, a connector pointed at it, and the mock's ground truth for the suite.
The connector's sleeps advance the shared clock instead of waiting, so backoff, Retry-After and
rate budgets play out exactly and instantly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI

from connectors.apple_school_manager import create_connector as create_asm
from connectors.base import Connector, ConnectorConfig
from mdm_bridge.clock import FakeClock
from mdm_bridge.model import ProfileDocument
from mocks import asm
from mocks.asm.assertion import RegisteredClient
from mocks.asm.state import AsmOptions
from mocks.fleet import Fleet
from mocks.generate import FleetConfig

START = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


class Sleeper:
    """Stands in for asyncio.sleep: records each delay and moves the fake clock instead."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)


@dataclass(frozen=True, kw_only=True)
class DeviceTruth:
    """What a simulated iPad really is, whatever any MDM says about it."""

    serial: str
    enrolled: bool  # False: only Apple School Manager knows it
    online: bool
    supervised: bool
    lost_mode: bool
    profiles: frozenset[str]  # PayloadIdentifiers installed on the device
    pending_commands: int  # commands queued for it that it has not answered


@dataclass(kw_only=True)
class Harness:
    """A connector, its mock and levers on the simulated fleet behind the mock.

    The action tests of the suite use the hooks below. Their defaults work on the shared
    `mocks.fleet.Fleet` that every vendor front serves, so a vendor harness only overrides one
    when its mock needs something more (say, a time-filter engine to run).
    """

    connector: Connector
    app: FastAPI
    fleet: Fleet
    clock: FakeClock
    sleeper: Sleeper
    control: httpx.AsyncClient
    expected_serials: set[str]
    extra: dict[str, Any] = field(default_factory=dict)
    # A profile the connector is configured to install (a Jamf School harness maps it to a
    # console-made profile and group); None when the connector cannot install profiles.
    test_profile: ProfileDocument | None = None

    async def device_truth(self, serial: str) -> DeviceTruth:
        """The simulated iPad's real state (lost mode, installed profiles, connectivity)."""
        device = self.fleet.device_by_serial(serial, include_unenrolled=True)
        assert device is not None, f"no device {serial}"
        now = self.fleet.now()
        return DeviceTruth(
            serial=serial,
            enrolled=device.enrolled,
            online=device.is_online(now),
            supervised=device.supervised,
            lost_mode=device.lost_mode is not None,
            profiles=frozenset(p.identifier for p in (device.installed or {}).values()),
            pending_commands=len(device.pending or ()),
        )

    async def check_in_online(self) -> int:
        """Every online device checks in now (runs its queued commands and scope changes);
        returns how many did. Offline devices stay as they are."""
        return sum(self.fleet.check_in(device) for device in self.fleet.devices)

    async def take_offline(self, serial: str) -> None:
        """The device drops off the network until `bring_online` (its commands stay queued)."""
        device = self.fleet.device_by_serial(serial)
        assert device is not None, f"no enrolled device {serial}"
        self.fleet.set_offline(device)

    async def bring_online(self, serial: str) -> None:
        device = self.fleet.device_by_serial(serial)
        assert device is not None, f"no enrolled device {serial}"
        self.fleet.set_online(device)

    async def let_time_pass(self, seconds: float) -> None:
        """Move the shared clock on; devices check in as their rhythm says, screens unlock."""
        self.clock.advance(seconds)
        self.fleet.tick()

    async def set_faults(self, **changes: Any) -> None:
        response = await self.control.patch("/_mock/faults", json=changes)
        assert response.status_code == 200, response.text

    async def expire_tokens(self) -> None:
        response = await self.control.post("/_mock/tokens/expire")
        assert response.status_code == 200, response.text

    async def requests_seen(self) -> list[dict[str, Any]]:
        response = await self.control.get("/_mock/requests")
        assert response.status_code == 200, response.text
        body = response.json()
        entries: list[dict[str, Any]] = body["requests"] if isinstance(body, dict) else body
        return [e for e in entries if not str(e.get("path", "")).startswith("/_mock")]


@asynccontextmanager
async def apple_school_manager(devices: int) -> AsyncIterator[Harness]:
    clock = FakeClock(START)
    fleet = Fleet.build(FleetConfig(devices=devices, seed=11), clock)
    key = ec.generate_private_key(ec.SECP256R1())
    client_id = "SCHOOLAPI.5f0c2a1e-0000-4000-8000-000000000001"
    registered = RegisteredClient(client_id=client_id, key_id="KEY1", public_key=key.public_key())
    app = asm.create_app(fleet, clock, AsmOptions(clients=(registered,)))
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    config = ConnectorConfig(
        name="asm",
        base_url="https://api-school.apple.com",
        options={"client_id": client_id, "key_id": "KEY1"},
        secrets={"private_key": pem},
    )
    sleeper = Sleeper(clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        httpx.AsyncClient(transport=transport, base_url="https://api-school.apple.com") as control,
    ):
        connector = create_asm(config, client=client, clock=clock, sleep=sleeper)
        serials = {d.serial for d in fleet.devices} | {d.serial for d in fleet.unenrolled}
        yield Harness(
            connector=connector,
            app=app,
            fleet=fleet,
            clock=clock,
            sleeper=sleeper,
            control=control,
            expected_serials=serials,
            extra={"state": app.state.asm},
        )
        await connector.aclose()
