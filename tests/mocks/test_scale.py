"""The mock at school-trust scale: 100,000 iPads in memory, listed in full through Jamf Pro."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_pro.app import build_jamf_pro_app
from tests.mocks.conftest import JAMF_USER, START


@pytest.mark.slow
async def test_full_inventory_of_100000_ipads_and_a_bulk_lock() -> None:
    clock = ManualClock(START)
    fleet = Fleet.build(FleetConfig(devices=100_000, seed=5), clock)
    app = build_jamf_pro_app(fleet)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m", timeout=60) as api:
        token = (await api.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        api.headers["Authorization"] = f"Bearer {token}"
        gate = asyncio.Semaphore(5)

        async def page(number: int) -> dict[str, object]:
            async with gate:
                params = {"page": str(number), "page-size": "2000", "sort": "id:asc"}
                answer = await api.get("/api/v2/mobile-devices/detail", params=params)
                body: dict[str, object] = answer.json()
                return body

        pages = await asyncio.gather(*(page(n) for n in range(50)))
        assert {p["totalCount"] for p in pages} == {100_000}
        ids = [item["mobileDeviceId"] for p in pages for item in p["results"]]  # type: ignore[attr-defined]
        assert ids == [str(i) for i in range(1, 100_001)]

        targets = [{"managementId": d.management_id} for d in fleet.devices[:10_000]]
        lock = {"commandType": "ENABLE_LOST_MODE", "lostModeMessage": "Curfew"}
        sent = await api.post(
            "/api/v2/mdm/commands", json={"clientData": targets, "commandData": lock}
        )
        assert sent.status_code == 201
        assert len(sent.json()) == 10_000
        clock.advance(60)
        fleet.tick()
        summary = (await api.get("/_mock/summary")).json()
        online_targets = sum(
            d.is_online(fleet.now()) and d.supervised for d in fleet.devices[:10_000]
        )
        assert summary["lostMode"] == online_targets
