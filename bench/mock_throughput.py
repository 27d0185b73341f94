"""Benchmark of the mock MDM itself: fleet build time and memory, and request rate at 5 connections.

Run: ``.venv/bin/python bench/mock_throughput.py [--devices 100000] [--requests 3000]``.
The Jamf Pro mock is served by uvicorn in a child process on loopback (so the client does not
share its CPU), and five client connections send a bounded number of requests per scenario.
Prints the figures and writes ``bench/results/mock.md`` for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import socket
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

CONNECTIONS = 5
USER = ("bridge", "bridge-password")
RESULTS = Path(__file__).parent / "results" / "mock.md"


def rss_mb() -> float:
    """Current resident set size of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve_in_child(devices: int, port: int, report: Connection) -> None:
    """Child process: build the fleet and the Jamf Pro app, report build figures, serve."""
    import uvicorn

    from mocks.clock import SystemClock
    from mocks.compose import JAMF_PRO, MockPlan, build_mock_apps
    from mocks.generate import FleetConfig

    before = rss_mb()
    started = time.perf_counter()
    built = build_mock_apps(
        MockPlan(fleet=FleetConfig(devices=devices, seed=1), vendors=(JAMF_PRO,)), SystemClock()
    )
    build_seconds = time.perf_counter() - started
    report.send({"build_seconds": build_seconds, "fleet_mb": rss_mb() - before, "rss_mb": rss_mb()})
    uvicorn.run(built.apps[JAMF_PRO], host="127.0.0.1", port=port, log_level="warning")


@dataclass(frozen=True, kw_only=True)
class Scenario:
    name: str
    method: str
    path: str
    json: object | None = None
    params: dict[str, str] | None = None


@dataclass(frozen=True, kw_only=True)
class Outcome:
    name: str
    requests: int
    seconds: float
    failures: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def wait_until_listening(url: str, child: multiprocessing.Process) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(600):  # bounded: at most about a minute
            if not child.is_alive():
                raise RuntimeError("the mock process died while starting")
            try:
                await client.get("/api/v1/health-check")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the mock did not start listening")


async def run_scenario(client: httpx.AsyncClient, scenario: Scenario, total: int) -> Outcome:
    remaining = total
    failures = 0

    async def worker() -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            answer = await client.request(
                scenario.method, scenario.path, json=scenario.json, params=scenario.params
            )
            if answer.status_code >= 400:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return Outcome(
        name=scenario.name,
        requests=total,
        seconds=time.perf_counter() - started,
        failures=failures,
    )


async def load(url: str, requests: int) -> tuple[list[Outcome], float, float]:
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        token = (await client.post("/api/v1/auth/token", auth=USER)).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        first = (await client.get("/api/v2/mobile-devices", params={"page-size": "5"})).json()
        targets = [{"managementId": item["managementId"]} for item in first["results"]]
        scenarios = [
            Scenario(name="GET one device", method="GET", path="/api/v2/mobile-devices/42"),
            Scenario(
                name="GET detail page of 100 (GENERAL)",
                method="GET",
                path="/api/v2/mobile-devices/detail",
                params={"page": "3", "sort": "id:asc"},
            ),
            Scenario(
                name="POST lock command for 5 devices",
                method="POST",
                path="/api/v2/mdm/commands",
                json={
                    "clientData": targets,
                    "commandData": {"commandType": "DEVICE_LOCK", "message": "Curfew"},
                },
            ),
        ]
        outcomes = [await run_scenario(client, s, requests) for s in scenarios]
        await client.patch("/_mock/faults", json={"latencyMs": 50})
        latency = await run_scenario(
            client,
            Scenario(
                name="GET one device, 50 ms latency", method="GET", path="/api/v2/mobile-devices/42"
            ),
            min(requests, 500),
        )
        outcomes.append(latency)
        await client.patch("/_mock/faults", json={"latencyMs": 0})
        started = time.perf_counter()
        pages = await asyncio.gather(
            *(
                client.get(
                    "/api/v2/mobile-devices/detail",
                    params=[
                        ("section", "GENERAL"),
                        ("section", "SECURITY"),
                        ("section", "GROUPS"),
                        ("page", str(page)),
                        ("page-size", "2000"),
                        ("sort", "id:asc"),
                    ],
                )
                for page in range(-(-first["totalCount"] // 2000))
            )
        )
        listing_seconds = time.perf_counter() - started
        listed = sum(len(page.json()["results"]) for page in pages)
        assert listed == first["totalCount"], (listed, first["totalCount"])
        return outcomes, listing_seconds, float(listed)


def markdown(
    devices: int, build: dict[str, float], outcomes: list[Outcome], listing: tuple[float, float]
) -> str:
    lines = [
        f"### Mock MDM (Jamf Pro front), {devices:,} devices, {CONNECTIONS} connections",
        "",
        f"- Fleet + app build: **{build['build_seconds']:.1f} s**; fleet memory "
        f"**{build['fleet_mb']:.0f} MB** (process RSS {build['rss_mb']:.0f} MB after build).",
        f"- Full inventory listing ({int(listing[1]):,} devices, GENERAL+SECURITY+GROUPS, pages of "
        f"2,000 over {CONNECTIONS} connections): **{listing[0]:.1f} s**.",
        "",
        "| scenario | requests | req/s | failures |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {o.name} | {o.requests} | {o.rate:.0f} | {o.failures} |" for o in outcomes]
    lines += [
        "",
        f"Server in its own process on loopback, client `httpx` with {CONNECTIONS} connections, "
        f"{os.cpu_count()} CPUs. With 50 ms injected latency the ceiling is "
        f"{CONNECTIONS} / 0.05 s = {CONNECTIONS / 0.05:.0f} req/s.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3000, help="per scenario")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results")
    args = parser.parse_args()
    port = free_port()
    receiving, sending = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(
        target=serve_in_child, args=(args.devices, port, sending), daemon=True
    )
    child.start()
    try:
        build = receiving.recv() if receiving.poll(120) else None
        if build is None:
            raise RuntimeError("the mock did not report its build in time")
        url = f"http://127.0.0.1:{port}"
        asyncio.run(wait_until_listening(url, child))
        outcomes, listing_seconds, listed = asyncio.run(load(url, args.requests))
    finally:
        child.terminate()
        child.join(10)
    report = markdown(args.devices, build, outcomes, (listing_seconds, listed))
    print(report)
    print(f"(client RSS peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB)")
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(report)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
