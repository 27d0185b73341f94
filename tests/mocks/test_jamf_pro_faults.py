"""Jamf Pro error shapes under injected faults, overlapping writes, and bad input of every kind."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mocks.fleet import Fleet
from mocks.jamf_pro.app import build_jamf_pro_app
from mocks.jamf_pro.state import JamfProSettings
from tests.mocks.conftest import JAMF_USER


class GatedSleep:
    def __init__(self) -> None:
        self.waiting = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self._arrivals = asyncio.Condition()

    async def __call__(self, seconds: float) -> None:
        async with self._arrivals:
            self.waiting += 1
            self._arrivals.notify_all()
        await self.gate.wait()

    async def until_waiting(self, count: int) -> None:
        async with self._arrivals:
            await self._arrivals.wait_for(lambda: self.waiting >= count)


async def test_injected_5xx_use_jamf_shapes(api: httpx.AsyncClient) -> None:
    await api.patch("/_mock/faults", json={"errorShare": 1, "errorStatuses": [503]})
    pro = await api.get("/api/v2/mobile-devices")
    assert pro.status_code == 503
    assert pro.json() == {"httpStatus": 503, "errors": []}
    classic = await api.get("/JSSResource/mobiledevices")
    assert classic.status_code == 503
    assert "Status page" in classic.text
    log = (await api.get("/_mock/requests")).json()["requests"]
    assert [r["fault"] for r in log[-2:]] == ["injected server error"] * 2


async def test_rate_limit_burst_on_jamf_pro(api: httpx.AsyncClient) -> None:
    await api.post("/_mock/faults/rate-limit-burst", json={"count": 1, "retryAfterSeconds": 7})
    limited = await api.get("/api/v2/mobile-devices")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.json()["httpStatus"] == 429
    assert (await api.get("/api/v2/mobile-devices")).status_code == 200


async def test_no_rate_limit_headers_by_default(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v2/mobile-devices")
    assert not [h for h in answer.headers if h.lower().startswith(("x-ratelimit", "retry-after"))]


async def test_two_writes_to_one_group_at_once_get_409(fleet: Fleet) -> None:
    sleep = GatedSleep()
    app = build_jamf_pro_app(fleet, sleep=sleep)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as api:
        token = (await api.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        api.headers["Authorization"] = f"Bearer {token}"
        group = (
            await api.post(
                "/api/v2/mobile-device-groups/static-groups", json={"groupName": "Curfew"}
            )
        ).json()
        await api.patch("/_mock/faults", json={"latencyMs": 5})
        sleep.gate.clear()
        sleep.waiting = 0
        patch = {"groupName": "Curfew", "assignments": [{"mobileDeviceId": "1", "selected": True}]}
        first = asyncio.create_task(
            api.patch(f"/api/v2/mobile-device-groups/static-groups/{group['id']}", json=patch)
        )
        await sleep.until_waiting(1)
        add = (
            "<mobile_device_group><mobile_device_additions><mobile_device><id>2</id>"
            "</mobile_device></mobile_device_additions></mobile_device_group>"
        )
        second = await api.put(f"/JSSResource/mobiledevicegroups/id/{group['id']}", content=add)
        other_group = asyncio.create_task(
            api.post("/api/v2/mobile-device-groups/static-groups", json={"groupName": "Ban"})
        )
        await sleep.until_waiting(2)
        sleep.gate.set()
        assert second.status_code == 409
        assert "Conflict" in second.text
        assert (await first).status_code == 200
        assert (await other_group).status_code == 201
        await api.patch("/_mock/faults", json={"conflictOnOverlap": False})
        sleep.gate.clear()
        sleep.waiting = 0
        again = [
            asyncio.create_task(
                api.put(f"/JSSResource/mobiledevicegroups/id/{group['id']}", content=add)
            )
            for _ in range(2)
        ]
        await sleep.until_waiting(2)
        sleep.gate.set()
        assert [(await call).status_code for call in again] == [201, 201]


async def test_unknown_routes_and_methods_answer_in_vendor_shape(api: httpx.AsyncClient) -> None:
    missing = await api.get("/api/v9/nothing")
    assert missing.status_code == 404
    assert missing.json()["httpStatus"] == 404
    classic_missing = await api.get("/JSSResource/nothing")
    assert classic_missing.status_code == 404
    assert "Status page" in classic_missing.text
    wrong_method = await api.delete("/api/v2/mobile-devices/detail")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["httpStatus"] == 405


BAD_REQUESTS = [
    ("POST", "/api/v2/mdm/commands", b"[1, 2]", "application/json"),
    ("POST", "/api/v2/mdm/commands", b'{"clientData": "x", "commandData": 3}', "application/json"),
    (
        "POST",
        "/api/v2/mdm/commands",
        b'{"clientData": [5], "commandData": {"commandType": "DEVICE_LOCK"}}',
        "application/json",
    ),
    ("POST", "/api/v2/mdm/commands", b"\xff\xfe", "application/json"),
    ("POST", "/api/v2/mdm/blank-push", b"null", "application/json"),
    ("POST", "/api/v2/mobile-device-groups/static-groups", b'{"groupName": 5}', "application/json"),
    (
        "POST",
        "/api/v2/mobile-device-groups/static-groups",
        b'{"groupName": "x", "siteId": "abc"}',
        "application/json",
    ),
    (
        "POST",
        "/api/v2/mobile-device-groups/static-groups",
        b'{"groupName": "y", "assignments": [7]}',
        "application/json",
    ),
    ("PATCH", "/api/v2/mobile-device-groups/static-groups/1", b"{", "application/json"),
    ("GET", "/api/v2/mdm/commands?filter=uuid%3D%3D", b"", ""),
    ("GET", "/api/v2/mdm/commands?filter=status%3D%3DPENDING&sort=colour:asc", b"", ""),
    ("GET", "/api/v2/mobile-devices/detail?sort=colour:asc", b"", ""),
    ("GET", "/api/v2/mobile-devices/detail?page=-1", b"", ""),
    ("GET", "/api/v2/mobile-devices/detail?exception-handling=MAYBE", b"", ""),
    (
        "POST",
        "/JSSResource/mobiledevicegroups/id/0",
        b"<mobile_device_group><is_smart>true</is_smart><name>s</name></mobile_device_group>",
        "text/xml",
    ),
    ("POST", "/JSSResource/mobiledevicegroups/id/0", b"<mobile_device_group/>", "text/xml"),
    ("PUT", "/JSSResource/mobiledeviceconfigurationprofiles/id/1", b"<x/>", "text/xml"),
    ("POST", "/JSSResource/mobiledevicecommands/command", b"<mobile_device_command/>", "text/xml"),
    (
        "POST",
        "/JSSResource/mobiledevicecommands/command/EnableLostMode/id/1",
        b"<a><general/></a>",
        "text/xml",
    ),
    ("DELETE", "/JSSResource/commandflush/mobiledevices/id/1/status/Sometimes", b"", ""),
    ("DELETE", "/JSSResource/commandflush/computers/id/1/status/Pending", b"", ""),
    ("GET", "/JSSResource/mobiledevicegroups/serial/1", b"", ""),
    ("POST", "/api/v1/oauth/token", b"grant_type=password", "application/x-www-form-urlencoded"),
    ("POST", "/api/v1/oauth/token", b"\xff", "application/x-www-form-urlencoded"),
    ("POST", "/api/v1/auth/token", b"", ""),
]


@pytest.mark.parametrize(("method", "path", "body", "content_type"), BAD_REQUESTS)
async def test_bad_requests_get_vendor_errors_never_a_mock_500(
    api: httpx.AsyncClient, method: str, path: str, body: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    if path == "/api/v1/auth/token":
        headers["Authorization"] = "Basic !!!"
    answer = await api.request(method, path, content=body, headers=headers)
    assert 400 <= answer.status_code < 500, answer.text
    if path.startswith("/JSSResource"):
        assert answer.headers["content-type"].startswith("text/html")
    elif "oauth" in path:
        assert "error" in answer.json()
    else:
        assert answer.json()["httpStatus"] == answer.status_code


async def test_health_status_is_cloud_only_and_reflects_faults(fleet: Fleet) -> None:
    plain = build_jamf_pro_app(fleet)
    cloud = build_jamf_pro_app(fleet, settings=JamfProSettings(health_status_enabled=True))
    for app, expected in ((plain, 404), (cloud, 200)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://m") as api:
            token = (await api.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
            api.headers["Authorization"] = f"Bearer {token}"
            assert (await api.get("/api/v1/health-check")).status_code == 204
            status = await api.get("/api/v1/health-status")
            assert status.status_code == expected
    transport = httpx.ASGITransport(app=cloud)
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as api:
        token = (await api.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        api.headers["Authorization"] = f"Bearer {token}"
        healthy = (await api.get("/api/v1/health-status")).json()
        assert healthy["api"]["oneMinute"] == 1.0
        await api.patch("/_mock/faults", json={"errorShare": 0.2})
        answers = [await api.get("/api/v1/health-status") for _ in range(10)]
        degraded = next(a.json() for a in answers if a.status_code == 200)
        assert degraded["api"]["fiveMinutes"] == 0.8
        assert degraded["device"]["fiveMinutes"] == 1.0


async def test_some_api_errors_are_pretty_printed(api: httpx.AsyncClient) -> None:
    missing = await api.get("/api/v2/mobile-devices/999")
    assert '"code" : "INVALID_ID"' in missing.text
    assert missing.json()["errors"][0]["code"] == "INVALID_ID"
    bad = await api.get("/api/v2/mobile-devices/detail", params={"filter": "colour==red"})
    assert '"code":"INVALID_FIELD"' in bad.text.replace(" ", "")
