"""The shared HTTP layer: one failure kind per status and transport error, and its manners."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from connectors.base import (
    AuthError,
    ConflictError,
    FailureKind,
    PermanentError,
    TemporaryError,
    UncertainOutcome,
)
from connectors.http import (
    FAILURE_KIND,
    CachedToken,
    Disposition,
    HttpPolicy,
    VendorHttp,
    classify_exception,
    classify_status,
    parse_retry_after,
)
from mdm_bridge.clock import FakeClock
from tests.connectors.harness import Sleeper

BASE = "https://school.jamfcloud.example"
START = datetime(2026, 11, 23, 19, 59, tzinfo=UTC)


class Tokens:
    def __init__(self) -> None:
        self.issued = 0
        self.invalidated = 0

    async def token(self) -> str:
        if self.issued == self.invalidated:
            self.issued += 1
        return f"token-{self.issued}"

    def invalidate(self) -> None:
        self.invalidated = self.issued


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sleeper(clock: FakeClock) -> Sleeper:
    return Sleeper(clock)


def make_http(
    client: httpx.AsyncClient, clock: FakeClock, sleeper: Sleeper, **policy: float
) -> VendorHttp:
    return VendorHttp(
        client,
        clock=clock,
        policy=HttpPolicy(**policy),  # type: ignore[arg-type]
        auth=Tokens(),
        sleep=sleeper,
        rng=random.Random(7),
    )


# --- the one boundary: every status and every httpx error maps to exactly one kind ----------


def test_every_status_maps_to_exactly_one_failure_kind() -> None:
    seen: dict[FailureKind | None, set[int]] = {}
    for status in range(100, 600):
        disposition = classify_status(status)
        assert disposition in FAILURE_KIND, status
        seen.setdefault(FAILURE_KIND[disposition], set()).add(status)
    assert seen[None] == set(range(200, 300))
    assert {401, 403} <= seen[FailureKind.AUTH]
    assert {409, 429, 500, 502, 503, 504} <= seen[FailureKind.TEMPORARY]
    assert {400, 404, 405, 406, 410, 422} <= seen[FailureKind.PERMANENT]
    assert sum(len(statuses) for statuses in seen.values()) == 500  # no status counted twice


def test_every_httpx_exception_maps_to_one_failure_kind() -> None:
    exception_types = [
        value
        for name in httpx.__all__
        if inspect.isclass(value := getattr(httpx, name))
        and issubclass(value, (httpx.HTTPError, httpx.InvalidURL))
    ]
    assert len(exception_types) >= 20
    request = httpx.Request("GET", BASE)
    for error_type in exception_types:
        if error_type is httpx.HTTPStatusError:
            error: Exception = error_type("x", request=request, response=httpx.Response(500))
        elif issubclass(error_type, httpx.RequestError):
            error = error_type("x", request=request)
        else:  # HTTPError itself, InvalidURL
            error = error_type("x")
        kind = FAILURE_KIND[classify_exception(error)]  # type: ignore[arg-type]
        assert kind is not None, error_type


@pytest.mark.parametrize(
    ("error_type", "disposition"),
    [
        (httpx.ConnectTimeout, Disposition.BACKOFF),
        (httpx.ConnectError, Disposition.BACKOFF),
        (httpx.ReadTimeout, Disposition.UNCERTAIN),
        (httpx.RemoteProtocolError, Disposition.UNCERTAIN),
        (httpx.UnsupportedProtocol, Disposition.AUTH),
    ],
)
def test_transport_errors_by_how_far_the_request_got(
    error_type: type[httpx.TransportError], disposition: Disposition
) -> None:
    assert classify_exception(error_type("x")) is disposition


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120", START) == 120.0
    assert parse_retry_after("Mon, 23 Nov 2026 20:00:30 GMT", START) == 90.0
    assert parse_retry_after("soon", START) is None
    assert parse_retry_after(None, START) is None


# --- behaviour ---------------------------------------------------------------------------


@respx.mock(base_url=BASE, assert_all_called=False)
async def test_get_is_retried_with_growing_backoff(
    respx_mock: respx.MockRouter, clock: FakeClock, sleeper: Sleeper
) -> None:
    route = respx_mock.get("/api/x").mock(
        side_effect=[httpx.Response(500), httpx.Response(502), httpx.Response(200, json={})]
    )
    async with httpx.AsyncClient(base_url=BASE) as client:
        response = await make_http(client, clock, sleeper).request("GET", "/api/x")
    assert response.status_code == 200
    assert route.call_count == 3
    assert len(sleeper.delays) == 2
    assert 0.25 <= sleeper.delays[0] <= 0.5 < sleeper.delays[1] <= 1.0


@respx.mock(base_url=BASE)
async def test_gives_up_as_temporary_after_the_last_attempt(
    respx_mock: respx.MockRouter, clock: FakeClock, sleeper: Sleeper
) -> None:
    respx_mock.get("/api/x").mock(return_value=httpx.Response(500))
    async with httpx.AsyncClient(base_url=BASE) as client:
        with pytest.raises(TemporaryError, match="after 3 attempts") as raised:
            await make_http(client, clock, sleeper, attempts=3).request("GET", "/api/x")
    assert raised.value.kind is FailureKind.TEMPORARY
    assert raised.value.retry_after > 0


@respx.mock(base_url=BASE)
async def test_a_failed_write_is_not_repeated_blindly(
    respx_mock: respx.MockRouter, clock: FakeClock, sleeper: Sleeper
) -> None:
    route = respx_mock.post("/api/v2/mdm/commands").mock(return_value=httpx.Response(500))
    async with httpx.AsyncClient(base_url=BASE) as client:
        with pytest.raises(UncertainOutcome, match="re-read first"):
            await make_http(client, clock, sleeper).request("POST", "/api/v2/mdm/commands")
    assert route.call_count == 1
    assert sleeper.delays == []


@respx.mock(base_url=BASE)
async def test_read_timeout_on_a_write_is_uncertain_but_connect_timeout_retries(
    respx_mock: respx.MockRouter, clock: FakeClock, sleeper: Sleeper
) -> None:
    write = respx_mock.post("/w").mock(side_effect=httpx.ReadTimeout("slow"))
    never_sent = respx_mock.post("/c").mock(
        side_effect=[httpx.ConnectTimeout("down"), httpx.Response(201)]
    )
    async with httpx.AsyncClient(base_url=BASE) as client:
        http = make_http(client, clock, sleeper)
        with pytest.raises(UncertainOutcome):
            await http.request("POST", "/w")
        assert (await http.request("POST", "/c")).status_code == 201
    assert write.call_count == 1
    assert never_sent.call_count == 2


@respx.mock(base_url=BASE)
async def test_retry_after_is_honoured_exactly(
    respx_mock: respx.MockRouter, clock: FakeClock, sleeper: Sleeper
) -> None:
    respx_mock.get("/v1/orgDevices").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)]
    )
    async with httpx.AsyncClient(base_url=BASE) as client:
        await make_http(client, clock, sleeper).request("GET", "/v1/orgDevices")
    assert sleeper.delays == [7.0]


@respx.mock(base_url=BASE)
async def test_a_long_retry_after_goes_back_to_the_caller(
    respx_mock: respx.MockRouter, clock: FakeClock, sleeper: Sleeper
) -> None:
    respx_mock.post("/p").mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    async with httpx.AsyncClient(base_url=BASE) as client:
        with pytest.raises(TemporaryError) as raised:
            await make_http(client, clock, sleeper).request("POST", "/p")
    assert raised.value.retry_after == 3600.0
    assert sleeper.delays == []


@respx.mock(base_url=BASE)
async def test_401_refreshes_the_token_once(
    respx_mock: respx.MockRouter, clock: FakeClock, sleeper: Sleeper
) -> None:
    route = respx_mock.get("/api/x").mock(
        side_effect=lambda request: httpx.Response(
            200 if request.headers["Authorization"] == "Bearer token-2" else 401
        )
    )
    async with httpx.AsyncClient(base_url=BASE) as client:
        http = make_http(client, clock, sleeper)
        assert (await http.request("GET", "/api/x")).status_code == 200
    assert route.call_count == 2
    assert sleeper.delays == []


@respx.mock(base_url=BASE)
async def test_401_after_a_refresh_is_an_auth_failure_without_the_token(
    respx_mock: respx.MockRouter, clock: FakeClock, sleeper: Sleeper
) -> None:
    route = respx_mock.get("/api/x").mock(return_value=httpx.Response(401, text="INVALID_TOKEN"))
    async with httpx.AsyncClient(base_url=BASE) as client:
        with pytest.raises(AuthError) as raised:
            await make_http(client, clock, sleeper).request("GET", "/api/x")
    assert route.call_count == 2
    assert "token-" not in str(raised.value)
    assert "HTTP 401" in str(raised.value)


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(403, AuthError), (404, PermanentError), (400, PermanentError), (409, ConflictError)],
)
@respx.mock(base_url=BASE)
async def test_status_becomes_its_failure_without_retry(
    respx_mock: respx.MockRouter,
    clock: FakeClock,
    sleeper: Sleeper,
    status: int,
    error_type: type[Exception],
) -> None:
    route = respx_mock.put("/JSSResource/mobiledevicegroups/id/7").mock(
        return_value=httpx.Response(status, text="<html>Error: something</html>")
    )
    async with httpx.AsyncClient(base_url=BASE) as client:
        with pytest.raises(
            error_type, match=f"PUT /JSSResource/mobiledevicegroups/id/7: HTTP {status}"
        ) as raised:
            await make_http(client, clock, sleeper).request(
                "PUT", "/JSSResource/mobiledevicegroups/id/7"
            )
    assert route.call_count == 1
    assert getattr(raised.value, "status", None) == status


async def test_concurrency_is_capped_per_instance(clock: FakeClock, sleeper: Sleeper) -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return httpx.Response(200)

    transport = httpx.MockTransport(handler)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        http = make_http(client, clock, sleeper, max_connections=5)
        await asyncio.gather(*(http.request("GET", f"/d/{i}") for i in range(40)))
    assert peak == 5


async def test_requests_are_paced_where_the_vendor_has_a_rate_limit(
    clock: FakeClock, sleeper: Sleeper
) -> None:
    starts: list[datetime] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        starts.append(clock.now())
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url=BASE) as client:
        http = make_http(client, clock, sleeper, min_interval=3.0)
        for _ in range(4):
            await http.request("GET", "/v1/orgDevices")
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert gaps == [3.0, 3.0, 3.0]


async def test_cached_token_refreshes_shortly_before_expiry(clock: FakeClock) -> None:
    fetched: list[datetime] = []

    async def fetch() -> tuple[str, datetime]:
        fetched.append(clock.now())
        return f"t{len(fetched)}", clock.now() + timedelta(minutes=30)

    token = CachedToken(fetch, clock, refresh_margin=timedelta(seconds=60))
    assert await token.token() == "t1"
    clock.advance(timedelta(minutes=28, seconds=59))
    assert await token.token() == "t1"
    clock.advance(timedelta(seconds=1))
    assert await token.token() == "t2"
    token.invalidate()
    assert await token.token() == "t3"
    results = await asyncio.gather(*(token.token() for _ in range(10)))
    assert set(results) == {"t3"}
    assert len(fetched) == 3
