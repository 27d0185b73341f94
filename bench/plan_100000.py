"""Steady-state planning benchmark: decide and plan 100,000 iPads with nothing to do (DESIGN.md §7).

Run: ``.venv/bin/python bench/plan_100000.py [--devices 100000] [--runs 3]``.
Two figures, each at an instant inside the curfew (Monday 21:30 in London) and one outside it
(Tuesday 15:00), each measured in a fresh process so its peak RSS is its own:

- pure: `desired_state` + `resolve_lock` + `plan_device` for every device, from facts already in
  memory, against observations equal to what is desired (so every plan is empty). This is the
  decide+plan step the target "plan >= 50,000 devices/s on one core" is about.
- preview: `Reconciler.preview(at)` end to end on a SQLite file seeded with the same school, so it
  includes reading devices, pupils, groups, agreements, bans, exemptions, holds, observations and
  the outbox from the database.

The fleet is one pupil per iPad with a realistic mix: 90% go home, almost all of them with a
complete home-use agreement (2% only had the parent meeting); 1 in 40 pupils has an active
restricting ban, 1 in 200 an approved removing ban, others ended, scheduled or awaiting
approval; 100 curfew exemptions and 20 web allow-list exemptions for classes; 40 device holds;
1% of iPads unsupervised (reported as blocked, never acted on). Timed runs are repeated and the
median kept, since other work on a shared 2-CPU machine moves single runs.
Prints the figures and writes ``bench/results/plan.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, insert

from connectors.base import Connector, ConnectorConfig
from connectors.jamf_pro import create_connector
from connectors.jamf_pro.connector import JamfProConnector
from mdm_bridge.clock import FakeClock
from mdm_bridge.model import DeviceRef, LockState, ObservedDevice
from mdm_bridge.reconcile.facts import (
    AGREEMENTS,
    BANS,
    DEVICES,
    EXEMPTIONS,
    GROUPS,
    HOLDS,
    INSTANCES,
    MEMBERS,
    OBSERVATIONS,
    PUPILS,
    DeviceRecord,
    Facts,
    observation_values,
)
from mdm_bridge.reconcile.outbox import TABLE as OUTBOX
from mdm_bridge.reconcile.plan import plan_device, resolve_lock
from mdm_bridge.reconcile.run import Reconciler
from mdm_bridge.store import migrate
from mdm_bridge.store.engine import create_database_engine
from mdm_bridge.store.tables import School
from policies import (
    DEFAULT_POLICY_DIR,
    Ban,
    Decision,
    DeviceFacts,
    DeviceHold,
    Exemption,
    ExemptionKind,
    HoldKind,
    HomeUseAgreement,
    Policy,
    PupilFacts,
    desired_state,
    load_policy,
    lock_profile,
)

RESULTS = Path(__file__).parent / "results" / "plan.md"
SCHOOLS = School.__table__  # type: ignore[attr-defined]
INSTANCE = "jamf-pro"
IN_CURFEW = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # Monday; London is on UTC in November
OUT_OF_CURFEW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
INSTANTS = {"inside curfew (Mon 21:30)": IN_CURFEW, "outside curfew (Tue 15:00)": OUT_OF_CURFEW}
SET_UP = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
AGREED_ON = date(2026, 9, 10)
ACADEMIC_YEAR = "2026-27"
CLASSES = "ABCD"
BATCH = 5000
JAMF_PRO_CAPABILITIES = JamfProConnector.capabilities


def day(month: int, dom: int, hour: int = 9) -> datetime:
    return datetime(2026, month, dom, hour, tzinfo=UTC)


# -- the school, by device index: one pupil per iPad ---------------------------------------------
def year_of(i: int) -> int:
    return 1 + i % 13


def class_of(i: int) -> str:
    return f"{year_of(i)}{CLASSES[(i // 13) % len(CLASSES)]}"


def takes_home(i: int) -> bool:
    return i % 10 != 9


def agreement_of(i: int) -> tuple[date | None, date | None] | None:
    """(parent meeting, declaration) for pupils whose iPad goes home; 2% lack the declaration."""
    if not takes_home(i):
        return None
    return (AGREED_ON, None if i % 50 == 3 else AGREED_ON)


def bans_of(i: int) -> list[dict[str, Any]]:
    """Ban rows (without id and pupil) for pupil i."""
    base = {"reason": "misuse", "category": "conduct", "notes": "", "issued_by": "teacher"}
    found = []
    if i % 40 == 1:  # active, restricting (level 1 or 2)
        found.append(base | {"level": 1 + (i // 40) % 2, "starts_at": day(11, 20)})
    if i % 200 == 2:  # active, removing, approved by a second person
        found.append(
            base
            | {"level": 3, "starts_at": day(11, 20), "approved_by": "head", "approved_at": SET_UP}
        )
    if i % 100 == 5:  # ended
        found.append(base | {"level": 2, "starts_at": day(11, 1), "ends_at": day(11, 10)})
    if i % 500 == 6:  # scheduled for next week
        found.append(base | {"level": 1, "starts_at": day(11, 30), "ends_at": day(12, 4)})
    if i % 1000 == 8:  # removing, still awaiting approval
        found.append(base | {"level": 4, "starts_at": day(11, 22)})
    for row in found:
        row.setdefault("ends_at", day(11, 27))
        row.setdefault("approved_by", None)
        row.setdefault("approved_at", None)
        row["issued_at"] = row["starts_at"] - timedelta(hours=1)
    return found


def curfew_exempt(i: int) -> bool:
    return i % 1000 == 4


def hold_of(i: int) -> HoldKind | None:
    if i % 5000 == 10:
        return HoldKind.EVIDENCE_HOLD
    if i % 5000 == 11:
        return HoldKind.INSPECTION
    return None


def supervised(i: int) -> bool:
    return i % 100 != 98


WEB_CLASSES = [f"{year}{letter}" for year in range(3, 13, 2) for letter in CLASSES][:20]


def reference(i: int) -> str:
    return f"pupil-{i:06d}"


def device_ref(i: int) -> DeviceRef:
    return DeviceRef(
        mdm_instance=INSTANCE,
        vendor_id=str(i + 1),
        serial_number=f"BENCH{i:07d}",
        udid=f"00008101-{i:016X}",
        management_id=f"mid-{i:08d}",
    )


def build_facts(devices: int) -> Facts:
    """The same `Facts` that `load_facts` reads from a store holding this school."""
    facts = Facts()
    for i in range(devices):
        ref = device_ref(i)
        pupil = reference(i)
        year = year_of(i)
        facts.pupils[i] = PupilFacts(
            reference=pupil, year_group=year, groups=frozenset({class_of(i), f"Year {year}"})
        )
        facts.devices.append(
            DeviceRecord(
                device_id=i + 1,
                instance_id=1,
                facts=DeviceFacts(ref=ref, supervised=supervised(i), takes_home=takes_home(i)),
                pupil_id=i,
            )
        )
        agreement = agreement_of(i)
        if agreement is not None:
            facts.agreements[pupil].append(
                HomeUseAgreement(
                    pupil_reference=pupil,
                    academic_year=ACADEMIC_YEAR,
                    parent_meeting_on=agreement[0],
                    declaration_signed_on=agreement[1],
                )
            )
        for number, row in enumerate(bans_of(i)):
            facts.bans[pupil].append(Ban(id=f"{i}-{number}", pupil_reference=pupil, **row))
        kind = hold_of(i)
        if kind is not None:
            facts.holds[ref.key].append(
                DeviceHold(
                    id=str(i),
                    device_key=ref.key,
                    kind=kind,
                    reason="reported",
                    placed_by="dsl",
                    placed_at=SET_UP,
                )
            )
        if curfew_exempt(i):
            facts.exemptions.append(curfew_exemption(i))
    facts.exemptions += [web_exemption(n, group) for n, group in enumerate(WEB_CLASSES)]
    return facts


def curfew_exemption(i: int) -> Exemption:
    return Exemption(
        id=f"c{i}",
        kind=ExemptionKind.CURFEW,
        reason="residential trip",
        requested_by="teacher",
        starts_at=day(11, 23, 12),
        ends_at=day(11, 25, 12),
        approved_by="head",
        pupil_reference=reference(i),
    )


def web_exemption(n: int, group: str) -> Exemption:
    return Exemption(
        id=f"w{n}",
        kind=ExemptionKind.WEB_ALLOW,
        reason="topic work",
        requested_by="teacher",
        starts_at=day(11, 16),
        ends_at=day(12, 18),
        approved_by="head",
        group=group,
        domains=(f"www.topic{n}.org.uk",),
    )


# -- the decide+plan step, as `Reconciler._decide` runs it --------------------------------------
def decide(
    record: DeviceRecord, facts: Facts, policy: Policy, at: datetime
) -> tuple[Decision, Any, Any]:
    pupil = facts.pupils.get(record.pupil_id) if record.pupil_id is not None else None
    pupil_reference = pupil.reference if pupil else ""
    decision = desired_state(
        device=record.facts,
        pupil=pupil,
        policy=policy,
        bans=facts.bans.get(pupil_reference, ()),
        exemptions=facts.exemptions_for(pupil),
        agreements=facts.agreements.get(pupil_reference, ()),
        holds=facts.holds.get(record.facts.ref.key, ()),
        now=at,
    )
    desired, documents = resolve_lock(
        decision.desired,
        JAMF_PRO_CAPABILITIES,
        decision.documents,
        lambda intent: lock_profile(policy, intent),
    )
    return decision, desired, documents


def converged_observation(record: DeviceRecord, desired: Any, at: datetime) -> ObservedDevice:
    """What the MDM reports once the device is what it should be (an unsupervised iPad that
    should be locked stays unlocked: Lost Mode needs supervision)."""
    locked = desired.lock is not None and record.facts.supervised
    identifiers = frozenset(profile.identifier for profile in desired.profiles)
    return ObservedDevice(
        ref=record.facts.ref,
        observed_at=at,
        supervised=record.facts.supervised,
        lock=LockState.LOCKED if locked else LockState.UNLOCKED,
        profiles=identifiers,
        groups=identifiers,
        last_check_in=at - timedelta(minutes=5),
    )


def steady_state(
    facts: Facts, policy: Policy, at: datetime
) -> tuple[dict[int, ObservedDevice], dict[int, dict[str, str]]]:
    observations: dict[int, ObservedDevice] = {}
    delivered: dict[int, dict[str, str]] = {}
    for record in facts.devices:
        _, desired, _ = decide(record, facts, policy, at)
        observations[record.device_id] = converged_observation(record, desired, at)
        delivered[record.device_id] = {p.identifier: p.content_hash for p in desired.profiles}
    return observations, delivered


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pure_child(devices: int, at: datetime, runs: int) -> dict[str, Any]:
    """Time decide+plan for every device (inputs built first, not timed)."""
    policy = load_policy(DEFAULT_POLICY_DIR)
    facts = build_facts(devices)
    observations, delivered = steady_state(facts, policy, at)
    inputs_mb = rss_mb()
    capabilities = JAMF_PRO_CAPABILITIES
    timings = []
    counts: Counter[str] = Counter()
    for _ in range(runs):
        counts = Counter()
        started = time.perf_counter()
        for record in facts.devices:
            decision, desired, documents = decide(record, facts, policy, at)
            plan = plan_device(
                desired,
                observations.get(record.device_id),
                capabilities=capabilities,
                documents=documents,
                unsent=(),
                delivered=delivered.get(record.device_id),
            )
            counts["actions"] += len(plan.actions)
            counts["blocked"] += bool(plan.blocked)
            counts[decision.curfew.value] += 1
        timings.append(time.perf_counter() - started)
    return {
        "seconds": statistics.median(timings),
        "spread": (min(timings), max(timings)),
        "counts": dict(counts),
        "inputs_mb": inputs_mb,
        "peak_mb": peak_mb(),
    }


# -- the database, for the end-to-end preview ----------------------------------------------------
def seed_child(path: str, devices: int, at: datetime) -> dict[str, Any]:
    """Write the school into a fresh SQLite file, with observations converged at `at`."""
    started = time.perf_counter()
    engine = create_database_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    policy = load_policy(DEFAULT_POLICY_DIR)
    facts = build_facts(devices)
    with engine.begin() as connection:
        connection.execute(
            insert(SCHOOLS).values(id=1, name="Bench", timezone="Europe/London", created_at=SET_UP)
        )
        connection.execute(
            insert(INSTANCES).values(
                id=1,
                school_id=1,
                name=INSTANCE,
                vendor="jamf_pro",
                base_url="http://unused",
                enabled=True,
                created_at=SET_UP,
            )
        )
        names = sorted({g for p in facts.pupils.values() for g in p.groups} | set(WEB_CLASSES))
        group_ids = {name: n + 1 for n, name in enumerate(names)}
        kind = {True: "year_group", False: "class"}
        rows: list[dict[str, Any]] = [
            {"id": gid, "school_id": 1, "name": name, "kind": kind[name.startswith("Year ")]}
            for name, gid in group_ids.items()
        ]
        connection.execute(insert(GROUPS), rows)
        pupils = [
            {
                "id": i + 1,
                "school_id": 1,
                "reference": reference(i),
                "display_name": f"Pupil {i}",
                "year_group": year_of(i),
                "created_at": SET_UP,
            }
            for i in range(devices)
        ]
        members = [
            {"pupil_id": i + 1, "group_id": group_ids[group]}
            for i in range(devices)
            for group in facts.pupils[i].groups
        ]
        agreements = [
            {
                "pupil_id": i + 1,
                "academic_year": ACADEMIC_YEAR,
                "parent_meeting_on": agreement[0],
                "declaration_signed_on": agreement[1],
                "recorded_by": "office",
                "recorded_at": SET_UP,
            }
            for i in range(devices)
            if (agreement := agreement_of(i)) is not None
        ]
        bans = [row | {"pupil_id": i + 1} for i in range(devices) for row in bans_of(i)]
        device_rows = [
            {
                "id": i + 1,
                "mdm_instance_id": 1,
                "vendor_id": (ref := device_ref(i)).vendor_id,
                "serial_number": ref.serial_number,
                "udid": ref.udid,
                "management_id": ref.management_id,
                "name": "",
                "supervised": supervised(i),
                "takes_home": takes_home(i),
                "pupil_id": i + 1,
                "created_at": SET_UP,
            }
            for i in range(devices)
        ]
        holds = [
            {
                "device_id": i + 1,
                "kind": kind_.value,
                "reason": "reported",
                "placed_by": "dsl",
                "placed_at": SET_UP,
            }
            for i in range(devices)
            if (kind_ := hold_of(i)) is not None
        ]
        exemptions = [
            {
                "school_id": 1,
                "kind": e.kind.value,
                "group_name": e.group,
                "pupil_id": int(e.pupil_reference.split("-")[1]) + 1 if e.pupil_reference else None,
                "domains": list(e.domains),
                "reason": e.reason,
                "requested_by": e.requested_by,
                "requested_at": SET_UP,
                "starts_at": e.starts_at,
                "ends_at": e.ends_at,
                "approved_by": e.approved_by,
                "approved_at": SET_UP,
            }
            for e in facts.exemptions
        ]
        for table, values in (
            (PUPILS, pupils),
            (MEMBERS, members),
            (AGREEMENTS, agreements),
            (BANS, bans),
            (DEVICES, device_rows),
            (HOLDS, holds),
            (EXEMPTIONS, exemptions),
        ):
            for start in range(0, len(values), BATCH):
                connection.execute(insert(table), values[start : start + BATCH])
    write_observations(engine, policy, facts, at)
    engine.dispose()
    return {"seconds": time.perf_counter() - started}


def write_observations(engine: Engine, policy: Policy, facts: Facts, at: datetime) -> None:
    """Converged observations at `at`, and the sent outbox row of each installed profile."""
    observations, delivered = steady_state(facts, policy, at)
    rows = [observation_values(device_id, o) for device_id, o in observations.items()]
    sent = [
        {
            "mdm_instance_id": 1,
            "device_id": device_id,
            "idempotency_key": f"{INSTANCE}/{device_id}:install_profile:{identifier}:{hash_}",
            "kind": "install_profile",
            "profile_identifier": identifier,
            "target_hash": hash_,
            "reason": "profile missing",
            "payload": {},
            "status": "sent",
            "attempts": 1,
            "created_at": SET_UP,
            "available_at": SET_UP,
            "finished_at": SET_UP,
            "outcome": "accepted",
            "detail": "",
        }
        for device_id, profiles in delivered.items()
        for identifier, hash_ in profiles.items()
    ]
    with engine.begin() as connection:
        connection.execute(OBSERVATIONS.delete())
        connection.execute(OUTBOX.delete())
        for table, values in ((OBSERVATIONS, rows), (OUTBOX, sent)):
            for start in range(0, len(values), BATCH):
                connection.execute(insert(table), values[start : start + BATCH])


def reobserve_child(path: str, devices: int, at: datetime) -> dict[str, Any]:
    engine = create_database_engine(f"sqlite:///{path}")
    write_observations(engine, load_policy(DEFAULT_POLICY_DIR), build_facts(devices), at)
    engine.dispose()
    return {}


def preview_child(path: str, at: datetime, runs: int) -> dict[str, Any]:
    """Time `Reconciler.preview(at)` on the seeded file (the first run included: a service
    previews once per run, with nothing cached between runs)."""
    engine = create_database_engine(f"sqlite:///{path}")
    config = ConnectorConfig(
        name=INSTANCE,
        base_url="http://unused",  # preview only reads the connector's capabilities
        options={"client_id": "bench"},
        secrets={"client_secret": "unused"},
    )
    connector: Connector = create_connector(
        config,
        client=httpx.AsyncClient(),
        clock=FakeClock(at),
    )
    reconciler = Reconciler(
        database=engine,
        clock=FakeClock(at),
        policy=load_policy(DEFAULT_POLICY_DIR),
        connectors={1: connector},
        worker="bench",
    )
    timings = []
    counts: Counter[str] = Counter()
    for _ in range(runs):
        started = time.perf_counter()
        preview = reconciler.preview(at)
        timings.append(time.perf_counter() - started)
        counts = Counter(
            {
                "devices": len(preview.devices),
                "actions": len(preview.actions),
                "blocked": sum(bool(d.plan.blocked) for d in preview.devices),
            }
        )
        del preview
    engine.dispose()
    return {
        "seconds": statistics.median(timings),
        "spread": (min(timings), max(timings)),
        "counts": dict(counts),
        "peak_mb": peak_mb(),
    }


def in_child(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run `function(*args)` in a fresh (spawned) process, so its peak RSS is its own."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result: dict[str, Any] = pool.apply(function, args)
    return result


# -- report --------------------------------------------------------------------------------------
def rate(devices: int, seconds: float) -> str:
    return f"{devices / seconds:,.0f} devices/s"


def markdown(devices: int, pure: dict[str, Any], preview: dict[str, Any], load: float) -> str:
    rows = []
    for label, figures in pure.items():
        counts = figures["counts"]
        verdicts = ", ".join(
            f"{counts.get(v, 0):,} {v.replace('_', ' ')}"
            for v in ("in_curfew", "out_of_curfew", "exempt", "not_home_use")
            if counts.get(v)
        )
        low, high = figures["spread"]
        rows.append(
            (
                f"decide+plan, {label}",
                f"**{rate(devices, figures['seconds'])}** ({figures['seconds']:.2f} s; "
                f"{low:.2f}-{high:.2f} s), {counts.get('actions', 0)} actions, "
                f"{counts.get('blocked', 0):,} blocked; {verdicts}",
            )
        )
        rows.append(
            (
                f"peak RSS, decide+plan process, {label}",
                f"{figures['peak_mb']:.0f} MB ({figures['inputs_mb']:.0f} MB after building "
                "the facts and observations in memory)",
            )
        )
    for label, figures in preview.items():
        counts = figures["counts"]
        low, high = figures["spread"]
        rows.append(
            (
                f"`Reconciler.preview`, SQLite, {label}",
                f"**{rate(devices, figures['seconds'])}** ({figures['seconds']:.2f} s; "
                f"{low:.2f}-{high:.2f} s), {counts['actions']} actions, "
                f"{counts['blocked']:,} blocked",
            )
        )
        rows.append((f"peak RSS, preview process, {label}", f"{figures['peak_mb']:.0f} MB"))
    header = [
        "# Steady state: decide and plan every iPad with nothing to change",
        "",
        f"{devices:,} iPads on one Jamf Pro instance, one pupil each (mix in `bench/plan_100000.py`"
        f"), default policy, one core, {os.cpu_count()} CPUs (1-minute load average {load:.1f} "
        "before the runs). Median of the timed runs, each figure in its own process. Produced by "
        "`bench/plan_100000.py`.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    return "\n".join(header + [f"| {name} | {value} |" for name, value in rows] + [""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-preview", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    pure = {
        label: in_child(pure_child, args.devices, at, args.runs) for label, at in INSTANTS.items()
    }
    for label, figures in pure.items():
        print(label, figures)
    preview: dict[str, Any] = {}
    if not args.skip_preview:
        with tempfile.TemporaryDirectory() as folder:
            path = str(Path(folder) / "bench.sqlite")
            for n, (label, at) in enumerate(INSTANTS.items()):
                if n == 0:
                    seeded = in_child(seed_child, path, args.devices, at)
                    print(f"seeded in {seeded['seconds']:.1f} s")
                else:
                    in_child(reobserve_child, path, args.devices, at)
                preview[label] = in_child(preview_child, path, at, args.runs)
                print(label, preview[label])
    report = markdown(args.devices, pure, preview, load)
    if not args.skip_preview:
        RESULTS.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
