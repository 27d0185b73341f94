"""Teacher's ban benchmark: API answer under 20 clients, and ban to MDM (DESIGN.md §7).

Run: ``.venv/bin/python bench/ban_api.py [--devices 2000] [--runs 3] [--profile ban.prof]``.
Three processes per run, all on 127.0.0.1 and real HTTP:

- the Jamf Pro mock (uvicorn, child process) over a generated school of 2,000 iPads, 50 ms added
  to every vendor request as in `bench/lock_10000.py`; its `/_mock` control routes (ground
  truth) answer without the added latency;
- the service: the real app (`create_app`, uvicorn, child process), a fresh SQLite file,
  `SystemClock`, scheduler off so only the bans drive reconciles. Before it starts, a set-up
  process registers the mock (`add_instance`), syncs the inventory, imports the roster (most
  iPads go home, as in the demo), creates 20 teacher tokens (each names 3 of the 18 classes,
  together all of them; every ban here is issued by a teacher, within their classes) and runs
  one converging reconcile, so a ban's run has only the ban to send;
- this process: the clients.

Each run, after a warm-up (2 bans per client, not counted), three phases:

1. One at a time: 20 bans, each sent into an idle service. The answer's latency, and ban to
   MDM: from sending the request to the mock's ground truth (`GET /_mock/devices/{serial}`,
   polled every 20 ms) showing the iPad in a group it was not in before, the ban profile's
   static group (how the Jamf Pro connector scopes a ban). Cross-checked with the outbox row's
   `finished_at` (the connector's write accepted), from the same send instant.
2. Paced: 20 clients (`httpx.AsyncClient`, one connection each) each send a ban every
   `--pace` seconds (default 1 s; 10 each, staggered): 20 teachers busy at once.
3. Back to back: the same 20 clients send 50 `POST /api/v1/bans` each, each request as soon as
   the last was answered (1,000 requests): the service's capacity, p50/p95/p99/max and
   throughput. `--py-spy PATH` samples the service during this phase.

Bans alternate levels 1 and 2, each for a distinct pupil in the teacher's classes. In phases 2
and 3 every 50th ban's iPad is watched on the mock (every 50 ms) and every ban is looked up in
the outbox afterwards: accepted, or why not. Waiting for the background reconciles is capped
(`--settle-cap`); what had not reached the MDM by then is counted.

Medians of the runs are reported; the machine has few CPUs and runs the three processes and
the clients, so single runs move. Prints the figures and writes ``bench/results/ban.md``,
keeping its hand-written "Where the time goes" section. With ``--profile PATH`` the service
runs under cProfile (main thread only: the database work runs in worker threads, which
py-spy sees) and writes the stats to PATH.N on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import math
import multiprocessing
import os
import random
import signal
import socket
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr
from sqlalchemy import create_engine, select

RESULTS = Path(__file__).parent / "results" / "ban.md"
LATENCY_MS = 50.0
CLIENTS = 20
BANS_PER_CLIENT = 50
WARM_UP_PER_CLIENT = 2
PACED_PER_CLIENT = 10
QUIET_SAMPLE = 20
LOAD_WATCH_EVERY = 50  # watch every 50th ban of the load on the mock
CLASSES_PER_TEACHER = 3
QUIET_POLL = 0.02
LOAD_POLL = 0.05
TARGET_P95_MS = 50.0
TARGET_TO_MDM_S = 2.0
SECRET_KEY = "bench-secret-key-bench-secret-key-bench-secret"  # noqa: S105 - a throwaway database
CLIENT = {"client_id": "mdm-bridge"}
SECRET = {"client_secret": "mdm-bridge-secret"}
NOTES = "## Where the time goes"  # a hand-written section of the results, kept on rewrite
T = TypeVar("T")
Pupil = tuple[str, str, str, int, str, bool]  # serial, reference, name, year, class, supervised


# -- processes -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve_mock(devices: int, port: int, ready: Connection) -> None:
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
    mock = build_mock_apps(plan, MockClock())
    ready.send(
        [
            (
                d.serial,
                d.pupil_ref,
                d.pupil_name,
                int(d.year_group.split()[-1]),
                d.class_name,
                d.supervised,
            )
            for d in mock.fleets[JAMF_PRO].devices
        ]
    )
    uvicorn.run(
        mock.apps[JAMF_PRO], host="127.0.0.1", port=port, log_level="warning", access_log=False
    )


def settings_for(database: str) -> Any:
    from mdm_bridge.settings import Settings

    return Settings(
        database_url=f"sqlite:///{database}",
        secret_key=SecretStr(SECRET_KEY),
        scheduler=False,
        upgrade_on_start=False,
        log_level="WARNING",
    )


def serve_service(database: str, port: int, profile: str | None) -> None:
    import uvicorn

    from mdm_bridge.api.app import create_app
    from mdm_bridge.clock import SystemClock

    app = create_app(settings_for(database), clock=SystemClock())
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    finally:
        if profiler and profile:
            profiler.disable()
            profiler.dump_stats(profile)


def teachers_and_pupils(pupils: list[Pupil]) -> tuple[list[tuple[str, ...]], list[list[Pupil]]]:
    """20 teachers, each with 3 classes (together all of them), and for each the supervised
    pupils of their classes, shuffled, no pupil given to two teachers."""
    classes = sorted({p[4] for p in pupils})
    teachers = [
        tuple(classes[(i + k) % len(classes)] for k in range(CLASSES_PER_TEACHER))
        for i in range(CLIENTS)
    ]
    rng = random.Random(7)
    pool = [p for p in pupils if p[5]]
    rng.shuffle(pool)
    taken: set[str] = set()
    needed = WARM_UP_PER_CLIENT + PACED_PER_CLIENT + BANS_PER_CLIENT + -(-QUIET_SAMPLE // CLIENTS)
    chosen: list[list[Pupil]] = []
    for teacher in teachers:
        mine = [p for p in pool if p[4] in teacher and p[1] not in taken][:needed]
        if len(mine) < needed:
            raise RuntimeError("the school is too small for the load: use more --devices")
        taken.update(p[1] for p in mine)
        chosen.append(mine)
    return teachers, chosen


def set_up(database: str, mock_url: str, pupils: list[Pupil]) -> dict[str, Any]:
    """The school as the service keeps it, then one converging reconcile (in its own process)."""
    from mdm_bridge.clock import SystemClock
    from mdm_bridge.connections import add_instance
    from mdm_bridge.model import Vendor
    from mdm_bridge.service import Service
    from mdm_bridge.store import access, migrate
    from mdm_bridge.store.engine import create_database_engine
    from mdm_bridge.store.roster import RosterEntry, import_roster
    from mdm_bridge.store.tables import School
    from policies import Role, academic_year_of

    clock = SystemClock()
    now = clock.now()
    engine = create_database_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    teachers, _ = teachers_and_pupils(pupils)
    tokens = []
    with engine.begin() as connection:
        school_id = connection.execute(
            School.__table__.insert()  # type: ignore[attr-defined]
            .values(name="Bench Primary", timezone="Europe/London", created_at=now)
            .returning(School.__table__.c.id)  # type: ignore[attr-defined]
        ).scalar_one()
        add_instance(
            connection,
            secret_key=SECRET_KEY,
            school_id=school_id,
            name="jamf-pro",
            vendor=Vendor.JAMF_PRO,
            base_url=mock_url,
            options=CLIENT,
            secrets=SECRET,
            now=now,
        )
        for index, classes in enumerate(teachers):
            text, _ = access.create_token(
                connection,
                user=f"teacher{index:02d}",
                role=Role.TEACHER,
                classes=classes,
                expires_at=now + timedelta(days=1),
                now=now,
                created_by="bench",
            )
            tokens.append(text)
    engine.dispose()
    today = now.date()
    entries = [
        RosterEntry(
            serial_number=serial,
            pupil_reference=reference,
            pupil_name=name,
            year_group=year,
            classes=(class_name,),
            takes_home=index % 10 != 9,
            parent_meeting_on=today - timedelta(days=1),
            declaration_signed_on=today if index % 20 != 7 else None,
        )
        for index, (serial, reference, name, year, class_name, _) in enumerate(pupils)
    ]

    async def converge() -> dict[str, Any]:
        service = Service.build(settings_for(database), clock, scheduler=False)
        await service.start()
        try:
            reconciling = service.reconciling
            assert reconciling is not None
            listed = await reconciling.sync_inventory()
            with service.engine.begin() as connection:
                import_roster(
                    connection,
                    school_id=school_id,
                    entries=entries,
                    academic_year=academic_year_of(today),
                    recorded_by="bench",
                    now=clock.now(),
                )
            started = time.perf_counter()
            first = await reconciling.reconcile("bench: converge")
            seconds = time.perf_counter() - started
            again = await reconciling.reconcile("bench: check")
        finally:
            await service.stop()
        return {
            "listed": listed,
            "first_seconds": seconds,
            "first_sent": first.sent.sent,
            "again_queued": again.queued,
        }

    return asyncio.run(converge()) | {"tokens": tokens}


def in_child(function: Callable[..., T], *args: Any) -> T:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: T = pool.apply(function, args)
    return result


async def wait_until_listening(url: str, path: str, child: Any) -> None:
    async with httpx.AsyncClient() as probe:
        for _ in range(1200):
            if not child.is_alive():
                raise RuntimeError(f"the process serving {url} died while starting")
            try:
                await probe.get(url + path)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not start listening")


def stop(child: Any, grace: float = 15.0) -> None:
    """SIGTERM (uvicorn shuts down, the service waits for its background work), then SIGKILL."""
    child.terminate()
    child.join(grace)
    if child.is_alive():
        child.kill()
        child.join()


# -- the clients -------------------------------------------------------------------------------
@dataclass(kw_only=True)
class Ban:
    pupil: Pupil
    token: str
    level: int
    sent_wall: float = 0.0  # time.time() when sent: compared with the outbox's instants
    sent: float = 0.0  # time.perf_counter() when sent
    latency: float = 0.0
    status: int = 0
    to_mdm: float | None = None  # seen on the mock's ground truth, seconds after sending
    new_groups: tuple[int, ...] = ()
    accepted_at: datetime | None = None  # the outbox row's finished_at
    outcomes: tuple[str, ...] = ()  # its ban profile's outbox rows: accepted, or why not


@dataclass(kw_only=True)
class Session:
    service: str
    mock: str
    reader: Any  # an Engine on the service's SQLite file, for the outbox cross-check
    settle_cap: float
    service_pid: int = 0
    spy: str | None = None  # py-spy's raw output for the load phase (py-spy on PATH)
    issued: list[Ban] = field(default_factory=list)


def body(ban: Ban) -> dict[str, Any]:
    return {
        "pupil": ban.pupil[1],
        "level": ban.level,
        "reason": "games during a maths lesson",
        "category": "non-educational sites",
    }


async def issue(client: httpx.AsyncClient, ban: Ban, session: Session) -> None:
    ban.sent_wall, ban.sent = time.time(), time.perf_counter()
    response = await client.post("/api/v1/bans", json=body(ban))
    ban.latency = time.perf_counter() - ban.sent
    ban.status = response.status_code
    session.issued.append(ban)


async def groups_of(mock: httpx.AsyncClient, serial: str) -> set[int]:
    response = await mock.get(f"/_mock/devices/{serial}")
    response.raise_for_status()
    return set(response.json()["groups"])


async def watch(
    mock: httpx.AsyncClient, ban: Ban, before: set[int], every: float, cap: float
) -> None:
    """Poll the mock's ground truth until the iPad is in a new group (the ban's)."""
    while time.perf_counter() - ban.sent < cap:
        try:
            now = await groups_of(mock, ban.pupil[0])
        except httpx.TransportError:  # a kept-alive connection the mock closed meanwhile
            continue
        if now - before:
            ban.to_mdm = time.perf_counter() - ban.sent
            ban.new_groups = tuple(sorted(now - before))
            return
        await asyncio.sleep(every)


def ban_rows(session: Session) -> dict[str, list[tuple[str, str, datetime | None]]]:
    """serial -> its ban profiles' outbox rows: (status, detail, finished_at), oldest first."""
    from mdm_bridge.reconcile.facts import DEVICES
    from mdm_bridge.store.engine_tables import OutboxRow

    outbox = OutboxRow.__table__  # type: ignore[attr-defined]
    query = (
        select(DEVICES.c.serial_number, outbox.c.status, outbox.c.detail, outbox.c.finished_at)
        .join(DEVICES, DEVICES.c.id == outbox.c.device_id)
        .where(
            outbox.c.kind == "install_profile",
            outbox.c.profile_identifier.like("%.ban.level%"),
        )
        .order_by(outbox.c.id)
    )
    found: dict[str, list[tuple[str, str, datetime | None]]] = {}
    with session.reader.connect() as connection:
        for serial, status, detail, finished_at in connection.execute(query):
            found.setdefault(serial, []).append((status, detail, finished_at))
    return found


async def settle(session: Session, cap: float) -> bool:
    """Wait until the outbox holds a finished row (accepted or not) for every ban issued so far
    and nothing waits to be sent: the background reconciles are done (or `cap` seconds)."""
    until = time.perf_counter() + cap
    wanted = {ban.pupil[0] for ban in session.issued if ban.status == 201}
    while time.perf_counter() < until:
        rows = await asyncio.to_thread(ban_rows, session)
        if all(
            rows.get(serial) and all(at is not None for _, _, at in rows[serial])
            for serial in wanted
        ):
            return True
        await asyncio.sleep(0.1)
    return False


def note_outbox(session: Session, bans: list[Ban]) -> None:
    """Each ban's accepted instant, and its outbox rows' outcomes (`Ban.outcomes`)."""
    rows = ban_rows(session)
    for ban in bans:
        mine = rows.get(ban.pupil[0], [])
        ban.outcomes = tuple(
            "accepted" if status == "sent" else f"{status}: {detail}" for status, detail, _ in mine
        )
        ban.accepted_at = next((at for status, _, at in mine if status == "sent"), None)


async def warm_up(session: Session, plans: list[list[Ban]]) -> bool:
    async def one_client(bans: list[Ban]) -> None:
        async with client_for(session, bans[0].token) as client:
            for ban in bans:
                await issue(client, ban, session)

    async with asyncio.TaskGroup() as group:
        for bans in plans:
            group.create_task(one_client(bans))
    return await settle(session, session.settle_cap)


def client_for(session: Session, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=session.service,
        headers={"Authorization": f"Bearer {token}"},
        limits=httpx.Limits(max_connections=1),
        timeout=60,
    )


async def quiet_sample(session: Session, bans: list[Ban]) -> None:
    """One ban at a time, each into an idle service, watched on the mock every 20 ms."""
    async with httpx.AsyncClient(base_url=session.mock, timeout=30) as mock:
        for ban in bans:
            before = await groups_of(mock, ban.pupil[0])
            async with client_for(session, ban.token) as client:
                watcher = asyncio.create_task(
                    watch(mock, ban, before, QUIET_POLL, session.settle_cap)
                )
                await issue(client, ban, session)
                await watcher
            await settle(session, session.settle_cap)
    note_outbox(session, bans)


async def start_spy(session: Session) -> asyncio.subprocess.Process | None:
    """py-spy sampling every thread of the service (where the time goes under the load)."""
    if session.spy is None:
        return None
    spy = await asyncio.create_subprocess_exec(
        *("py-spy", "record", "--pid", str(session.service_pid), "--format", "raw"),
        *("--rate", "200", "--threads", "--nonblocking", "--output", session.spy),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1.0)  # it attaches
    return spy


async def load(session: Session, plans: list[list[Ban]], pace: float = 0.0) -> float:
    """Each client on its own connection sends its bans one after another: back to back, or
    (`pace` > 0) each at its own due time, every `pace` seconds, clients staggered. Every
    50th ban's iPad is watched on the mock. Answers the phase's seconds."""
    watched = [ban for bans in plans for ban in bans][::LOAD_WATCH_EVERY]
    async with httpx.AsyncClient(base_url=session.mock, timeout=30) as mock:
        before = {ban.pupil[0]: await groups_of(mock, ban.pupil[0]) for ban in watched}
        watchers: list[asyncio.Task[None]] = []
        started = time.perf_counter() + 0.5  # every client has connected by then

        async def one_client(index: int, bans: list[Ban]) -> None:
            async with client_for(session, bans[0].token) as client:
                await client.get("/healthz")  # open the connection before the clock starts
                for n, ban in enumerate(bans):
                    due = started + (n + index / len(plans)) * pace
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    if ban.pupil[0] in before:  # the watcher starts polling once it is sent
                        baseline = before[ban.pupil[0]]
                        poll = watch(mock, ban, baseline, LOAD_POLL, session.settle_cap)
                        watchers.append(asyncio.create_task(poll))
                    await issue(client, ban, session)

        spy = await start_spy(session) if not pace else None
        async with asyncio.TaskGroup() as group:
            for index, bans in enumerate(plans):
                group.create_task(one_client(index, bans))
        seconds = time.perf_counter() - started
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await spy.wait()
        await asyncio.gather(*watchers)
    await settle(session, session.settle_cap)
    note_outbox(session, [ban for bans in plans for ban in bans])
    return seconds


async def drive(
    session: Session, tokens: list[str], pupils: list[Pupil], pace: float
) -> dict[str, Any]:
    _, chosen = teachers_and_pupils(pupils)
    taken = [0] * CLIENTS

    def plan(index: int, count: int) -> list[Ban]:
        first, taken[index] = taken[index], taken[index] + count
        mine = chosen[index][first : first + count]
        return [
            Ban(pupil=p, token=tokens[index], level=1 + (index + n) % 2)
            for n, p in enumerate(mine, start=first)
        ]

    warm = await warm_up(session, [plan(i, WARM_UP_PER_CLIENT) for i in range(CLIENTS)])
    quiet = [ban for i in range(CLIENTS) for ban in plan(i, 1)][:QUIET_SAMPLE]
    await quiet_sample(session, quiet)
    paced = [plan(i, PACED_PER_CLIENT) for i in range(CLIENTS)]
    paced_seconds = await load(session, paced, pace)
    plans = [plan(i, BANS_PER_CLIENT) for i in range(CLIENTS)]
    load_seconds = await load(session, plans)
    return {
        "warm_up_settled": float(warm),
        "quiet": quiet,
        "paced": [ban for bans in paced for ban in bans],
        "paced_seconds": paced_seconds,
        "load": [ban for bans in plans for ban in bans],
        "load_seconds": load_seconds,
    }


def one_run(
    devices: int, settle_cap: float, pace: float, profile: str | None, spy: str | None
) -> dict[str, Any]:
    """A fresh mock, database and service; the clients' figures."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="ban-bench-") as folder:
        database = str(Path(folder) / "bench.db")
        mock_port, service_port = free_port(), free_port()
        mock_url = f"http://127.0.0.1:{mock_port}"
        service_url = f"http://127.0.0.1:{service_port}"
        receive, send = context.Pipe(duplex=False)
        mock = context.Process(target=serve_mock, args=(devices, mock_port, send))
        mock.start()
        try:
            pupils: list[Pupil] = receive.recv()
            asyncio.run(wait_until_listening(mock_url, "/api/v1/health-check", mock))
            started = time.perf_counter()
            setup = in_child(set_up, database, mock_url, pupils)
            setup["setup_seconds"] = time.perf_counter() - started
            service = context.Process(target=serve_service, args=(database, service_port, profile))
            service.start()
            reader = create_engine(f"sqlite:///{database}")
            try:
                asyncio.run(wait_until_listening(service_url, "/healthz", service))
                session = Session(
                    service=service_url,
                    mock=mock_url,
                    reader=reader,
                    settle_cap=settle_cap,
                    service_pid=service.pid,
                    spy=spy,
                )
                figures = asyncio.run(drive(session, setup.pop("tokens"), pupils, pace))
            finally:
                reader.dispose()
                stop(service)
        finally:
            stop(mock)
    return figures | setup


# -- figures ---------------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(round(share * len(ordered), 6)) - 1)]


def latency_figures(name: str, bans: list[Ban], seconds: float) -> dict[str, float]:
    latencies = [ban.latency * 1000 for ban in bans]
    return {
        f"{name}_requests": len(bans),
        f"{name}_errors": sum(ban.status != 201 for ban in bans),
        f"{name}_p50": percentile(latencies, 0.50),
        f"{name}_p95": percentile(latencies, 0.95),
        f"{name}_p99": percentile(latencies, 0.99),
        f"{name}_max": max(latencies),
        f"{name}_rate": len(bans) / seconds,
    }


def delay_figures(name: str, delays: list[float], of: int) -> dict[str, float]:
    figures = {f"{name}_count": float(len(delays)), f"{name}_of": float(of)}
    if delays:
        figures |= {
            f"{name}_p50": percentile(delays, 0.50),
            f"{name}_p95": percentile(delays, 0.95),
            f"{name}_max": max(delays),
        }
    return figures


def to_mdm_figures(name: str, bans: list[Ban], watched: list[Ban]) -> dict[str, Any]:
    """Ground truth for the watched bans, the outbox for all of them, and why rows failed."""
    seen = [ban.to_mdm for ban in watched if ban.to_mdm is not None]
    outbox = [ban.accepted_at.timestamp() - ban.sent_wall for ban in bans if ban.accepted_at]
    failures = Counter(o for ban in bans for o in ban.outcomes if o != "accepted")
    figures: dict[str, Any] = delay_figures(f"{name}_seen", seen, len(watched))
    figures |= delay_figures(f"{name}_outbox", outbox, len(bans))
    figures[f"{name}_failed_rows"] = float(sum(failures.values()))
    figures[f"{name}_failures"] = "; ".join(f"{n} x {why}" for why, n in failures.most_common(2))
    return figures


def summarise(run: dict[str, Any]) -> dict[str, Any]:
    quiet: list[Ban] = run["quiet"]
    alone = [ban.latency * 1000 for ban in quiet]
    figures: dict[str, Any] = {
        key: run[key]
        for key in ("listed", "first_seconds", "first_sent", "again_queued", "setup_seconds")
    }
    figures |= {"alone_p50": percentile(alone, 0.50), "alone_max": max(alone)}
    figures |= latency_figures("paced", run["paced"], run["paced_seconds"])
    figures |= latency_figures("load", run["load"], run["load_seconds"])
    figures |= to_mdm_figures("quiet", quiet, quiet)
    for name in ("paced", "load"):
        figures |= to_mdm_figures(name, run[name], run[name][::LOAD_WATCH_EVERY])
    watched = quiet + run["paced"][::LOAD_WATCH_EVERY] + run["load"][::LOAD_WATCH_EVERY]
    figures["ban_groups"] = len({group for ban in watched for group in ban.new_groups})
    return figures


def markdown(runs: list[dict[str, Any]], args: argparse.Namespace, load_average: float) -> str:
    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs if key in run)

    def spread(key: str) -> str:
        values = [run[key] for run in runs if key in run]
        if len(values) < 2:
            return ""
        return f"; {min(values):.0f}-{max(values):.0f} ms over {len(values)} runs"

    def answers(name: str) -> str:
        return (
            f"{median(name + '_p50'):.0f} / **{median(name + '_p95'):.0f}** / "
            f"{median(name + '_p99'):.0f} / {median(name + '_max'):.0f} ms "
            f"(p95{spread(name + '_p95')}; target: p95 < {TARGET_P95_MS:.0f} ms); "
            f"{median(name + '_rate'):.0f} bans/s; {median(name + '_errors'):.0f} of "
            f"{median(name + '_requests'):.0f} not 201"
        )

    def delays(name: str, what: str) -> str:
        counted = f"{median(name + '_count'):.0f} of {median(name + '_of'):.0f} {what}"
        if not all(f"{name}_p50" in run for run in runs):
            return counted
        return (
            f"p50 {median(name + '_p50'):.2f} s, p95 **{median(name + '_p95'):.2f} s**, "
            f"max {median(name + '_max'):.2f} s ({counted})"
        )

    def failures(name: str) -> str:
        failed = median(f"{name}_failed_rows")
        text = next((run[f"{name}_failures"] for run in runs if run[f"{name}_failures"]), "")
        return f"; outbox rows failed: {failed:.0f} (e.g. {text})" if failed else ""

    within = f"within {args.settle_cap:.0f} s"
    rows = [
        (
            "school",
            f"{runs[0]['listed']:.0f} iPads, 18 classes; {CLIENTS} teacher tokens of "
            f"{CLASSES_PER_TEACHER} classes each; set-up {median('setup_seconds'):.0f} s",
        ),
        (
            "converging reconcile before the bans",
            f"{median('first_seconds'):.1f} s, {median('first_sent'):.0f} actions sent; "
            f"a second run queued {median('again_queued'):.0f}",
        ),
        (
            f"answer, one ban at a time into an idle service ({QUIET_SAMPLE} bans)",
            f"p50 {median('alone_p50'):.0f} ms, max {median('alone_max'):.0f} ms",
        ),
        (
            f"answer p50 / p95 / p99 / max, {CLIENTS} clients paced: each sends a ban every "
            f"{args.pace:g} s ({PACED_PER_CLIENT} each)",
            answers("paced"),
        ),
        (
            f"answer p50 / p95 / p99 / max, {CLIENTS} clients back to back: {BANS_PER_CLIENT} "
            "each, each sent when the last was answered",
            answers("load"),
        ),
        (
            f"ban to MDM, one at a time: mock's ground truth (polled every "
            f"{QUIET_POLL * 1000:.0f} ms)",
            delays("quiet_seen", f"seen; target: < {TARGET_TO_MDM_S:.0f} s"),
        ),
        (
            "ban to MDM, one at a time: outbox row accepted (cross-check)",
            delays("quiet_outbox", "accepted"),
        ),
        (
            f"ban to MDM, paced: every {LOAD_WATCH_EVERY}th ban's iPad on the mock "
            f"(every {LOAD_POLL * 1000:.0f} ms)",
            delays("paced_seen", f"seen {within}"),
        ),
        (
            "ban to MDM, paced: outbox rows, every ban",
            delays("paced_outbox", f"accepted {within}") + failures("paced"),
        ),
        (
            f"ban to MDM, back to back: every {LOAD_WATCH_EVERY}th ban's iPad on the mock",
            delays("load_seen", f"seen {within}"),
        ),
        (
            "ban to MDM, back to back: outbox rows, every ban",
            delays("load_outbox", f"accepted {within}") + failures("load"),
        ),
        (
            "groups the watched iPads joined (the two ban levels' groups)",
            f"{runs[0]['ban_groups']}",
        ),
    ]
    header = [
        "# Teacher's ban: API answer under load, and ban to MDM",
        "",
        f"The real app (uvicorn, child process, SQLite file, system clock, scheduler off) and the "
        f"Jamf Pro mock (uvicorn, child process, {LATENCY_MS:.0f} ms added per vendor request, "
        f"as in the lock bench) on 127.0.0.1; the clients in a third process. {os.cpu_count()} "
        f"CPUs for all three (1-minute load average {load_average:.1f} before the runs). Medians "
        f"of {len(runs)} runs, each on a fresh mock, database and service. Produced by "
        "`bench/ban_api.py`.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    return "\n".join(header + [f"| {name} | {value} |" for name, value in rows] + [""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pace", type=float, default=1.0, help="seconds between a client's bans")
    parser.add_argument(
        "--settle-cap", type=float, default=30.0, help="longest wait for background reconciles"
    )
    parser.add_argument("--profile", help="cProfile the service process, stats to this file")
    parser.add_argument("--py-spy", help="sample the service with py-spy (raw) during the load")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    load_average = os.getloadavg()[0]
    runs = []
    for index in range(max(1, args.runs)):
        profile = f"{args.profile}.{index}" if args.profile else None
        spy = f"{args.py_spy}.{index}" if args.py_spy else None
        run = one_run(args.devices, args.settle_cap, args.pace, profile, spy)
        runs.append(summarise(run))
        print(f"run {index + 1}: {runs[-1]}")
    report = markdown(runs, args, load_average)
    if not args.no_write:
        # A hand-written analysis below the table (profiles, causes) survives a new run.
        kept = RESULTS.read_text() if RESULTS.exists() else ""
        notes = kept[kept.find(NOTES) :] if NOTES in kept else ""
        RESULTS.write_text(report + ("\n" + notes if notes else ""))
    print(report)


if __name__ == "__main__":
    main()
