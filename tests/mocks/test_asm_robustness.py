"""The fake ASM refuses bad input in its own shapes and never answers 500 by itself (§8)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from mocks.asm import AsmOptions, create_app
from mocks.asm.assertion import (
    JWT_BEARER_ASSERTION_TYPE,
    AssertionRejected,
    verify_client_assertion,
)
from mocks.asm.budget import BudgetRule
from mocks.asm.errors import AsmError
from mocks.asm.paging import read_page_request
from mocks.asm.routes_activities import _read_activity_body
from mocks.asm.signing import new_test_account, sign_client_assertion
from mocks.clock import ManualClock
from mocks.fleet import Fleet
from mocks.generate import FleetConfig

NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
ACCOUNT = new_test_account()
FORM_KEYS = ["grant_type", "client_id", "client_assertion_type", "client_assertion", "scope"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=100, database=None, deadline=None)
@given(st.dictionaries(st.sampled_from(FORM_KEYS), st.text(max_size=40)))
def test_any_token_form_is_accepted_or_rejected_never_crashes(form: dict[str, str]) -> None:
    error = ""
    try:
        verify_client_assertion(
            form, clients={ACCOUNT.client.client_id: ACCOUNT.client}, spent_jtis=set(), now=NOW
        )
    except AssertionRejected as rejected:
        error = rejected.error
    # No random form can carry a valid signature, so each one is refused with an OAuth code.
    assert error in {
            "invalid_request", "invalid_client", "invalid_scope", "unsupported_grant_type"
        }  # fmt: skip


@settings(max_examples=100, database=None, deadline=None)
@given(st.dictionaries(st.sampled_from(["limit", "cursor"]), st.text(max_size=20)))
def test_any_paging_query_is_read_or_refused_as_a_parameter_error(query: dict[str, str]) -> None:
    refusal: AsmError | None = None
    try:
        request = read_page_request(query)
    except AsmError as caught:
        refusal = caught
    if refusal is None:
        assert 1 <= request.limit <= 1000
    else:
        assert refusal.status == 400
        assert refusal.source is not None
        assert "parameter" in refusal.source


@settings(max_examples=100, database=None, deadline=None)
@given(json_values)
def test_any_activity_body_is_read_or_refused_with_a_pointer(document: object) -> None:
    refusal: AsmError | None = None
    try:
        _read_activity_body(json.dumps(document).encode())
    except AsmError as caught:
        refusal = caught
    # Random JSON never forms a whole activity, so each document is refused at a pointer.
    assert refusal is not None
    assert refusal.status in (400, 409)
    assert refusal.source is not None
    assert "pointer" in refusal.source


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def app(clock: ManualClock) -> FastAPI:
    fleet = Fleet.build(FleetConfig(devices=5, seed=1), clock)
    no_budget = BudgetRule(requests=0, window=timedelta(minutes=1))
    options = AsmOptions(clients=(ACCOUNT.client,), get_budget=no_budget, post_budget=no_budget)
    return create_app(fleet, clock, options)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://asm.test") as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/orgDevices?limit=99999999999999999999", None),
        ("GET", "/v1/orgDevices?cursor=%FF%FE", None),
        ("GET", "/v1/orgDevices?fields[orgDevices]=", None),
        ("GET", "/v1/orgDevices/%00", None),
        ("GET", "/v1/mdmServers/x/relationships/devices?limit=-1", None),
        ("POST", "/v1/orgDeviceActivities", b"\xff\xfe"),
        ("POST", "/v1/orgDeviceActivities", b'{"data": null}'),
        ("POST", "/v1/orgDeviceActivities", b'{"data": {"type": "orgDeviceActivities", '
         b'"attributes": {"activityType": "ASSIGN_DEVICES"}, "relationships": '
         b'{"mdmServer": {"data": {"type": "mdmServers", "id": 7}}}}}'),
        ("PATCH", "/v1/orgDevices", b"{}"),
        ("POST", "/auth/oauth2/token", b"%%%"),
        ("GET", "/auth/oauth2/token", None),
        ("PUT", "/_mock/asm/budgets", b"[]"),
        ("POST", "/_mock/asm/clients", b'{"clientId": "a", "keyId": "b", "publicKeyPem": "x"}'),
        ("POST", "/_mock/asm/activities/fail-next", b'{"count": "many"}'),
    ],
)  # fmt: skip
async def test_odd_requests_never_get_a_500(
    client: httpx.AsyncClient, clock: ManualClock, method: str, path: str, body: bytes | None
) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": ACCOUNT.client.client_id,
        "client_assertion_type": JWT_BEARER_ASSERTION_TYPE,
        "client_assertion": sign_client_assertion(ACCOUNT, issued_at=clock.now()),
        "scope": "school.api",
    }
    token = await client.post(
        "/auth/oauth2/token",
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    headers = {
        "Accept": "application/json",
        "Authorization": f"Bearer {token.json()['access_token']}",
        "Content-Type": "application/json",
    }
    response = await client.request(method, path, content=body, headers=headers)
    assert 400 <= response.status_code < 500
    assert response.json()  # every refusal carries a JSON body in the vendor's shape
