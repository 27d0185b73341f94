"""Contract of the fake ASM's device activities, request budgets and fault knobs (§8, §0)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI

from mocks.asm import AsmOptions, asm_state_of, create_app
from mocks.asm.assertion import JWT_BEARER_ASSERTION_TYPE
from mocks.asm.budget import BudgetRule
from mocks.asm.signing import TestAccount, new_test_account, sign_client_assertion
from mocks.clock import ManualClock
from mocks.common.vendor import MockVendor
from mocks.fleet import Fleet
from mocks.generate import FleetConfig

NO_BUDGET = BudgetRule(requests=0, window=timedelta(minutes=1))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def account() -> TestAccount:
    return new_test_account()


@pytest.fixture
def fleet(clock: ManualClock) -> Fleet:
    return Fleet.build(FleetConfig(devices=12, seed=11, unenrolled_devices=2), clock)


@pytest.fixture
def app(fleet: Fleet, clock: ManualClock, account: TestAccount) -> FastAPI:
    options = AsmOptions(clients=(account.client,), get_budget=NO_BUDGET, post_budget=NO_BUDGET)
    return create_app(fleet, clock, options)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://asm.test") as client:
        yield client


async def _bearer(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock
) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": account.client.client_id,
        "client_assertion_type": JWT_BEARER_ASSERTION_TYPE,
        "client_assertion": sign_client_assertion(account, issued_at=clock.now()),
        "scope": "school.api",
    }
    response = await client.post(
        "/auth/oauth2/v2/token",
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    token = response.json()["access_token"]
    return {"Accept": "application/json", "Authorization": f"Bearer {token}"}


def _activity(kind: str, server_id: str, serials: list[str]) -> dict[str, object]:
    return {
        "data": {
            "type": "orgDeviceActivities",
            "attributes": {"activityType": kind},
            "relationships": {
                "mdmServer": {"data": {"type": "mdmServers", "id": server_id}},
                "devices": {"data": [{"type": "orgDevices", "id": s} for s in serials]},
            },
        }
    }


async def _poll(
    client: httpx.AsyncClient, headers: dict[str, str], activity_id: str
) -> dict[str, object]:
    response = await client.get(f"/v1/orgDeviceActivities/{activity_id}", headers=headers)
    assert response.status_code == 200
    attributes: dict[str, object] = response.json()["data"]["attributes"]
    return attributes


async def test_an_assignment_is_in_progress_then_completed_and_moves_the_device(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, fleet: Fleet, app: FastAPI
) -> None:
    headers = await _bearer(client, account, clock)
    catalog = asm_state_of(app).catalog
    stray = fleet.unenrolled[0].serial
    assert catalog.assignment[stray] is None
    created = await client.post(
        "/v1/orgDeviceActivities",
        json=_activity("ASSIGN_DEVICES", catalog.home_server_id, [stray]),
        headers=headers,
    )
    assert created.status_code == 201
    activity = created.json()["data"]
    assert activity["type"] == "orgDeviceActivities"
    assert activity["attributes"]["status"] == "IN_PROGRESS"
    assert activity["attributes"]["completedDateTime"] is None
    clock.advance(29)
    assert (await _poll(client, headers, activity["id"]))["status"] == "IN_PROGRESS"
    clock.advance(1)
    finished = await _poll(client, headers, activity["id"])
    assert finished["status"] == "COMPLETED"
    assert finished["subStatus"] == "COMPLETED_WITH_SUCCESS"
    linkage = await client.get(
        f"/v1/orgDevices/{stray}/relationships/assignedServer", headers=headers
    )
    assert linkage.json()["data"]["id"] == catalog.home_server_id
    log = await client.get(str(finished["downloadUrl"]).replace("https://asm.test", ""))
    assert f"{stray},SUCCESS," in log.text


async def test_unknown_or_misassigned_devices_make_an_activity_fail_or_complete_with_errors(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, fleet: Fleet, app: FastAPI
) -> None:
    headers = await _bearer(client, account, clock)
    catalog = asm_state_of(app).catalog
    ours = fleet.devices[0].serial
    all_unknown = await client.post(
        "/v1/orgDeviceActivities",
        json=_activity("ASSIGN_DEVICES", catalog.home_server_id, ["NOT-OURS-1"]),
        headers=headers,
    )
    # Our device leaves the home server; the serial ASM has never seen cannot.
    partly = await client.post(
        "/v1/orgDeviceActivities",
        json=_activity("UNASSIGN_DEVICES", catalog.home_server_id, [ours, "NOT-OURS-2"]),
        headers=headers,
    )
    clock.advance(60)
    failed = await _poll(client, headers, all_unknown.json()["data"]["id"])
    assert (failed["status"], failed["subStatus"]) == ("FAILED", "COMPLETED_WITH_FAILURE")
    mixed = await _poll(client, headers, partly.json()["data"]["id"])
    assert (mixed["status"], mixed["subStatus"]) == ("COMPLETED", "COMPLETED_WITH_ERROR")
    assert catalog.assignment[ours] is None


async def test_the_fail_next_knob_makes_an_activity_fail(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, fleet: Fleet, app: FastAPI
) -> None:
    headers = await _bearer(client, account, clock)
    catalog = asm_state_of(app).catalog
    assert (await client.post("/_mock/asm/activities/fail-next", json={"count": 1})).is_success
    created = await client.post(
        "/v1/orgDeviceActivities",
        json=_activity("UNASSIGN_DEVICES", catalog.home_server_id, [fleet.devices[1].serial]),
        headers=headers,
    )
    clock.advance(30)
    assert (await _poll(client, headers, created.json()["data"]["id"]))["status"] == "FAILED"
    truth = (await client.get("/_mock/asm/truth")).json()
    assert truth["assignments"][fleet.devices[1].serial] == catalog.home_server_id
    assert truth["activities"][0]["status"] == "FAILED"


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        (b"{not json", 400, ""),
        (b"[]", 400, "/data"),
        (b'{"data": {"type": "orgDevices"}}', 409, "/data/type"),
        (
            b'{"data": {"type": "orgDeviceActivities", "attributes": {"activityType": "WIPE"}}}',
            400,
            "/data/attributes/activityType",
        ),
    ],
)
async def test_malformed_activity_bodies_get_pointed_errors(
    client: httpx.AsyncClient,
    account: TestAccount,
    clock: ManualClock,
    body: bytes,
    status: int,
    pointer: str,
) -> None:
    headers = {**(await _bearer(client, account, clock)), "Content-Type": "application/json"}
    response = await client.post("/v1/orgDeviceActivities", content=body, headers=headers)
    assert response.status_code == status
    assert response.json()["errors"][0]["source"] == {"pointer": pointer}


async def test_an_unknown_server_or_activity_is_refused(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, fleet: Fleet
) -> None:
    headers = await _bearer(client, account, clock)
    unknown_server = await client.post(
        "/v1/orgDeviceActivities",
        json=_activity("ASSIGN_DEVICES", "NO-SUCH-SERVER", [fleet.devices[0].serial]),
        headers=headers,
    )
    assert unknown_server.status_code == 422
    missing = await client.get("/v1/orgDeviceActivities/nope", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NOT_FOUND"


async def test_get_budget_answers_429_with_the_exact_retry_after(
    fleet: Fleet, clock: ManualClock, account: TestAccount
) -> None:
    app = create_app(fleet, clock, AsmOptions(clients=(account.client,)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://a") as c:
        headers = await _bearer(c, account, clock)
        for _ in range(20):
            assert (await c.get("/v1/mdmServers", headers=headers)).status_code == 200
            clock.advance(1)
        refused = await c.get("/v1/mdmServers", headers=headers)
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["status"] == "429"
        retry_after = int(refused.headers["Retry-After"])
        assert retry_after == 40
        clock.advance(retry_after)
        assert (await c.get("/v1/mdmServers", headers=headers)).status_code == 200


async def test_post_budget_asks_for_a_wait_longer_than_a_minute(
    fleet: Fleet, clock: ManualClock, account: TestAccount
) -> None:
    app = create_app(fleet, clock, AsmOptions(clients=(account.client,)))
    server = asm_state_of(app).catalog.home_server_id
    body = _activity("ASSIGN_DEVICES", server, [fleet.devices[0].serial])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://a") as c:
        headers = await _bearer(c, account, clock)
        for _ in range(10):
            assert (await c.post("/v1/orgDeviceActivities", json=body, headers=headers)).is_success
        refused = await c.post("/v1/orgDeviceActivities", json=body, headers=headers)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 60


async def test_budgets_can_be_changed_at_run_time(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock
) -> None:
    changed = await client.put("/_mock/asm/budgets", json={"getPerMinute": 1})
    assert changed.json() == {"getPerMinute": 1, "postPerHour": 0}
    headers = await _bearer(client, account, clock)
    assert (await client.get("/v1/mdmServers", headers=headers)).status_code == 200
    assert (await client.get("/v1/mdmServers", headers=headers)).status_code == 429
    assert (await client.put("/_mock/asm/budgets", json={"getPerMinute": -1})).status_code == 400


async def test_shared_fault_knobs_answer_in_asm_error_shape(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, app: FastAPI
) -> None:
    headers = await _bearer(client, account, clock)
    burst = await client.post(
        "/_mock/faults/rate-limit-burst", json={"count": 2, "retryAfterSeconds": 90}
    )
    assert burst.status_code == 200
    for _ in range(2):
        limited = await client.get("/v1/orgDevices", headers=headers)
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) == 90
        assert limited.json()["errors"][0]["status"] == "429"
    assert (await client.get("/v1/orgDevices", headers=headers)).status_code == 200
    await client.patch("/_mock/faults", json={"errorShare": 1.0, "errorStatuses": [503]})
    failing = await client.get("/v1/orgDevices", headers=headers)
    assert failing.status_code == 503
    assert failing.json()["errors"][0]["status"] == "503"
    log = (await client.get("/_mock/requests")).json()["requests"]
    assert [entry["status"] for entry in log[-4:]] == [429, 429, 200, 503]


async def test_latency_knob_delays_each_vendor_request(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, app: FastAPI
) -> None:
    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    vendor: MockVendor = app.state.mock_vendor
    vendor.sleep = record_sleep
    await client.patch("/_mock/faults", json={"latencyMs": 50})
    headers = await _bearer(client, account, clock)
    await client.get("/v1/mdmServers", headers=headers)
    assert slept == [0.05, 0.05]  # the token request and the API call


async def test_a_client_that_honours_retry_after_reads_everything_within_the_get_rate(
    clock: ManualClock, account: TestAccount
) -> None:
    fleet = Fleet.build(FleetConfig(devices=2500, seed=3, unenrolled_devices=10), clock)
    app = create_app(fleet, clock, AsmOptions(clients=(account.client,)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://a") as c:
        serials: list[str] = []
        for _ in range(3):  # three full inventory walks, as a few sync cycles would do
            headers = await _bearer(c, account, clock)
            params = {"limit": "100"}
            while True:
                response = await c.get("/v1/orgDevices", params=params, headers=headers)
                if response.status_code == 429:
                    clock.advance(int(response.headers["Retry-After"]))
                    continue
                body = response.json()
                serials.extend(item["id"] for item in body["data"])
                cursor = body["meta"]["paging"].get("nextCursor")
                if cursor is None:
                    break
                params = {"limit": "100", "cursor": cursor}
                clock.advance(0.5)
        log = (await c.get("/_mock/requests")).json()["requests"]
    assert len(serials) == 3 * 2510
    served = [
        datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
        for entry in log
        if entry["method"] == "GET" and entry["status"] == 200
    ]
    busiest_minute = max(
        sum(1 for other in served if start <= other < start + timedelta(minutes=1))
        for start in served
    )
    assert busiest_minute == 20
    assert any(entry["status"] == 429 for entry in log)


async def test_an_activity_can_be_polled_for_about_a_month(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, fleet: Fleet, app: FastAPI
) -> None:
    server = asm_state_of(app).catalog.home_server_id
    headers = await _bearer(client, account, clock)
    created = await client.post(
        "/v1/orgDeviceActivities",
        json=_activity("ASSIGN_DEVICES", server, [fleet.devices[0].serial]),
        headers=headers,
    )
    activity_id = created.json()["data"]["id"]
    clock.advance(timedelta(days=29).total_seconds())
    headers = await _bearer(client, account, clock)
    assert (await _poll(client, headers, activity_id))["status"] == "COMPLETED"
    clock.advance(timedelta(days=1).total_seconds())
    headers = await _bearer(client, account, clock)
    gone = await client.get(f"/v1/orgDeviceActivities/{activity_id}", headers=headers)
    assert gone.status_code == 404
