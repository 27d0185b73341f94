"""Contract of the fake Jamf School over HTTP: auth, version header, devices, errors (§7, §0)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from mocks.clock import ManualClock
from mocks.commands import RequestType
from mocks.common.vendor import MockVendor
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_school import JamfSchoolOptions, create_app
from mocks.jamf_school.auth import ApiKey, Right
from mocks.jamf_school.state import DEFAULT_API_KEY, DEFAULT_NETWORK_ID

READ_ONLY_KEY = "READ-ONLY-KEY"


def basic(network_id: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{network_id}:{key}".encode()).decode()


HEADERS = {
    "Authorization": basic(DEFAULT_NETWORK_ID, DEFAULT_API_KEY),
    "X-Server-Protocol-Version": "3",
    "Accept": "application/json",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fleet(clock: ManualClock) -> Fleet:
    return Fleet.build(FleetConfig(devices=15, seed=5, offline_share=0.0), clock)


@pytest.fixture
def app(fleet: Fleet, clock: ManualClock) -> FastAPI:
    keys = (
        ApiKey(key=DEFAULT_API_KEY),
        ApiKey(key=READ_ONLY_KEY, rights=frozenset({Right.DEVICES_READ, Right.GROUPS_READ})),
    )
    return create_app(fleet, clock, JamfSchoolOptions(api_keys=keys))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://school.test") as client:
        yield client


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic(DEFAULT_NETWORK_ID, "wrong-key"),
        basic("999", DEFAULT_API_KEY),
        "Bearer " + DEFAULT_API_KEY,
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
    ],
)
async def test_wrong_credentials_are_401(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "Authorization"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = await client.get("/api/devices", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "Unauthorized"}


async def test_a_key_without_the_right_gets_405_in_its_own_shape(client: httpx.AsyncClient) -> None:
    headers = {**HEADERS, "Authorization": basic(DEFAULT_NETWORK_ID, READ_ONLY_KEY)}
    assert (await client.get("/api/devices", headers=headers)).status_code == 200
    refused = await client.get("/api/profiles", headers=headers)
    assert refused.status_code == 405
    assert refused.json() == {
        "error": {"code": 405, "message": "Requested method (GET) not allowed using this API key"}
    }
    write = await client.post(
        "/api/devices/groups/add", json={"groupId": 1, "udids": []}, headers=headers
    )
    assert write.status_code == 405
    assert "(POST)" in write.json()["error"]["message"]


@pytest.mark.parametrize("version", [None, "", "2", "three"])
async def test_without_an_accepted_protocol_version_routes_do_not_exist(
    client: httpx.AsyncClient, version: str | None
) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "X-Server-Protocol-Version"}
    if version is not None:
        headers["X-Server-Protocol-Version"] = version
    response = await client.get("/api/devices", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")


async def test_protocol_version_4_is_accepted_and_the_set_is_configurable(
    client: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    assert (
        await client.get("/api/devices", headers={**HEADERS, "X-Server-Protocol-Version": "4"})
    ).status_code == 200
    strict = create_app(
        fleet, clock, JamfSchoolOptions(accepted_protocol_versions=frozenset({"4"}))
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=strict), base_url="https://s"
    ) as c:
        assert (await c.get("/api/devices", headers=HEADERS)).status_code == 404


async def test_device_list_is_complete_without_paging(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    body = (await client.get("/api/devices", headers=HEADERS)).json()
    assert body["code"] == 200
    assert body["count"] == len(body["devices"]) == 15
    first = body["devices"][0]
    device = fleet.devices[0]
    assert first["UDID"] == device.udid
    assert first["serialNumber"] == device.serial
    assert first["isSupervised"] is device.supervised
    assert isinstance(first["lastCheckin"], str)
    assert len(first["lastCheckin"]) == len("2026-11-23 19:00:00")
    assert first["model"]["type"] == "iPad"
    assert set(first["groupIds"]) == device.group_ids
    assert "apps" not in first
    with_apps = (await client.get("/api/devices?includeApps", headers=HEADERS)).json()
    assert with_apps["devices"][0]["apps"] == []


async def test_one_device_has_the_object_forms_of_last_checkin_and_model_type(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    udid = fleet.devices[2].udid
    body = (await client.get(f"/api/devices/{udid}", headers=HEADERS)).json()
    assert body["code"] == 200
    device = body["device"]
    assert set(device["lastCheckin"]) == {"date", "timezone_type", "timezone"}
    assert device["lastCheckin"]["timezone"] == "Europe/London"
    assert device["model"]["type"] == {"value": "iPad"}


async def test_device_filters(client: httpx.AsyncClient, fleet: Fleet) -> None:
    serial = fleet.devices[4].serial
    by_serial = (
        await client.get(f"/api/devices?serialnumber={serial.lower()}", headers=HEADERS)
    ).json()
    assert [d["serialNumber"] for d in by_serial["devices"]] == [serial]
    supervised = (await client.get("/api/devices?supervised=true", headers=HEADERS)).json()
    assert all(d["isSupervised"] for d in supervised["devices"])
    trashed = (await client.get("/api/devices?inTrash=true", headers=HEADERS)).json()
    assert trashed == {"code": 200, "count": 0, "devices": []}


async def test_unknown_udid_is_device_not_found(client: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/api/devices/NOPE"), ("POST", "/api/devices/NOPE/refresh")):
        response = await client.request(method, path, headers=HEADERS)
        assert response.status_code == 404
        assert response.json() == {"code": 404, "message": "DeviceNotFound"}


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("POST", "/lock"),
        ("POST", "/lostmode"),
        ("POST", "/lostMode/enable"),
        ("POST", "/enableLostMode"),
        ("PUT", "/lostmode"),
        ("POST", "/devicelock"),
        ("DELETE", "/lostmode"),
    ],
)
async def test_there_is_no_lock_or_lost_mode_route(
    client: httpx.AsyncClient, fleet: Fleet, method: str, suffix: str
) -> None:
    udid = fleet.devices[0].udid
    response = await client.request(method, f"/api/devices/{udid}{suffix}", headers=HEADERS)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert fleet.commands_for(fleet.devices[0]) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/profiles"), ("PUT", "/api/profiles/1"), ("DELETE", "/api/profiles/1")],
)
async def test_profiles_cannot_be_written(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"name": "x"}, headers=HEADERS)
    assert response.status_code == 404


async def test_restart_and_refresh_queue_commands_on_the_device(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    device = fleet.devices[1]
    refresh = await client.post(
        f"/api/devices/{device.udid}/refresh", json={"clearErrors": True}, headers=HEADERS
    )
    assert refresh.json()["message"] == "CommandScheduled"
    assert fleet.command(refresh.json()["UUID"]) is not None
    await client.post(
        f"/api/devices/{device.udid}/restart", json={"clearPasscode": True}, headers=HEADERS
    )
    await client.post(
        f"/api/devices/{device.udid}/restart", json={"clearPasscode": "true"}, headers=HEADERS
    )
    kinds = [command.request_type for command in fleet.commands_for(device)]
    assert kinds == [
        RequestType.DEVICE_INFORMATION,
        RequestType.RESTART_DEVICE,
        RequestType.CLEAR_PASSCODE,
        RequestType.RESTART_DEVICE,
    ]


@pytest.mark.parametrize("body", [b"{broken", b"[1, 2]", b"\xff"])
async def test_malformed_json_gets_a_400_in_jamf_school_shape(
    client: httpx.AsyncClient, fleet: Fleet, body: bytes
) -> None:
    for path in (f"/api/devices/{fleet.devices[0].udid}/restart", "/api/devices/groups/add"):
        response = await client.post(
            path, content=body, headers={**HEADERS, "Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json() == {"code": 400, "message": "InvalidJSON"}


async def test_shared_fault_knobs_reach_the_jamf_school_front(
    client: httpx.AsyncClient, app: FastAPI, fleet: Fleet
) -> None:
    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    vendor: MockVendor = app.state.mock_vendor
    vendor.sleep = record_sleep
    await client.patch("/_mock/faults", json={"latencyMs": 120})
    assert (await client.get("/api/devices", headers=HEADERS)).status_code == 200
    assert slept == [0.12]
    await client.post("/_mock/faults/rate-limit-burst", json={"count": 1, "retryAfterSeconds": 5})
    limited = await client.get("/api/devices", headers=HEADERS)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "5")
    await client.patch("/_mock/faults", json={"errorShare": 1.0, "errorStatuses": [502]})
    failing = await client.get("/api/devices", headers=HEADERS)
    assert failing.status_code == 502
    assert failing.json() == {"code": 502, "message": "injected server error"}
    log = (await client.get("/_mock/requests")).json()
    assert [entry["status"] for entry in log["requests"]] == [200, 429, 502]
    assert (await client.post("/_mock/tokens/expire")).json() == {"expired": 0}


async def test_an_offline_device_does_not_answer_a_refresh_until_it_is_back(
    client: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    device = fleet.devices[3]
    await client.post(f"/_mock/devices/{device.udid}/offline", json={})
    refresh = (await client.post(f"/api/devices/{device.udid}/refresh", headers=HEADERS)).json()
    clock.advance(3600)
    fleet.tick()
    command = fleet.command(refresh["UUID"])
    assert command is not None
    assert command.state == "PENDING"
    await client.post(f"/_mock/devices/{device.udid}/online")
    clock.advance(20)
    await client.get("/api/devices", headers=HEADERS)  # each request lets due devices check in
    assert command.state == "ACKNOWLEDGED"


async def test_the_control_overview_names_the_credentials(client: httpx.AsyncClient) -> None:
    overview = (await client.get("/_mock/jamf-school")).json()
    assert overview["networkId"] == DEFAULT_NETWORK_ID
    assert {key["key"] for key in overview["apiKeys"]} == {DEFAULT_API_KEY, READ_ONLY_KEY}


async def test_creating_an_app_needs_protocol_version_4(client: httpx.AsyncClient) -> None:
    body = {"bundleId": "org.example.reader"}
    with_3 = await client.post("/api/apps", json=body, headers=HEADERS)
    assert with_3.status_code == 404
    with_4 = await client.post(
        "/api/apps", json=body, headers={**HEADERS, "X-Server-Protocol-Version": "4"}
    )
    assert with_4.json() == {"code": 200, "message": "AppCreated", "id": 1}
    listed = (await client.get("/api/apps", headers=HEADERS)).json()
    assert listed["apps"] == [{"id": 1, "bundleId": "org.example.reader"}]


async def test_the_group_list_key_casing_can_follow_the_docs(
    fleet: Fleet, clock: ManualClock
) -> None:
    app = create_app(fleet, clock, JamfSchoolOptions(group_list_key="DeviceGroups"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://s") as c:
        body = (await c.get("/api/devices/groups", headers=HEADERS)).json()
    assert "DeviceGroups" in body
    assert "deviceGroups" not in body


async def test_slow_check_ins_knob_stretches_how_long_a_command_waits(
    client: httpx.AsyncClient, fleet: Fleet, clock: ManualClock
) -> None:
    clock.advance(20)  # let the wake-ups from installing the console profiles pass
    fleet.tick()
    now = fleet.now()
    # A device whose routine check-in is not due before the stretched push wake-up.
    device = next(d for d in fleet.devices if d.next_checkin > now + d.push_delay * 20 + 1)
    await client.patch("/_mock/faults", json={"checkinSlowdown": 20})
    refresh = (await client.post(f"/api/devices/{device.udid}/refresh", headers=HEADERS)).json()
    command = fleet.command(refresh["UUID"])
    assert command is not None
    wait = device.push_delay * 20
    clock.advance(wait - 1)
    fleet.tick()
    assert command.state == "PENDING"
    clock.advance(1.01)  # timedelta keeps microseconds; step just past the wake-up
    fleet.tick()
    assert command.state == "ACKNOWLEDGED"


async def test_the_same_seed_serves_the_same_tenant() -> None:
    async def snapshot(seed: int) -> tuple[object, object]:
        clock = ManualClock()
        app = create_app(Fleet.build(FleetConfig(devices=6, seed=seed), clock), clock)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://s") as c:
            devices = (await c.get("/api/devices", headers=HEADERS)).json()
            groups = (await c.get("/api/devices/groups", headers=HEADERS)).json()
        return devices, groups

    assert await snapshot(9) == await snapshot(9)
    assert await snapshot(9) != await snapshot(10)
