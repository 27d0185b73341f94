"""Contract of the fake ASM over HTTP: token endpoint, Accept, bearer tokens, inventory (§8)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI

from mocks.asm import AsmOptions, asm_state_of, create_app
from mocks.asm.assertion import JWT_BEARER_ASSERTION_TYPE
from mocks.asm.budget import BudgetRule
from mocks.asm.signing import TestAccount, new_test_account, sign_client_assertion
from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.generate import FleetConfig

NO_BUDGET = BudgetRule(requests=0, window=timedelta(minutes=1))
JSON = {"Accept": "application/json"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def account() -> TestAccount:
    return new_test_account()


@pytest.fixture
def fleet(clock: ManualClock) -> Fleet:
    return Fleet.build(FleetConfig(devices=30, seed=7, unenrolled_devices=4), clock)


@pytest.fixture
def app(fleet: Fleet, clock: ManualClock, account: TestAccount) -> FastAPI:
    options = AsmOptions(clients=(account.client,), get_budget=NO_BUDGET, post_budget=NO_BUDGET)
    return create_app(fleet, clock, options)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://asm.test") as client:
        yield client


def token_form(account: TestAccount, clock: ManualClock, **overrides: str) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": account.client.client_id,
        "client_assertion_type": JWT_BEARER_ASSERTION_TYPE,
        "client_assertion": sign_client_assertion(account, issued_at=clock.now()),
        "scope": "school.api",
    }
    form.update(overrides)
    return urlencode(form)


async def request_token(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, path: str = "token"
) -> httpx.Response:
    return await client.post(
        f"/auth/oauth2/{path}",
        content=token_form(account, clock),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


async def bearer(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock
) -> dict[str, str]:
    response = await request_token(client, account, clock)
    return {**JSON, "Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize("path", ["token", "v2/token"])
async def test_token_endpoint_answers_on_both_paths(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, path: str
) -> None:
    response = await request_token(client, account, clock, path)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "school.api"
    assert "refresh_token" not in body
    assert response.headers["cache-control"] == "no-store"


async def test_a_replayed_assertion_is_invalid_client(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock
) -> None:
    form = token_form(account, clock)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    first = await client.post("/auth/oauth2/token", content=form, headers=headers)
    replay = await client.post("/auth/oauth2/token", content=form, headers=headers)
    assert first.status_code == 200
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("content", "content_type", "error"),
    [
        ("grant_type=client_credentials", "application/json", "invalid_request"),
        (b"\xff\xfe", "application/x-www-form-urlencoded", "invalid_request"),
        ("scope=a&scope=b", "application/x-www-form-urlencoded", "invalid_request"),
        ("grant_type=client_credentials", "application/x-www-form-urlencoded", "invalid_request"),
    ],
)
async def test_malformed_token_requests_get_an_oauth_error(
    client: httpx.AsyncClient, content: str | bytes, content_type: str, error: str
) -> None:
    response = await client.post(
        "/auth/oauth2/token", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_an_unregistered_client_can_register_its_key_through_the_control_api(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    newcomer = new_test_account(client_id="SCHOOLAPI.newcomer", key_id="k2")
    assert (await request_token(client, newcomer, clock)).json()["error"] == "invalid_client"
    pem = newcomer.client.public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    registered = await client.post(
        "/_mock/asm/clients",
        json={"clientId": "SCHOOLAPI.newcomer", "keyId": "k2", "publicKeyPem": pem.decode()},
    )
    assert registered.status_code == 201
    assert (await request_token(client, newcomer, clock)).status_code == 200
    refused = await client.post("/_mock/asm/clients", json={"clientId": "x", "keyId": "y"})
    assert refused.status_code == 400


async def test_api_calls_need_a_live_bearer_token(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock
) -> None:
    anonymous = await client.get("/v1/mdmServers", headers=JSON)
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["status"] == "401"
    headers = await bearer(client, account, clock)
    assert (await client.get("/v1/mdmServers", headers=headers)).status_code == 200
    clock.advance(3599)
    assert (await client.get("/v1/mdmServers", headers=headers)).status_code == 200
    clock.advance(1)
    expired = await client.get("/v1/mdmServers", headers=headers)
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"].startswith("Bearer")
    assert (
        await client.get("/v1/mdmServers", headers=await bearer(client, account, clock))
    ).is_success


async def test_expire_all_tokens_knob_kills_live_tokens(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock
) -> None:
    headers = await bearer(client, account, clock)
    expired = await client.post("/_mock/tokens/expire")
    assert expired.json() == {"expired": 1}
    assert (await client.get("/v1/mdmServers", headers=headers)).status_code == 401


@pytest.mark.parametrize("accept", ["text/xml", "application/xml", "*/*", "text/html, */*;q=0.8"])
async def test_anything_but_json_in_accept_is_406(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, accept: str
) -> None:
    headers = {**(await bearer(client, account, clock)), "Accept": accept}
    response = await client.get("/v1/orgDevices", headers=headers)
    assert response.status_code == 406
    assert response.json()["errors"][0]["code"] == "NOT_ACCEPTABLE"


async def test_a_wildcard_accept_can_be_allowed(
    fleet: Fleet, clock: ManualClock, account: TestAccount
) -> None:
    app = create_app(
        fleet, clock, AsmOptions(clients=(account.client,), refuse_wildcard_accept=False)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://a") as c:
        headers = {**(await bearer(c, account, clock)), "Accept": "*/*"}
        assert (await c.get("/v1/mdmServers", headers=headers)).status_code == 200


async def test_org_devices_page_through_fleet_and_stray_serials(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, fleet: Fleet, app: FastAPI
) -> None:
    headers = await bearer(client, account, clock)
    seen: dict[str, dict[str, object]] = {}
    params: dict[str, str] = {"limit": "7"}
    pages = 0
    while True:
        body = (await client.get("/v1/orgDevices", params=params, headers=headers)).json()
        pages += 1
        assert body["meta"]["paging"]["total"] == 34
        seen.update({item["id"]: item["attributes"] for item in body["data"]})
        cursor = body["meta"]["paging"].get("nextCursor")
        if cursor is None:
            assert "next" not in body["links"]
            break
        assert body["links"]["next"].endswith(f"cursor={cursor}")
        params = {"limit": "7", "cursor": cursor}
    assert pages == 5
    fleet_serials = {device.serial for device in fleet.devices}
    stray_serials = {device.serial for device in fleet.unenrolled}
    assert set(seen) == fleet_serials | stray_serials
    assert all(seen[s]["status"] == "ASSIGNED" for s in fleet_serials)
    assert sorted(seen[s]["status"] for s in stray_serials) == [
        "ASSIGNED", "ASSIGNED", "UNASSIGNED", "UNASSIGNED"
    ]  # fmt: skip
    sample = seen[fleet.devices[0].serial]
    assert sample["productFamily"] == "iPad"
    assert sample["serialNumber"] == fleet.devices[0].serial


@pytest.mark.parametrize("limit", ["0", "1001", "lots"])
async def test_limit_above_1000_is_a_parameter_error(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, limit: str
) -> None:
    headers = await bearer(client, account, clock)
    response = await client.get("/v1/orgDevices", params={"limit": limit}, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "limit"}


async def test_sparse_fieldsets_limit_the_attributes(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock
) -> None:
    headers = await bearer(client, account, clock)
    params = {"limit": "1000", "fields[orgDevices]": "serialNumber,status"}
    body = (await client.get("/v1/orgDevices", params=params, headers=headers)).json()
    assert set(body["data"][0]["attributes"]) == {"serialNumber", "status"}
    wrong = await client.get(
        "/v1/orgDevices", params={"fields[orgDevices]": "shoeSize"}, headers=headers
    )
    assert wrong.status_code == 400


async def test_assigned_server_relationship_tells_which_mdm_owns_a_serial(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, fleet: Fleet, app: FastAPI
) -> None:
    headers = await bearer(client, account, clock)
    catalog = asm_state_of(app).catalog
    enrolled = fleet.devices[3].serial
    linkage = await client.get(
        f"/v1/orgDevices/{enrolled}/relationships/assignedServer", headers=headers
    )
    assert linkage.json()["data"] == {"type": "mdmServers", "id": catalog.home_server_id}
    server = (await client.get(f"/v1/orgDevices/{enrolled}/assignedServer", headers=headers)).json()
    assert server["data"]["attributes"]["serverName"] == "mdm-bridge school MDM"
    unassigned = fleet.unenrolled[0].serial
    nothing = await client.get(
        f"/v1/orgDevices/{unassigned}/relationships/assignedServer", headers=headers
    )
    assert nothing.json()["data"] is None
    elsewhere = fleet.unenrolled[1].serial
    other = await client.get(
        f"/v1/orgDevices/{elsewhere}/relationships/assignedServer", headers=headers
    )
    assert other.json()["data"]["id"] == catalog.other_server_id


async def test_unknown_serials_and_paths_get_json_api_errors(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock
) -> None:
    headers = await bearer(client, account, clock)
    for path in ("/v1/orgDevices/NOPE", "/v1/orgDevices/NOPE/assignedServer", "/v1/nothing"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.json()["errors"][0]["status"] == "404"
    wrong_method = await client.delete("/v1/orgDevices", headers=headers)
    assert wrong_method.status_code == 405
    assert "errors" in wrong_method.json()


async def test_mdm_servers_list_and_their_device_linkage(
    client: httpx.AsyncClient, account: TestAccount, clock: ManualClock, app: FastAPI
) -> None:
    headers = await bearer(client, account, clock)
    servers = (await client.get("/v1/mdmServers", headers=headers)).json()
    assert len(servers["data"]) == 3
    assert set(servers["data"][0]["attributes"]) == {
        "serverName", "serverType", "createdDateTime", "updatedDateTime"
    }  # fmt: skip
    extra = await client.get(
        "/v1/mdmServers", params={"fields[mdmServers]": "serverName,deviceCount"}, headers=headers
    )
    counts = {
        item["attributes"]["serverName"]: item["attributes"]["deviceCount"]
        for item in extra.json()["data"]
    }
    assert counts["mdm-bridge school MDM"] == 30
    home = asm_state_of(app).catalog.home_server_id
    linked: list[str] = []
    params = {"limit": "20"}
    while True:
        body = (
            await client.get(
                f"/v1/mdmServers/{home}/relationships/devices", params=params, headers=headers
            )
        ).json()
        assert {item["type"] for item in body["data"]} == {"orgDevices"}
        linked.extend(item["id"] for item in body["data"])
        if "nextCursor" not in body["meta"]["paging"]:
            break
        params = {"limit": "20", "cursor": body["meta"]["paging"]["nextCursor"]}
    assert len(linked) == len(set(linked)) == 30


async def test_same_seed_gives_the_same_organisation(clock: ManualClock) -> None:
    first = create_app(Fleet.build(FleetConfig(devices=10, seed=3), clock), clock)
    second = create_app(Fleet.build(FleetConfig(devices=10, seed=3), clock), clock)
    other = create_app(Fleet.build(FleetConfig(devices=10, seed=4), clock), clock)
    assert asm_state_of(first).catalog.assignment == asm_state_of(second).catalog.assignment
    assert asm_state_of(first).catalog.home_server_id == asm_state_of(second).catalog.home_server_id
    assert asm_state_of(first).catalog.assignment != asm_state_of(other).catalog.assignment
