"""Curfew edge benchmark: lock 10,000 iPads through the Jamf Pro connector (DESIGN.md §7).

Run: ``.venv/bin/python bench/lock_10000.py [--devices 10000] [--naive-sample 500]``.
The Jamf Pro mock is served by uvicorn in a child process on 127.0.0.1 with 50 ms added to every
request; the connector talks real HTTP to it with at most 5 connections, as Jamf asks. The same
run measures the connector's bulk lock, the mock's own floor for it (requests needed x latency
/ connections) and a naive one-request-per-device loop. The naive loop runs on a sample and is
scaled to the fleet, since at 50 ms and 5 connections it would take minutes for every device.
Prints the figures and writes ``bench/results/lock.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import time
from multiprocessing.connection import Connection
from pathlib import Path

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
        answer = await client.post(
            "/api/v1/oauth/token", data={"grant_type": "client_credentials"} | CLIENT | SECRET
        )
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
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
                response = await client.post("/api/v2/mdm/commands", json=body, headers=headers)
                accepted += response.status_code == 201

        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(CONNECTIONS):
                group.create_task(worker())
        return time.perf_counter() - started, accepted


async def run(url: str, naive_sample: int) -> dict[str, float]:
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
        started = time.perf_counter()
        results = await connector.apply(actions)
        lock_seconds = time.perf_counter() - started
    accepted = sum(result.outcome is Outcome.ACCEPTED for result in results)
    batch = 1000  # the connector's default command_batch_size
    posts = -(-len(devices) // batch)
    floor = posts * LATENCY_MS / 1000 / CONNECTIONS
    naive_seconds, naive_accepted = await naive_loop(url, devices[:naive_sample])
    sample = min(naive_sample, len(devices))
    return {
        "devices": len(devices),
        "accepted": accepted,
        "inventory_seconds": inventory_seconds,
        "lock_seconds": lock_seconds,
        "posts": posts,
        "floor_seconds": floor,
        "naive_sample": sample,
        "naive_accepted": naive_accepted,
        "naive_sample_seconds": naive_seconds,
        "naive_fleet_seconds": naive_seconds * len(devices) / sample,
        "naive_floor_seconds": len(devices) * LATENCY_MS / 1000 / CONNECTIONS,
    }


def markdown(figures: dict[str, float]) -> str:
    f = figures
    ratio = f["lock_seconds"] / f["floor_seconds"]
    speed_up = f["naive_fleet_seconds"] / f["lock_seconds"]
    rows = [
        ("devices listed (inventory, not timed below)", f"{f['devices']:.0f}"),
        ("inventory listing", f"{f['inventory_seconds']:.2f} s"),
        ("locks accepted by the MDM", f"{f['accepted']:.0f}"),
        ("connector: every lock accepted", f"**{f['lock_seconds']:.2f} s** (target: 10 s)"),
        (
            f"mock's own limit: {f['posts']:.0f} requests x {LATENCY_MS:.0f} ms / {CONNECTIONS}",
            f"{f['floor_seconds']:.2f} s",
        ),
        ("ratio connector / mock limit", f"{ratio:.1f}"),
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
        f"request, {CONNECTIONS} client connections. Produced by `bench/lock_10000.py`.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    return "\n".join(header + [f"| {name} | {value} |" for name, value in rows] + [""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--naive-sample", type=int, default=500)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.Process(target=serve_in_child, args=(args.devices, port, send))
    child.start()
    try:
        receive.recv()
        asyncio.run(wait_until_listening(url, child))
        figures = asyncio.run(run(url, args.naive_sample))
    finally:
        child.terminate()
        child.join()
    report = markdown(figures)
    RESULTS.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
