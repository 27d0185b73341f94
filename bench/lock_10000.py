"""Curfew edge benchmark: lock 10,000 iPads through the Jamf Pro connector (DESIGN.md §7).

Run: ``.venv/bin/python bench/lock_10000.py [--devices 10000] [--runs 5] [--naive-sample 500]``.
The Jamf Pro mock is served by uvicorn in a child process on 127.0.0.1 with 50 ms added to every
request; the connector talks real HTTP to it with at most 5 connections, as Jamf asks. Each run
starts a fresh mock, lists the inventory (not timed), then times the connector's bulk lock; the
median of the runs is reported, since other work on a 2-CPU machine moves single runs a lot.
The requests the lock made are counted from the mock's own request log, not assumed, and give
the mock's limit (rounds of requests x latency at 5 connections). The mock serves everything on
one event loop, so its own handling time per bulk POST is measured too (one POST alone, minus
the latency) and gives a second floor that includes it. A naive one-request-per-device loop runs
on a sample and is scaled to the fleet, since at 50 ms and 5 connections it would take minutes.
Prints the figures and writes ``bench/results/lock.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import statistics
import time
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import httpx

from connectors.base import ConnectorConfig, Outcome
from connectors.jamf_pro import create_connector
from mdm_bridge.clock import SystemClock
from mdm_bridge.model import Action, ActionKind, DeviceRef, LockCause, LockIntent

CONNECTIONS = 5
LATENCY_MS = 50.0
RESULTS = Path(__file__).parent / "results" / "lock.md"
CLIENT = {"client_id": "mdm-bridge"}
SECRET = {"client_secret": "mdm-bridge-secret"}
CURFEW = LockIntent(cause=LockCause.CURFEW, message="Home iPads rest from 20:00")
BATCH = 1000  # the connector's default command_batch_size
COMMANDS = "/api/v2/mdm/commands"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve_in_child(devices: int, port: int, ready: Connection) -> None:
    import uvicorn

    from mocks.clock import SystemClock as MockClock
    from mocks.common.faults import FaultSettings
    from mocks.compose import JAMF_PRO, MockPlan, build_mock_apps
    from mocks.generate import FleetConfig

    plan = MockPlan(
        fleet=FleetConfig(devices=devices, seed=1),
        vendors=(JAMF_PRO,),
        faults=FaultSettings(latency_ms=LATENCY_MS),
    )
    app = build_mock_apps(plan, MockClock()).apps[JAMF_PRO]
    ready.send("built")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def wait_until_listening(url: str, child: multiprocessing.Process) -> None:
    async with httpx.AsyncClient() as probe:
        for _ in range(600):
            if not child.is_alive():
                raise RuntimeError("the mock process died while starting")
            try:
                await probe.get(f"{url}/api/v1/health-check")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError("the mock did not start listening")


async def naive_loop(url: str, devices: list[DeviceRef]) -> tuple[float, int]:
    """One POST per device, five at a time: what a connector without bulk calls would do."""
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:
        headers = await token_headers(client)
        queue = list(devices)
        accepted = 0

        async def worker() -> None:
            nonlocal accepted
            while queue:
                device = queue.pop()
                body = {
                    "clientData": [{"managementId": device.management_id}],
                    "commandData": {
                        "commandType": "ENABLE_LOST_MODE",
                        "lostModeMessage": CURFEW.message,
                    },
                }
                response = await client.post(COMMANDS, json=body, headers=headers)
                accepted += response.status_code == 201

        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(CONNECTIONS):
                group.create_task(worker())
        return time.perf_counter() - started, accepted


async def token_headers(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials"} | CLIENT | SECRET
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def service_seconds(url: str, devices: list[DeviceRef], samples: int = 3) -> float:
    """The mock's own time for one bulk lock POST: sent alone on a warm connection, minus the
    latency it adds (so it includes the ~1 ms the bodies take on loopback). The mock serves
    every request on one event loop, so this time is spent one POST after another however many
    connections the client uses."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        headers = await token_headers(client)
        body = {
            "clientData": [{"managementId": d.management_id} for d in devices[:BATCH]],
            "commandData": {"commandType": "ENABLE_LOST_MODE", "lostModeMessage": CURFEW.message},
        }
        timings = []
        for _ in range(samples):
            started = time.perf_counter()
            response = await client.post(COMMANDS, json=body, headers=headers)
            timings.append(time.perf_counter() - started)
            response.raise_for_status()
    return max(0.0, statistics.median(timings) - LATENCY_MS / 1000)


async def lock_once(url: str) -> dict[str, float]:
    """List the fleet (not timed), then time the connector locking all of it."""
    clock = SystemClock()
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        config = ConnectorConfig(name="bench", base_url=url, options=CLIENT, secrets=SECRET)
        connector = create_connector(config, client=client, clock=clock)
        started = time.perf_counter()
        devices = [device async for device in connector.list_devices()]
        inventory_seconds = time.perf_counter() - started
        actions = [
            Action(
                kind=ActionKind.LOCK, device=d, target_hash="bench", reason="curfew", lock=CURFEW
            )
            for d in devices
        ]
        before = (await client.get(f"{url}/_mock/requests", params={"limit": 1})).json()["total"]
        await client.post(f"{url}/_mock/connections/reset")
        started = time.perf_counter()
        results = await connector.apply(actions)
        lock_seconds = time.perf_counter() - started
        log = (await client.get(f"{url}/_mock/requests", params={"since": before})).json()
        peak = (await client.get(f"{url}/_mock/connections")).json()["peak"]
    made = log["requests"]
    tokens = sum("token" in r["path"] for r in made)
    return {
        "devices": len(devices),
        "accepted": sum(result.outcome is Outcome.ACCEPTED for result in results),
        "inventory_seconds": inventory_seconds,
        "lock_seconds": lock_seconds,
        "posts": sum(r["method"] == "POST" and r["path"] == COMMANDS for r in made),
        "tokens": tokens,
        "other_requests": len(made) - tokens - sum(r["path"] == COMMANDS for r in made),
        "peak_connections": peak,
    }


async def naive_and_service(url: str, naive_sample: int) -> dict[str, float]:
    clock = SystemClock()
    async with httpx.AsyncClient(timeout=60) as client:
        config = ConnectorConfig(name="bench", base_url=url, options=CLIENT, secrets=SECRET)
        connector = create_connector(config, client=client, clock=clock)
        devices = [device async for device in connector.list_devices()]
    service = await service_seconds(url, devices)
    naive_seconds, naive_accepted = await naive_loop(url, devices[:naive_sample])
    sample = min(naive_sample, len(devices))
    return {
        "service_seconds": service,
        "naive_sample": sample,
        "naive_accepted": naive_accepted,
        "naive_sample_seconds": naive_seconds,
        "naive_fleet_seconds": naive_seconds * len(devices) / sample,
        "naive_floor_seconds": len(devices) * LATENCY_MS / 1000 / CONNECTIONS,
    }


def floors(run: dict[str, float], service: float) -> tuple[float, float]:
    """(the mock's latency limit, the same with its own handling time) for what a run sent.

    A token request, if the lock needed one, comes before any command; the command POSTs go in
    rounds of five. The mock serves every request on one event loop: the five POSTs of a round
    arrive together, sleep their latency together and wake together, and the loop then handles
    them one after another without reading the next round's requests (which the client sends
    as answers come back) until all five are done. So each round costs the latency plus the
    handling of its POSTs, and nothing of one round overlaps the next.
    """
    latency = LATENCY_MS / 1000
    rounds = -(-run["posts"] // CONNECTIONS)
    limit = (run["tokens"] + rounds) * latency
    return limit, limit + run["posts"] * service


def markdown(runs: list[dict[str, float]], extra: dict[str, float]) -> str:
    times = sorted(run["lock_seconds"] for run in runs)
    f = sorted(runs, key=lambda run: run["lock_seconds"])[(len(runs) - 1) // 2] | extra
    lock = f["lock_seconds"]  # the median run (the lower middle one for an even count)
    limit, with_service = floors(f, f["service_seconds"])
    speed_up = f["naive_fleet_seconds"] / lock
    spread = f"{times[0]:.2f}-{times[-1]:.2f} s over {len(runs)} runs"
    made = f"{f['posts']:.0f} command POSTs, {f['tokens']:.0f} token requests"
    made += f", {f['other_requests']:.0f} others" if f["other_requests"] else ""
    rows = [
        ("devices listed (inventory, not timed below)", f"{f['devices']:.0f}"),
        ("inventory listing", f"{f['inventory_seconds']:.2f} s"),
        ("locks accepted by the MDM", f"{f['accepted']:.0f}"),
        (
            "connector: every lock accepted (median run)",
            f"**{lock:.2f} s** ({spread}; target: 10 s)",
        ),
        (
            "requests the lock made (mock's log)",
            f"{made}; at most {f['peak_connections']:.0f} at once",
        ),
        (
            f"mock's own limit: rounds of {CONNECTIONS} requests x {LATENCY_MS:.0f} ms",
            f"{limit:.2f} s",
        ),
        ("ratio connector / mock limit", f"{lock / limit:.1f}"),
        (
            f"mock's handling of one {BATCH}-device lock POST (sent alone, minus latency)",
            f"{f['service_seconds'] * 1000:.1f} ms, one POST after another on one event loop",
        ),
        (
            "mock's limit with its handling: each round's latency, then its POSTs one by one",
            f"{with_service:.2f} s",
        ),
        ("ratio connector / limit with handling", f"{lock / with_service:.1f}"),
        (
            f"naive loop, measured on {f['naive_sample']:.0f} devices",
            f"{f['naive_sample_seconds']:.2f} s ({f['naive_accepted']:.0f} accepted)",
        ),
        (
            "naive loop, scaled to the fleet",
            f"{f['naive_fleet_seconds']:.1f} s (its own floor {f['naive_floor_seconds']:.0f} s)",
        ),
        ("speed-up over the naive loop", f"{speed_up:.0f}x"),
    ]
    header = [
        "# Curfew edge: lock every iPad through the Jamf Pro connector",
        "",
        f"Mock Jamf Pro on 127.0.0.1 (uvicorn, child process), {LATENCY_MS:.0f} ms added per "
        f"request, {CONNECTIONS} client connections, {os.cpu_count()} CPUs (1-minute load average "
        f"{extra['load_average']:.1f} before the runs). Produced by `bench/lock_10000.py`.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    return "\n".join(header + [f"| {name} | {value} |" for name, value in rows] + [""])


def serve(devices: int, job: Callable[[str], Coroutine[Any, Any, T]]) -> T:
    """Run `job(url)` against a fresh mock in a child process, then stop the mock."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.Process(target=serve_in_child, args=(devices, port, send))
    child.start()
    try:
        receive.recv()
        asyncio.run(wait_until_listening(url, child))
        return asyncio.run(job(url))
    finally:
        child.terminate()
        child.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5, help="timed lock runs, each on a new mock")
    parser.add_argument("--naive-sample", type=int, default=500)
    args = parser.parse_args()
    load_average = os.getloadavg()[0]
    runs = [serve(args.devices, lock_once) for _ in range(max(1, args.runs))]
    extra = serve(args.devices, lambda url: naive_and_service(url, args.naive_sample))
    report = markdown(runs, extra | {"load_average": load_average})
    RESULTS.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
