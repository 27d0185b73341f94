"""Shared plumbing of every vendor front: fault knobs, request log, connection cap, control API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from mocks.clock import ManualClock
from mocks.commands import RequestType
from mocks.common.control import install_mock_plumbing
from mocks.common.vendor import MockVendor
from mocks.fleet import Fleet


class GatedSleep:
    """Stands in for asyncio.sleep: records delays and holds callers until the gate opens."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self._arrivals = asyncio.Condition()

    async def __call__(self, seconds: float) -> None:
        async with self._arrivals:
            self.delays.append(seconds)
            self._arrivals.notify_all()
        await self.gate.wait()

    async def until_waiting(self, count: int) -> None:
        async with self._arrivals:
            await self._arrivals.wait_for(lambda: len(self.delays) >= count)


@pytest.fixture
def sleeper() -> GatedSleep:
    return GatedSleep()


@pytest.fixture
def vendor(fleet: Fleet, clock: ManualClock, sleeper: GatedSleep) -> MockVendor:
    vendor = MockVendor(name="test-vendor", fleet=fleet, clock=clock, sleep=sleeper)
    vendor.token_expirers.append(lambda: 3)
    vendor.write_key = lambda method, path: path if path.startswith("/things/") else None
    return vendor


@pytest.fixture
async def client(vendor: MockVendor) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.put("/things/{thing}")
    async def put_thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    install_mock_plumbing(app, vendor)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        yield client


async def test_latency_is_fixed_plus_jitter(client: httpx.AsyncClient, sleeper: GatedSleep) -> None:
    await client.patch("/_mock/faults", json={"latencyMs": 50, "jitterMs": 10})
    for _ in range(20):
        assert (await client.get("/ping")).status_code == 200
    assert len(sleeper.delays) == 20
    assert all(0.05 <= d <= 0.06 for d in sleeper.delays)
    assert len(set(sleeper.delays)) > 1


async def test_error_share_answers_5xx(client: httpx.AsyncClient) -> None:
    await client.patch("/_mock/faults", json={"errorShare": 0.5, "errorStatuses": [502, 503]})
    statuses = [(await client.get("/ping")).status_code for _ in range(200)]
    failures = [s for s in statuses if s != 200]
    assert set(failures) == {502, 503}
    assert 60 <= len(failures) <= 140


async def test_rate_limit_burst_sends_retry_after_then_recovers(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await client.post("/_mock/faults/rate-limit-burst", json={"count": 2, "retryAfterSeconds": 30})
    first = await client.get("/ping")
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "30"
    clock.advance(10)
    second = await client.get("/ping")
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "20"
    assert (await client.get("/ping")).status_code == 200


async def test_rate_limit_burst_ends_when_retry_after_passes(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await client.post("/_mock/faults/rate-limit-burst", json={"count": 50, "retryAfterSeconds": 5})
    assert (await client.get("/ping")).status_code == 429
    clock.advance(5)
    assert (await client.get("/ping")).status_code == 200


async def test_random_rate_limit_bursts(client: httpx.AsyncClient) -> None:
    await client.patch("/_mock/faults", json={"rateLimitShare": 0.2, "rateLimitBurst": 3})
    answers = [await client.get("/ping") for _ in range(100)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited
    assert all(a.headers["Retry-After"].isdigit() for a in limited)


async def test_request_log_records_vendor_calls_only(client: httpx.AsyncClient) -> None:
    await client.get("/ping", params={"a": "1"})
    await client.get("/nowhere")
    log = (await client.get("/_mock/requests")).json()
    assert [(r["method"], r["path"], r["status"]) for r in log["requests"]] == [
        ("GET", "/ping", 200),
        ("GET", "/nowhere", 404),
    ]
    assert log["requests"][0]["query"] == "a=1"
    later = (await client.get("/_mock/requests", params={"since": 1})).json()
    assert [r["path"] for r in later["requests"]] == ["/nowhere"]
    assert (await client.delete("/_mock/requests")).status_code == 204
    assert (await client.get("/_mock/requests")).json()["requests"] == []


async def gather_pings(client: httpx.AsyncClient, sleeper: GatedSleep, n: int) -> list[int]:
    sleeper.gate.clear()
    tasks = [asyncio.create_task(client.get("/ping")) for _ in range(n)]
    await sleeper.until_waiting(n)
    sleeper.gate.set()
    return [(await task).status_code for task in tasks]


async def test_connection_gauge_counts_peak_and_over_cap(
    client: httpx.AsyncClient, sleeper: GatedSleep
) -> None:
    await client.patch("/_mock/faults", json={"latencyMs": 1, "overCap": "record"})
    assert await gather_pings(client, sleeper, 7) == [200] * 7
    connections = (await client.get("/_mock/connections")).json()
    assert connections == {"inFlight": 0, "peak": 7, "cap": 5, "overCap": 2}
    reset = (await client.post("/_mock/connections/reset")).json()
    assert (reset["peak"], reset["overCap"]) == (0, 0)


async def test_over_cap_slows_requests_down(client: httpx.AsyncClient, sleeper: GatedSleep) -> None:
    await client.patch("/_mock/faults", json={"latencyMs": 1, "overCapDelayMs": 100})
    assert await gather_pings(client, sleeper, 7) == [200] * 7
    assert sorted(sleeper.delays)[-2:] == pytest.approx([0.101, 0.201])


async def test_over_cap_can_reject(client: httpx.AsyncClient, sleeper: GatedSleep) -> None:
    await client.patch("/_mock/faults", json={"latencyMs": 1, "overCap": "reject"})
    sleeper.gate.clear()
    tasks = [asyncio.create_task(client.get("/ping")) for _ in range(7)]
    await sleeper.until_waiting(5)
    for _ in range(5):  # let the two requests over the cap reach the middleware
        await asyncio.sleep(0)
    sleeper.gate.set()
    assert sorted([(await task).status_code for task in tasks]) == [200] * 5 + [503] * 2


async def test_overlapping_writes_to_one_object_get_409(
    client: httpx.AsyncClient, sleeper: GatedSleep
) -> None:
    await client.patch("/_mock/faults", json={"latencyMs": 1})
    sleeper.gate.clear()
    first = asyncio.create_task(client.put("/things/a"))
    await sleeper.until_waiting(1)
    second = await client.put("/things/a")
    other = asyncio.create_task(client.put("/things/b"))
    await sleeper.until_waiting(2)
    sleeper.gate.set()
    assert second.status_code == 409
    assert ((await first).status_code, (await other).status_code) == (200, 200)
    assert (await client.put("/things/a")).status_code == 200


async def test_expire_tokens_calls_every_store(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_mock/tokens/expire")).json() == {"expired": 3}


async def test_control_api_shows_and_moves_devices(client: httpx.AsyncClient, fleet: Fleet) -> None:
    device = fleet.devices[0]
    truth = (await client.get(f"/_mock/devices/{device.serial}")).json()
    assert truth["udid"] == device.udid
    assert truth["online"] is True
    off = (await client.post(f"/_mock/devices/{device.udid}/offline", json={"hours": 2})).json()
    assert off["online"] is False
    assert off["offlineUntil"].endswith("Z")
    assert (await client.post("/_mock/devices/1/online")).json()["online"] is True
    locked = (await client.post("/_mock/devices/1/screen-lock", json={"locked": True})).json()
    assert locked["screenLocked"] is True
    patched = (await client.patch("/_mock/devices/1", json={"supervised": False})).json()
    assert patched["supervised"] is False
    checked = (await client.post(f"/_mock/devices/{device.management_id}/check-in")).json()
    assert checked["checkedIn"] is True
    assert (await client.get("/_mock/devices/nope")).status_code == 404
    listing = (await client.get("/_mock/devices", params={"limit": 3})).json()
    assert listing["total"] == 10
    assert len(listing["devices"]) == 3


async def test_control_api_advances_the_manual_clock(client: httpx.AsyncClient) -> None:
    before = (await client.get("/_mock/clock")).json()
    assert before["manual"] is True
    moved = (await client.post("/_mock/clock/advance", json={"seconds": 7200})).json()
    assert moved["checkIns"] >= 10
    assert moved["now"] > before["now"]


async def test_slow_check_ins_knob(client: httpx.AsyncClient, fleet: Fleet) -> None:
    answer = (await client.patch("/_mock/faults", json={"checkinSlowdown": 4})).json()
    assert answer["checkinSlowdown"] == 4
    assert fleet.checkin_slowdown == 4


async def test_bad_fault_values_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.patch("/_mock/faults", json={"errorShare": 2})).status_code == 422
    bad = await client.patch("/_mock/faults", json={"errorStatuses": [404]})
    assert bad.status_code == 400


async def test_summary_and_filtered_truth(client: httpx.AsyncClient, fleet: Fleet) -> None:
    fleet.enqueue(fleet.devices[0], RequestType.ENABLE_LOST_MODE, {"message": "m"}, source="t")
    fleet.check_in(fleet.devices[0])
    fleet.enqueue(fleet.devices[1], RequestType.DEVICE_LOCK, source="t")
    fleet.set_offline(fleet.devices[2])
    summary = (await client.get("/_mock/summary")).json()
    assert summary["devices"] == 10
    assert summary["lostMode"] == 1
    assert summary["online"] == 9
    assert summary["withPendingCommands"] == 1
    assert summary["commandsByState"] == {"PENDING": 1, "ACKNOWLEDGED": 1, "NOT_NOW": 0, "ERROR": 0}
    lost = (await client.get("/_mock/devices", params={"lostMode": "true"})).json()
    assert [d["deviceId"] for d in lost["devices"]] == [1]
    offline = (await client.get("/_mock/devices", params={"online": "false"})).json()
    assert [d["deviceId"] for d in offline["devices"]] == [3]
    waiting = (await client.get("/_mock/devices", params={"hasPending": "true"})).json()
    assert waiting["total"] == 1


async def test_dropped_connection_after_the_app_acted(client: httpx.AsyncClient) -> None:
    await client.patch("/_mock/faults", json={"dropShare": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        await client.put("/things/x")
    log = (await client.get("/_mock/requests")).json()["requests"]
    assert (log[-1]["path"], log[-1]["status"], log[-1]["fault"]) == (
        "/things/x",
        200,
        "dropped connection",
    )
    await client.patch("/_mock/faults", json={"dropShare": 0})
    assert (await client.put("/things/x")).status_code == 200


async def test_fleet_behaviour_knobs(client: httpx.AsyncClient, fleet: Fleet) -> None:
    assert (await client.get("/_mock/fleet")).json() == {
        "requeueNotNow": False,
        "checkinSlowdown": 1.0,
    }
    changed = await client.patch("/_mock/fleet", json={"requeueNotNow": True, "checkinSlowdown": 3})
    assert changed.json() == {"requeueNotNow": True, "checkinSlowdown": 3.0}
    assert fleet.requeue_not_now
    assert (await client.patch("/_mock/fleet", json={"checkinSlowdown": 0.5})).status_code == 422
