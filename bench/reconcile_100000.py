"""Steady-state reconcile benchmark: 100,000 iPads against the mock Jamf Pro (DESIGN.md §7).

Run: ``.venv/bin/python bench/reconcile_100000.py [--devices 100000] [--runs 2]``.
The Jamf Pro mock (its default fleet: 3% unsupervised, 2% offline for hours, 10% already in Lost
Mode) is served by uvicorn in a child process on 127.0.0.1 with no added latency; the service
side talks real HTTP to it through the Jamf Pro connector, at most 5 connections.

1. Set-up process: a SQLite file is migrated and seeded the way the service does it (the MDM
   instance row, `sync_inventory` from the connector, `import_roster` from the mock's pupils:
   90% of iPads go home, 2% of those without a signed declaration), plus a sprinkle of bans,
   curfew exemptions and device holds. Then a first reconcile converges: locks, unlocks and
   profiles are sent.
2. Steady-state process (fresh, so its peak RSS is the run's own): a reconcile in which nothing
   changed. Timed: observation (reading every device from Jamf and storing it), deciding and
   planning (`preview`, which loads the facts from the database), and the whole run including
   queueing, the curfew-night record and the (empty) outbox drain. Actions queued must be 0.

The service clock starts at Monday 21:30 in London (inside the curfew) and runs at real speed;
the mock keeps its own wall clock, so commands for offline iPads stay pending across the runs.
Prints the figures and writes ``bench/results/reconcile.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import os
import resource
import socket
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import Engine, insert, select

from connectors.base import Connector, ConnectorConfig
from connectors.jamf_pro import create_connector
from mdm_bridge.reconcile.facts import BANS, DEVICES, EXEMPTIONS, HOLDS, INSTANCES, PUPILS
from mdm_bridge.reconcile.inventory import sync_inventory
from mdm_bridge.reconcile.run import Reconciler, RunSummary
from mdm_bridge.store import migrate
from mdm_bridge.store.engine import create_database_engine
from mdm_bridge.store.roster import RosterEntry, import_roster
from mdm_bridge.store.tables import School
from policies import DEFAULT_POLICY_DIR, load_policy

RESULTS = Path(__file__).parent / "results" / "reconcile.md"
SCHOOLS = School.__table__  # type: ignore[attr-defined]
CONNECTIONS = 5
START = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # Monday; London is on UTC in November
AGREED_ON = date(2026, 9, 10)
ACADEMIC_YEAR = "2026-27"
CLIENT = {"client_id": "mdm-bridge", "identifier_prefix": "org.mdmbridge."}
SECRET = {"client_secret": "mdm-bridge-secret"}
T = TypeVar("T")


class ShiftedClock:
    """Real elapsed time from a fixed start, so the run is at the same school time whenever the
    benchmark runs, while token lifetimes and backoffs still see time pass."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)

    def monotonic(self) -> float:
        return time.monotonic() - self._origin


# -- the mock, in its own process ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve_in_child(devices: int, port: int, ready: Connection) -> None:
    import uvicorn

    from mocks.clock import SystemClock as MockClock
    from mocks.compose import JAMF_PRO, MockPlan, build_mock_apps
    from mocks.generate import FleetConfig

    plan = MockPlan(fleet=FleetConfig(devices=devices, seed=1), vendors=(JAMF_PRO,))
    mock = build_mock_apps(plan, MockClock())
    pupils = [
        (d.serial, d.pupil_ref, d.pupil_name, int(d.year_group.split()[-1]), d.class_name)
        for d in mock.fleets[JAMF_PRO].devices
    ]
    ready.send(pupils)
    uvicorn.run(
        mock.apps[JAMF_PRO], host="127.0.0.1", port=port, log_level="warning", access_log=False
    )


async def wait_until_listening(url: str) -> None:
    async with httpx.AsyncClient() as probe:
        for _ in range(1200):
            try:
                await probe.get(f"{url}/api/v1/health-check")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError("the mock did not start listening")


# -- the service side --------------------------------------------------------------------------
def roster(pupils: list[tuple[str, str, str, int, str]]) -> list[RosterEntry]:
    entries = []
    for index, (serial, reference, name, year, class_name) in enumerate(pupils):
        home = index % 10 != 9
        entries.append(
            RosterEntry(
                serial_number=serial,
                pupil_reference=reference,
                pupil_name=name,
                year_group=year,
                classes=(class_name,),
                takes_home=home,
                parent_meeting_on=AGREED_ON if home else None,
                declaration_signed_on=AGREED_ON if home and index % 50 != 3 else None,
            )
        )
    return entries


def seed_records(engine: Engine) -> dict[str, int]:
    """Bans for 1 in 40 pupils (restricting) and 1 in 200 (removing, approved), 1 in 1,000
    pupils with a curfew exemption tonight, 1 in 2,500 iPads held."""
    at = START - timedelta(days=3)
    with engine.begin() as connection:
        pupils = [row.id for row in connection.execute(select(PUPILS.c.id).order_by(PUPILS.c.id))]
        devices = [
            row.id for row in connection.execute(select(DEVICES.c.id).order_by(DEVICES.c.id))
        ]
        base = {"reason": "misuse", "category": "conduct", "notes": "", "issued_by": "teacher"}
        window = {"issued_at": at, "starts_at": at, "ends_at": START + timedelta(days=4)}
        bans = [
            base | window | {"pupil_id": pupil, "level": 1 + (n // 40) % 2}
            for n, pupil in enumerate(pupils)
            if n % 40 == 1
        ] + [
            base
            | window
            | {"pupil_id": pupil, "level": 3, "approved_by": "head", "approved_at": at}
            for n, pupil in enumerate(pupils)
            if n % 200 == 2
        ]
        exemptions = [
            {
                "school_id": 1,
                "kind": "curfew",
                "pupil_id": pupil,
                "domains": [],
                "reason": "residential trip",
                "requested_by": "teacher",
                "requested_at": at,
                "starts_at": START - timedelta(hours=12),
                "ends_at": START + timedelta(days=2),
                "approved_by": "head",
                "approved_at": at,
            }
            for n, pupil in enumerate(pupils)
            if n % 1000 == 4
        ]
        holds = [
            {
                "device_id": device,
                "kind": "evidence_hold" if n % 5000 == 10 else "inspection",
                "reason": "reported",
                "placed_by": "dsl",
                "placed_at": at,
            }
            for n, device in enumerate(devices)
            if n % 2500 == 10
        ]
        for table, values in ((BANS, bans), (EXEMPTIONS, exemptions), (HOLDS, holds)):
            if values:
                connection.execute(insert(table), values)
    return {"bans": len(bans), "exemptions": len(exemptions), "holds": len(holds)}


def connector_for(url: str, client: httpx.AsyncClient, clock: ShiftedClock) -> Connector:
    config = ConnectorConfig(name="jamf-pro", base_url=url, options=CLIENT, secrets=SECRET)
    return create_connector(config, client=client, clock=clock)


def timed_reconciler(reconciler: Reconciler, timings: dict[str, float]) -> None:
    """Record how long observing and previewing take inside `reconcile` (instance attributes
    shadow the methods the run calls)."""
    observe, preview = reconciler.observe, reconciler.preview

    async def timed_observe(*args: Any) -> int:
        started = time.perf_counter()
        try:
            return await observe(*args)
        finally:
            timings["observe"] = timings.get("observe", 0.0) + time.perf_counter() - started

    def timed_preview(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return preview(*args)
        finally:
            timings["preview"] = time.perf_counter() - started

    reconciler.observe = timed_observe  # type: ignore[method-assign]
    reconciler.preview = timed_preview  # type: ignore[method-assign]


async def one_run(engine: Engine, url: str, clock: ShiftedClock) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        reconciler = Reconciler(
            database=engine,
            clock=clock,
            policy=load_policy(DEFAULT_POLICY_DIR),
            connectors={1: connector_for(url, client, clock)},
            worker="bench",
        )
        timings: dict[str, float] = {}
        timed_reconciler(reconciler, timings)
        started = time.perf_counter()
        summary: RunSummary = await reconciler.reconcile(trigger="bench")
        timings["total"] = time.perf_counter() - started
    return timings | {
        "devices": summary.devices,
        "converged": summary.converged,
        "queued": summary.queued,
        "superseded": summary.superseded,
        "blocked": summary.blocked,
        "sent": summary.sent.sent,
        "accepted": summary.sent.accepted,
        "pending": summary.sent.pending,
        "failed": summary.sent.failed,
        "refused": summary.sent.refused,
        "errors": summary.errors[:5],
    }


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_child(
    path: str, url: str, pupils: list[tuple[str, str, str, int, str]]
) -> dict[str, Any]:
    """Seed the database as the service does, then converge with a first run."""
    clock = ShiftedClock(START)
    engine = create_database_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(SCHOOLS).values(id=1, name="Bench", timezone="Europe/London", created_at=START)
        )
        connection.execute(
            insert(INSTANCES).values(
                id=1,
                school_id=1,
                name="jamf-pro",
                vendor="jamf_pro",
                base_url=url,
                enabled=True,
                created_at=START,
            )
        )

    async def inventory() -> int:
        async with httpx.AsyncClient(timeout=120) as client:
            return await sync_inventory(
                engine, 1, connector_for(url, client, clock), now=clock.now()
            )

    started = time.perf_counter()
    listed = asyncio.run(inventory())
    inventory_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as connection:
        report = import_roster(
            connection,
            school_id=1,
            entries=roster(pupils),
            academic_year=ACADEMIC_YEAR,
            recorded_by="office",
            now=clock.now(),
        )
    roster_seconds = time.perf_counter() - started
    records = seed_records(engine)
    first = asyncio.run(one_run(engine, url, clock))
    engine.dispose()
    return {
        "listed": listed,
        "assigned": report.devices_assigned,
        "inventory_seconds": inventory_seconds,
        "roster_seconds": roster_seconds,
        "records": records,
        "first": first,
        "peak_mb": peak_mb(),
    }


def steady_child(path: str, url: str, profile: str | None = None) -> dict[str, Any]:
    clock = ShiftedClock(START + timedelta(minutes=2))
    engine = create_database_engine(f"sqlite:///{path}")
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    run = asyncio.run(one_run(engine, url, clock))
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    engine.dispose()
    return run | {"peak_mb": peak_mb()}


def in_child(function: Callable[..., T], *args: Any) -> T:
    """Run `function(*args)` in a fresh (spawned) process, so its peak RSS is its own."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result: T = pool.apply(function, args)
    return result


def serve(devices: int, job: Callable[[str, list[Any]], T]) -> T:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(
        target=serve_in_child, args=(devices, port, send)
    )
    child.start()
    try:
        pupils = receive.recv()
        asyncio.run(wait_until_listening(url))
        return job(url, pupils)
    finally:
        child.terminate()
        child.join()


# -- report --------------------------------------------------------------------------------------
def markdown(setup: dict[str, Any], steady: list[dict[str, Any]], load: float) -> str:
    first = setup["first"]
    by_total = sorted(steady, key=lambda run: run["total"])
    median = by_total[(len(by_total) - 1) // 2]
    devices = median["devices"]

    def spread(key: str) -> str:
        values = [run[key] for run in steady]
        if len(values) == 1:
            return ""
        return f" ({min(values):.2f}-{max(values):.2f} s over {len(values)} runs)"

    rows = [
        (
            "iPads listed by the inventory sync",
            f"{setup['listed']:,} in {setup['inventory_seconds']:.1f} s",
        ),
        (
            "roster import (pupils, classes, agreements, iPad assignments)",
            f"{setup['assigned']:,} iPads in {setup['roster_seconds']:.1f} s",
        ),
        ("records added", ", ".join(f"{n:,} {what}" for what, n in setup["records"].items())),
        (
            "first run (converges)",
            f"{first['total']:.1f} s: observe {first['observe']:.1f} s, decide+plan "
            f"{first['preview']:.1f} s; {first['queued']:,} queued, {first['sent']:,} sent "
            f"({first['accepted']:,} accepted, {first['pending']:,} pending, {first['failed']:,} "
            f"failed, {first['refused']:,} refused), {first['blocked']:,} blocked",
        ),
        ("peak RSS, set-up and first-run process", f"{setup['peak_mb']:.0f} MB"),
        (
            "steady-state run: observe (read every iPad from Jamf, store it)",
            f"{median['observe']:.2f} s{spread('observe')}",
        ),
        (
            "steady-state run: decide+plan (`preview`, facts loaded from SQLite)",
            f"{median['preview']:.2f} s, {devices / median['preview']:,.0f} devices/s"
            + spread("preview"),
        ),
        ("steady-state run: whole `reconcile`", f"**{median['total']:.2f} s**{spread('total')}"),
        (
            "steady-state run: actions queued / sent",
            f"**{median['queued']}** / {median['sent']} ({median['converged']:,} converged, "
            f"{median['blocked']:,} blocked)",
        ),
        (
            "peak RSS, steady-state process (the service side; mock in its own process)",
            f"**{max(run['peak_mb'] for run in steady):.0f} MB** (target: under 500 MB)",
        ),
    ]
    errors = sorted({e for run in [first, *steady] for e in run["errors"]})
    header = [
        "# Steady-state reconcile of every iPad against the mock Jamf Pro",
        "",
        f"{devices:,} iPads, mock Jamf Pro on 127.0.0.1 (uvicorn, child process, no added "
        f"latency), {CONNECTIONS} client connections, SQLite file, {os.cpu_count()} CPUs "
        f"(1-minute load average {load:.1f} before the runs). Steady-state figures: median run, "
        "each in a fresh process. Produced by `bench/reconcile_100000.py`.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    footer = ["", "Errors reported by the runs: " + "; ".join(errors), ""] if errors else [""]
    return "\n".join(header + [f"| {name} | {value} |" for name, value in rows] + footer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2, help="steady-state runs, each timed")
    parser.add_argument("--profile", help="write a cProfile of the steady-state runs here")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "bench.sqlite")

        def job(url: str, pupils: list[Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            setup = in_child(setup_child, path, url, pupils)
            print("set-up", setup)
            steady = []
            for _ in range(max(1, args.runs)):
                steady.append(in_child(steady_child, path, url, args.profile))
                print("steady", steady[-1])
            return setup, steady

        setup, steady = serve(args.devices, job)
    report = markdown(setup, steady, load)
    if not args.profile:  # profiled runs are slower: not figures to keep
        RESULTS.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
