"""Composition, background ticker, real HTTP serving, the connection cap over sockets, the CLI."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from click.testing import CliRunner

from mocks.cli import mock_command
from mocks.clock import ManualClock
from mocks.compose import ASM, JAMF_PRO, JAMF_SCHOOL, MockPlan, build_mock_apps, vendor_ports
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_pro.app import build_jamf_pro_app
from mocks.serve import running_app
from mocks.ticker import FleetTicker, attach_ticker
from tests.mocks.conftest import JAMF_USER, calm_config


class CountingSleep:
    """Replaces asyncio.sleep in the ticker: no real waiting, one event per call."""

    def __init__(self) -> None:
        self.calls = 0
        self.called = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.calls += 1
        self.called.set()
        await asyncio.sleep(0)


class GatedSleep:
    def __init__(self) -> None:
        self.waiting = 0
        self.gate = asyncio.Event()
        self._arrivals = asyncio.Condition()

    async def __call__(self, seconds: float) -> None:
        async with self._arrivals:
            self.waiting += 1
            self._arrivals.notify_all()
        await self.gate.wait()

    async def until_waiting(self, count: int) -> None:
        async with self._arrivals:
            await self._arrivals.wait_for(lambda: self.waiting >= count)


def test_composition_shares_the_mdm_fleet_with_asm(clock: ManualClock) -> None:
    plan = MockPlan(fleet=FleetConfig(devices=20, seed=4))
    built = build_mock_apps(plan, clock)
    assert set(built.apps) == {JAMF_PRO, JAMF_SCHOOL, ASM}
    assert built.fleets[ASM] is built.fleets[JAMF_PRO]
    assert built.fleets[JAMF_SCHOOL] is not built.fleets[JAMF_PRO]
    serials = [d.serial for d in built.fleets[JAMF_SCHOOL].devices]
    assert serials == [d.serial for d in built.fleets[JAMF_PRO].devices]
    assert hasattr(built.apps[JAMF_PRO].state, "fleet_ticker")
    assert not hasattr(built.apps[ASM].state, "fleet_ticker")  # ticked by Jamf Pro's app


def test_asm_alone_owns_its_fleet(clock: ManualClock) -> None:
    built = build_mock_apps(MockPlan(fleet=FleetConfig(devices=5), vendors=(ASM,)), clock)
    assert hasattr(built.apps[ASM].state, "fleet_ticker")


def test_unknown_vendor_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown vendor"):
        MockPlan(vendors=("intune",))


def test_ports_are_offset_per_vendor() -> None:
    assert vendor_ports((JAMF_PRO, ASM), 9100) == {JAMF_PRO: 9100, ASM: 9102}
    assert vendor_ports((ASM,), 9100) == {ASM: 9100}


async def test_ticker_checks_devices_in_and_stops(fleet: Fleet, clock: ManualClock) -> None:
    sleep = CountingSleep()
    ticker = FleetTicker(fleet, interval_seconds=1.0, sleep=sleep)
    device = fleet.devices[0]
    clock.advance(device.next_checkin - fleet.now() + 1)
    before = device.last_checkin
    ticker.start()
    await sleep.called.wait()
    assert ticker.running
    await ticker.stop()
    assert not ticker.running
    assert ticker.ticks >= 1
    assert device.last_checkin > before


async def test_served_app_runs_its_ticker_only_while_serving(fleet: Fleet) -> None:
    app = build_jamf_pro_app(fleet)
    ticker = FleetTicker(fleet, sleep=CountingSleep())
    attach_ticker(app, ticker)
    async with running_app(app) as url:
        assert ticker.running
        async with httpx.AsyncClient(base_url=url) as client:
            answer = await client.post("/api/v1/auth/token", auth=JAMF_USER)
        assert answer.status_code == 200
    assert not ticker.running


async def test_connection_cap_over_real_sockets(clock: ManualClock) -> None:
    fleet = Fleet.build(calm_config(), clock)
    sleep = GatedSleep()
    sleep.gate.set()
    app = build_jamf_pro_app(fleet, sleep=sleep)
    async with running_app(app) as url, httpx.AsyncClient(base_url=url) as control:
        await control.patch("/_mock/faults", json={"latencyMs": 1, "overCap": "record"})
        token = (await control.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def burst(client: httpx.AsyncClient, requests: int, connections: int) -> None:
            sleep.gate.clear()
            sleep.waiting = 0
            calls = [
                asyncio.create_task(client.get("/api/v2/mobile-devices", headers=headers))
                for _ in range(requests)
            ]
            await sleep.until_waiting(connections)
            sleep.gate.set()
            assert {(await call).status_code for call in calls} == {200}

        polite = httpx.Limits(max_connections=5)
        async with httpx.AsyncClient(base_url=url, limits=polite) as client:
            await burst(client, 20, 5)
        seen = (await control.get("/_mock/connections")).json()
        assert (seen["peak"], seen["overCap"], seen["cap"]) == (5, 0, 5)

        greedy = httpx.Limits(max_connections=8)
        async with httpx.AsyncClient(base_url=url, limits=greedy) as client:
            await burst(client, 8, 8)
        seen = (await control.get("/_mock/connections")).json()
        assert (seen["peak"], seen["overCap"]) == (8, 3)


def test_cli_refuses_unknown_vendor_and_documents_its_knobs() -> None:
    runner = CliRunner()
    refused = runner.invoke(mock_command, ["--vendor", "intune"])
    assert refused.exit_code == 2
    helped = runner.invoke(mock_command, ["--help"])
    assert helped.exit_code == 0
    for option in ("--devices", "--seed", "--vendor", "--port", "--latency-ms", "--error-share"):
        assert option in helped.output


async def test_dropped_connection_over_real_sockets(fleet: Fleet) -> None:
    app = build_jamf_pro_app(fleet)
    async with running_app(app) as url, httpx.AsyncClient(base_url=url) as client:
        token = (await client.post("/api/v1/auth/token", auth=JAMF_USER)).json()["token"]
        await client.patch("/_mock/faults", json={"dropShare": 1})
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/api/v2/mobile-devices", headers={"Authorization": f"Bearer {token}"})
        await client.patch("/_mock/faults", json={"dropShare": 0})
        answer = await client.get(
            "/api/v2/mobile-devices", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200


def test_cli_flags_reach_the_served_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, object] = {}

    async def fake_serve(apps, ports, *, host, on_ready):  # type: ignore[no-untyped-def]
        served.update(apps=apps, ports=ports)
        on_ready({name: f"http://{host}:{port}" for name, port in ports.items()})

    monkeypatch.setattr("mocks.cli.serve_forever", fake_serve)
    flags = ["--devices", "50", "--seed", "3", "--vendor", "jamf-pro", "--vendor", "asm"]
    flags += ["--port", "9400", "--latency-ms", "50", "--jitter-ms", "5", "--error-share", "0.1"]
    flags += ["--rate-limit-share", "0.05", "--retry-after", "9", "--connection-cap", "3"]
    flags += ["--over-cap", "reject", "--drop-share", "0.01", "--checkin-slowdown", "2"]
    flags += ["--offline-share", "0.5", "--offline-hours", "3", "4"]
    result = CliRunner().invoke(mock_command, flags)
    assert result.exit_code == 0, result.output
    assert "jamf-pro     http://127.0.0.1:9400" in result.output
    assert "asm          http://127.0.0.1:9402" in result.output
    apps = served["apps"]
    assert isinstance(apps, dict)
    assert set(apps) == {JAMF_PRO, ASM}
    vendor = apps[JAMF_PRO].state.mock_vendor
    settings = vendor.faults.settings
    assert (settings.latency_ms, settings.jitter_ms, settings.error_share) == (50, 5, 0.1)
    assert (settings.rate_limit_share, settings.retry_after_seconds) == (0.05, 9)
    assert (settings.connection_cap, settings.over_cap.value, settings.drop_share) == (
        3,
        "reject",
        0.01,
    )
    assert len(vendor.fleet.devices) == 50
    assert vendor.fleet.checkin_slowdown == 2
    assert apps[ASM].state.mock_vendor.fleet is vendor.fleet
    assert vendor.fleet.config.offline_hours == (3.0, 4.0)
    away = [d.offline_until for d in vendor.fleet.devices if d.offline_until is not None]
    assert away
    assert all(3 * 3600 <= until - vendor.fleet.now() <= 4 * 3600 + 1 for until in away)


def test_cli_refuses_reversed_offline_hours() -> None:
    result = CliRunner().invoke(mock_command, ["--offline-hours", "5", "2"])
    assert result.exit_code == 2
    assert "--offline-hours" in result.output
