"""A whole curfew night against the Jamf Pro mock, through HTTP only (mock-behaviours §11).

500 iPads, 5 % offline for hours, 30 % passcode-locked: a client locks every supervised iPad at
20:00 in bulk and releases them at 07:00, and reads the outcome back through inventory and the
command status listing, never opening more than five connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_pro.app import build_jamf_pro_app
from tests.mocks.conftest import JAMF_CLIENT, START

NIGHT = FleetConfig(
    devices=500,
    seed=11,
    offline_share=0.05,
    offline_hours=(1.0, 14.0),
    locked_share=0.3,
    unsupervised_share=0.02,
)
LOCK = {"commandType": "ENABLE_LOST_MODE", "lostModeMessage": "Curfew until 07:00"}
RELEASE = {"commandType": "DISABLE_LOST_MODE"}


@pytest.fixture
async def night() -> AsyncIterator[tuple[httpx.AsyncClient, ManualClock, Fleet]]:
    clock = ManualClock(START + timedelta(hours=1))  # 20:00
    fleet = Fleet.build(NIGHT, clock)
    app = build_jamf_pro_app(fleet)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jamf") as client:
        yield client, clock, fleet


async def authenticate(client: httpx.AsyncClient) -> None:
    form = {"grant_type": "client_credentials", **JAMF_CLIENT}
    token = (await client.post("/api/v1/oauth/token", data=form)).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"


async def inventory(client: httpx.AsyncClient) -> list[dict[str, object]]:
    semaphore = asyncio.Semaphore(5)

    async def page(number: int) -> list[dict[str, object]]:
        async with semaphore:
            params = [("section", "GENERAL"), ("section", "SECURITY"), ("page", str(number)),
                      ("page-size", "100"), ("sort", "mobileDeviceId:asc")]  # fmt: skip
            answer = await client.get("/api/v2/mobile-devices/detail", params=params)
            results: list[dict[str, object]] = answer.json()["results"]
            return results

    pages = await asyncio.gather(*(page(n) for n in range(5)))
    return [item for items in pages for item in items]


async def send(client: httpx.AsyncClient, ids: list[str], command: dict[str, str]) -> list[str]:
    uuids: list[str] = []
    for start in range(0, len(ids), 100):
        batch = [{"managementId": i} for i in ids[start : start + 100]]
        answer = await client.post(
            "/api/v2/mdm/commands", json={"clientData": batch, "commandData": command}
        )
        assert answer.status_code == 201
        uuids += [entry["id"] for entry in answer.json()]
    return uuids


async def states(client: httpx.AsyncClient, command: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in ("PENDING", "ACKNOWLEDGED", "NOT_NOW", "ERROR"):
        answer = await client.get(
            "/api/v2/mdm/commands",
            params={"filter": f"command=={command};status=={state}", "page-size": "1"},
        )
        counts[state] = answer.json()["totalCount"]
    return counts


async def offline_supervised(client: httpx.AsyncClient) -> int:
    truth = await client.get("/_mock/devices", params={"online": "false", "limit": "500"})
    return sum(device["supervised"] for device in truth.json()["devices"])


async def test_curfew_night(night: tuple[httpx.AsyncClient, ManualClock, Fleet]) -> None:
    client, clock, _ = night
    await authenticate(client)
    devices = await inventory(client)
    assert len(devices) == 500
    supervised = [d for d in devices if d["general"]["supervised"]]  # type: ignore[index]
    ids = [d["general"]["managementId"] for d in supervised]  # type: ignore[index]
    await send(client, ids, LOCK)

    clock.advance(600)  # 20:10: online devices got the push and checked in
    await client.post("/_mock/tick")
    await authenticate(client)  # API-client tokens live 60 s
    at_ten_past = await states(client, "ENABLE_LOST_MODE")
    offline = await offline_supervised(client)
    assert at_ten_past["PENDING"] == offline > 0  # only offline iPads have not answered
    assert at_ten_past["ERROR"] == 0  # passcode locks do not stop Lost Mode
    assert at_ten_past["ACKNOWLEDGED"] == len(ids) - offline

    clock.set(START + timedelta(hours=12))  # 07:00
    await client.post("/_mock/tick")
    await authenticate(client)
    await send(client, ids, RELEASE)
    clock.advance(600)
    await client.post("/_mock/tick")
    await authenticate(client)

    summary = (await client.get("/_mock/summary")).json()
    assert summary["lostMode"] == 0  # returning iPads ran lock then release back to back
    released = await states(client, "DISABLE_LOST_MODE")
    still_out = await offline_supervised(client)
    assert released["PENDING"] == still_out < offline
    assert released["ERROR"] == 0
    after = await inventory(client)
    assert not any(d["security"]["lostModeEnabled"] for d in after)  # type: ignore[index]
    connections = (await client.get("/_mock/connections")).json()
    assert connections["overCap"] == 0
