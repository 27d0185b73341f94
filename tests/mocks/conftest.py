"""Fixtures for the mock MDM's contract tests: a manual clock and small, predictable fleets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_pro.app import build_jamf_pro_app

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


# ---- Jamf Pro front ------------------------------------------------------------------------

JAMF_USER = ("bridge", "bridge-password")
JAMF_CLIENT = {"client_id": "mdm-bridge", "client_secret": "mdm-bridge-secret"}


@pytest.fixture
def jamf_app(fleet: Fleet) -> FastAPI:
    return build_jamf_pro_app(fleet)


@pytest.fixture
async def jamf(jamf_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An unauthenticated client of the Jamf Pro mock."""
    transport = httpx.ASGITransport(app=jamf_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://school.jamfcloud.com") as c:
        yield c


@pytest.fixture
async def jamf_token(jamf: httpx.AsyncClient) -> str:
    answer = await jamf.post("/api/v1/auth/token", auth=JAMF_USER)
    assert answer.status_code == 200
    token: str = answer.json()["token"]
    return token


@pytest.fixture
async def api(jamf: httpx.AsyncClient, jamf_token: str) -> httpx.AsyncClient:
    """The Jamf Pro mock client, logged in with a user token."""
    jamf.headers["Authorization"] = f"Bearer {jamf_token}"
    return jamf
