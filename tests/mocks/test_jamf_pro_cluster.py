"""Jamf Cloud cluster lag: group reads without the sticky cookie trail the latest writes."""

from __future__ import annotations

import httpx

from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.jamf_pro.app import build_jamf_pro_app
from mocks.jamf_pro.state import JamfProSettings
from tests.mocks.conftest import JAMF_USER

GROUPS = "/JSSResource/mobiledevicegroups"
JSON = {"Accept": "application/json"}


def additions(*ids: int) -> str:
    items = "".join(f"<mobile_device><id>{i}</id></mobile_device>" for i in ids)
    inner = f"<mobile_device_additions>{items}</mobile_device_additions>"
    return f"<mobile_device_group>{inner}</mobile_device_group>"


async def test_reads_without_the_sticky_cookie_lag_behind(fleet: Fleet, clock: ManualClock) -> None:
    app = build_jamf_pro_app(fleet, settings=JamfProSettings(cluster_lag_seconds=60))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        login = await client.post("/api/v1/auth/token", auth=JAMF_USER)
        assert "jpro-ingress" in login.headers["set-cookie"]
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        body = (
            "<mobile_device_group><name>Curfew</name><mobile_devices>"
            "<mobile_device><id>1</id></mobile_device></mobile_devices></mobile_device_group>"
        )
        await client.post(f"{GROUPS}/id/0", content=body)
        clock.advance(61)
        await client.put(f"{GROUPS}/id/1", content=additions(2, 3))

        async def members(sticky: bool) -> list[int]:
            if not sticky:
                client.cookies.clear()
            answer = await client.get(f"{GROUPS}/id/1", headers=JSON)
            return [d["id"] for d in answer.json()["mobile_device_group"]["mobile_devices"]]

        assert await members(sticky=False) == [1]
        assert await members(sticky=True) == [1, 2, 3]  # the answer above set the cookie again
        client.cookies.clear()
        v2 = await client.get("/api/v2/mobile-device-groups/static-group-membership/1")
        assert [m["mobileDeviceId"] for m in v2.json()["results"]] == ["1"]
        assert sorted(fleet.group(1).members) == [1, 2, 3]  # type: ignore[union-attr]  # iPads move at once
        clock.advance(60)
        assert await members(sticky=False) == [1, 2, 3]


async def test_one_node_by_default_sets_no_cookie(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v2/mobile-devices")
    assert "set-cookie" not in answer.headers
