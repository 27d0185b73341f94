"""The fake Jamf School refuses bad input in its own shapes and never answers 500 itself (§7)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_school import create_app
from mocks.jamf_school.auth import ApiKey, Tenant, authenticate
from mocks.jamf_school.errors import JamfSchoolError
from mocks.jamf_school.state import DEFAULT_API_KEY, DEFAULT_NETWORK_ID

TENANT = Tenant(network_id="1234", api_keys={"secret": ApiKey(key="secret")})
HEADERS = {
    "Authorization": "Basic "
    + base64.b64encode(f"{DEFAULT_NETWORK_ID}:{DEFAULT_API_KEY}".encode()).decode(),
    "X-Server-Protocol-Version": "3",
    "Content-Type": "application/json",
}


@settings(max_examples=100, database=None, deadline=None)
@given(st.text(max_size=60))
def test_any_authorization_header_is_either_the_key_or_a_401(header: str) -> None:
    status = 200
    try:
        authenticate({"authorization": header}, TENANT)
    except JamfSchoolError as refused:
        status = refused.status
    # Random text never spells "Basic " + base64("1234:secret"), so every one is refused.
    assert status == 401


@settings(max_examples=100, database=None, deadline=None)
@given(st.binary(max_size=40))
def test_any_base64_credential_pair_is_refused_unless_it_is_the_key(raw: bytes) -> None:
    header = "Basic " + base64.b64encode(raw).decode()
    status = 200
    try:
        authenticate({"authorization": header}, TENANT)
    except JamfSchoolError as refused:
        status = refused.status
    assert status == (200 if raw == b"1234:secret" else 401)


@pytest.fixture
def app() -> FastAPI:
    clock = ManualClock()
    return create_app(Fleet.build(FleetConfig(devices=4, seed=2), clock), clock)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://school.test") as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/devices?groups=%C2%B9,x", None),
        ("GET", "/api/devices/groups/%C2%B9", None),
        ("GET", "/api/profiles/%C2%B9", None),
        ("GET", "/api/devices?supervised=maybe&inTrash=0", None),
        ("POST", "/api/devices/groups/add", b'{"groupId": true, "udids": []}'),
        ("POST", "/api/devices/groups/add", b'{"groupId": "12x", "udids": ["a"]}'),
        ("POST", "/api/devices/groups/remove", b'{"groupId": 1, "udids": "abc"}'),
        ("POST", "/api/devices/groups/remove", b"null"),
        ("POST", "/api/devices/NOPE/restart", b'{"clearPasscode": ["true"]}'),
        ("POST", "/api/apps", b"{}"),
        ("PATCH", "/api/devices", b"{}"),
        ("GET", "/api/devices/%00", None),
        ("PUT", "/_mock/jamf-school/time-filter", b"\xff"),
        ("PUT", "/_mock/jamf-school/time-filter", b'{"holidays": ["not-a-date"]}'),
        ("PUT", "/_mock/jamf-school/time-filter", b'{"invertUseHolidays": "yes"}'),
        ("POST", "/_mock/jamf-school/console/groups", b"\xff"),
        ("POST", "/_mock/jamf-school/console/profiles", b"[]"),
        ("DELETE", "/_mock/jamf-school/console/profiles/%C2%B9", None),
    ],
)
async def test_odd_requests_never_get_a_500(
    client: httpx.AsyncClient, method: str, path: str, body: bytes | None
) -> None:
    response = await client.request(method, path, content=body, headers=HEADERS)
    assert 200 <= response.status_code < 500
    if response.status_code >= 400 and response.headers["content-type"].startswith("application"):
        assert set(response.json()) & {"code", "error", "detail"}
