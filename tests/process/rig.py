"""The rig for the process tests: a mock Jamf Pro process, a seeded database, a curfew in force
now, and `mdm-bridge serve` processes pointed at them.

`start_mock` runs `mdm-bridge mock` (Jamf Pro only, a predictable fleet: every iPad supervised,
online, not passcode-locked). `seed_school` fills the database the way a technician would: the
school, the MDM connection (through `add_instance`, credentials sealed), the inventory synced
from the mock over HTTP and a roster built from the mock's pupils with the same spread of
home-use and school-only iPads as `tests.reconcile.school`. `curfew_now_policy` writes a policy
folder whose curfew started an hour ago, whatever the time the test runs.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, insert, select

from mdm_bridge.clock import SystemClock
from mdm_bridge.connections import add_instance, build_connector, load_instances, new_client
from mdm_bridge.model import Vendor
from mdm_bridge.reconcile.facts import DEVICES, PUPILS
from mdm_bridge.reconcile.inventory import sync_inventory
from mdm_bridge.reconcile.outbox import TABLE as OUTBOX
from mdm_bridge.store import migrate
from mdm_bridge.store.records import BanRow
from mdm_bridge.store.roster import RosterEntry, import_roster
from mdm_bridge.store.tables import School
from policies import DEFAULT_POLICY_DIR, load_policy
from tests.conftest import SECRET_KEY
from tests.process.procs import Proc, Processes, clean_environment, free_port, wait_for_url
from tests.reconcile.school import ACADEMIC_YEAR, AGREED_ON, Home, home_kind

SCHOOLS = School.__table__  # type: ignore[attr-defined]
BANS = BanRow.__table__  # type: ignore[attr-defined]
ZONE = "Europe/London"
LOCK_COMMAND = "EnableLostMode"
COMMANDS_PATH = "/api/v2/mdm/commands"


def curfew_now_policy(directory: Path, now: datetime) -> Path:
    """The bundled policy with a curfew from an hour before `now` to ten hours after it."""
    directory.mkdir(parents=True, exist_ok=True)
    local = now.astimezone(ZoneInfo(ZONE))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=10)).strftime("%H:%M")
    (directory / "curfew.yaml").write_text(
        f'name: test night\ntimezone: {ZONE}\nwindows:\n  - start: "{start}"\n    end: "{end}"\n'
    )
    text = (DEFAULT_POLICY_DIR / "policy.yaml").read_text()
    assert "\nschedule: default\n" in text
    (directory / "policy.yaml").write_text(
        text.replace("\nschedule: default\n", "\nschedule: curfew.yaml\n")
    )
    for extra in DEFAULT_POLICY_DIR.iterdir():
        if extra.name not in ("policy.yaml", "__pycache__") and extra.is_file():
            shutil.copy(extra, directory / extra.name)
    policy = load_policy(directory)
    assert policy.schedule.period_at(now) is not None, "the test curfew must be in force now"
    return directory


@dataclass(kw_only=True)
class Mock:
    proc: Proc
    url: str

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(self.url + path, params=params, timeout=10.0)
        response.raise_for_status()
        return response.json()

    def devices(self) -> list[dict[str, Any]]:
        return list(self.get("/_mock/devices", limit=5000)["devices"])

    def lock_posts(self) -> list[dict[str, Any]]:
        """Lost Mode POSTs the mock has answered so far (each carries several devices)."""
        requests = self.get("/_mock/requests", limit=20000)["requests"]
        return [r for r in requests if r["method"] == "POST" and r["path"] == COMMANDS_PATH]

    def set_latency(self, milliseconds: float) -> None:
        response = httpx.patch(
            self.url + "/_mock/faults", json={"latencyMs": milliseconds}, timeout=10.0
        )
        response.raise_for_status()

    def check_in_pending(self) -> int:
        """Let every iPad with a queued command check in now (instead of its push delay)."""
        waiting = self.get("/_mock/devices", limit=5000, hasPending="true")["devices"]
        for device in waiting:
            url = f"{self.url}/_mock/devices/{device['serialNumber']}/check-in"
            httpx.post(url, timeout=10.0).raise_for_status()
        return len(waiting)

    def commands(self, serial: str) -> list[dict[str, Any]]:
        return list(self.get("/_mock/commands", device=serial)["commands"])

    async def lock_commands_by_serial(self) -> dict[str, int]:
        """How many EnableLostMode commands each iPad was ever sent, from the mock's history."""
        serials = [device["serialNumber"] for device in self.devices()]
        limit = asyncio.Semaphore(20)

        async def count(client: httpx.AsyncClient, serial: str) -> int:
            async with limit:
                response = await client.get("/_mock/commands", params={"device": serial})
            response.raise_for_status()
            history = response.json()["commands"]
            return sum(1 for c in history if c["requestType"] == LOCK_COMMAND)

        async with httpx.AsyncClient(base_url=self.url, timeout=10.0) as client:
            counts = await asyncio.gather(*(count(client, serial) for serial in serials))
        return dict(zip(serials, counts, strict=True))


def start_mock(processes: Processes, *, devices: int, latency_ms: float) -> Mock:
    port = free_port()
    proc = processes.start(
        "mock",
        [
            "mock",
            "--vendor=jamf-pro",
            f"--port={port}",
            f"--devices={devices}",
            "--seed=6",
            f"--latency-ms={latency_ms}",
            "--offline-share=0",
            "--locked-share=0",
            "--unsupervised-share=0",
        ],
        clean_environment(),
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_url(url + "/_mock", proc)
    return Mock(proc=proc, url=url)


@dataclass(kw_only=True)
class SeededSchool:
    engine: Engine
    school_id: int
    instance_id: int
    homes: dict[str, Home] = field(default_factory=dict)  # serial -> roster kind
    pupil_of: dict[str, str] = field(default_factory=dict)  # serial -> pupil reference
    pupil_ids: dict[str, int] = field(default_factory=dict)  # reference -> pupils.id

    def serials(self, kind: Home) -> set[str]:
        return {serial for serial, home in self.homes.items() if home is kind}

    def outbox_rows(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(OUTBOX)))

    def ban(self, serial: str, *, now: datetime, hours: float = 2.0) -> int:
        """An approved level-3 ban (the iPad is taken away: locked) for the pupil of `serial`."""
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    insert(BANS)
                    .values(
                        pupil_id=self.pupil_ids[self.pupil_of[serial]],
                        level=3,
                        reason="a bullying message",
                        category="bullying",
                        issued_by="teacher",
                        issued_at=now,
                        starts_at=now,
                        ends_at=now + timedelta(hours=hours),
                        approved_by="head",
                        approved_at=now,
                    )
                    .returning(BANS.c.id)
                ).scalar_one()
            )


async def seed_school(
    engine: Engine, mock: Mock, *, command_batch_size: int, now: datetime
) -> SeededSchool:
    """Migrate, register the school and its Jamf Pro, sync the inventory, import the roster."""
    migrate.upgrade(engine)
    policy = load_policy(DEFAULT_POLICY_DIR)
    with engine.begin() as connection:
        school_id = int(
            connection.execute(
                insert(SCHOOLS)
                .values(name="Oak Academy", timezone=ZONE, created_at=now)
                .returning(SCHOOLS.c.id)
            ).scalar_one()
        )
        instance_id = add_instance(
            connection,
            secret_key=SECRET_KEY,
            school_id=school_id,
            name="jamf-pro",
            vendor=Vendor.JAMF_PRO,
            base_url=mock.url,
            # Small Lost Mode batches: the fan-out takes many requests, so it can be interrupted.
            options={"client_id": "mdm-bridge", "command_batch_size": str(command_batch_size)},
            secrets={"client_secret": "mdm-bridge-secret"},
            now=now,
        )
        (stored,) = load_instances(connection, secret_key=SECRET_KEY)
    async with new_client() as client:
        connector = build_connector(
            stored,
            client=client,
            clock=SystemClock(),
            identifier_prefix=policy.identifier_prefix + ".",
        )
        listed = await sync_inventory(engine, instance_id, connector, now=now)
        await connector.aclose()
    truth = mock.devices()
    assert listed == len(truth)
    seeded = SeededSchool(engine=engine, school_id=school_id, instance_id=instance_id)
    entries = []
    for index, device in enumerate(sorted(truth, key=lambda d: d["deviceId"])):
        kind = home_kind(index)
        serial, pupil = device["serialNumber"], device["pupil"]
        seeded.homes[serial] = kind
        seeded.pupil_of[serial] = pupil["ref"]
        entries.append(
            RosterEntry(
                serial_number=serial,
                pupil_reference=pupil["ref"],
                pupil_name=pupil["name"],
                year_group=int(pupil["yearGroup"].split()[-1]),
                classes=(pupil["className"],),
                takes_home=kind is not Home.SCHOOL_ONLY,
                parent_meeting_on=AGREED_ON if kind is not Home.SCHOOL_ONLY else None,
                declaration_signed_on=AGREED_ON if kind is Home.HOME_USE else None,
            )
        )
    with engine.begin() as connection:
        report = import_roster(
            connection,
            school_id=school_id,
            entries=entries,
            academic_year=ACADEMIC_YEAR,
            recorded_by="office",
            now=now,
        )
        assert report.devices_assigned == len(entries), report
        seeded.pupil_ids = dict(connection.execute(select(PUPILS.c.reference, PUPILS.c.id)).all())
        assert len(list(connection.execute(select(DEVICES.c.id)))) == len(entries)
    return seeded


@dataclass(kw_only=True)
class ServiceSettings:
    database_url: str
    policy_dir: Path
    drift_seconds: int = 10
    lease_seconds: int = 5
    outbox_lease_seconds: int = 5


def launch_service(processes: Processes, name: str, settings: ServiceSettings) -> tuple[Proc, str]:
    """Start `mdm-bridge serve` without waiting for it; answers the process and its URL."""
    port = free_port()
    environment = clean_environment(
        MDM_BRIDGE_DATABASE_URL=settings.database_url,
        MDM_BRIDGE_SECRET_KEY=SECRET_KEY,
        MDM_BRIDGE_POLICY_DIR=str(settings.policy_dir),
        MDM_BRIDGE_DRIFT_INTERVAL_SECONDS=str(settings.drift_seconds),
        MDM_BRIDGE_LEASE_SECONDS=str(settings.lease_seconds),
        MDM_BRIDGE_OUTBOX_LEASE_SECONDS=str(settings.outbox_lease_seconds),
        MDM_BRIDGE_PORT=str(port),
        MDM_BRIDGE_LOG_LEVEL="INFO",
    )
    return processes.start(name, ["serve"], environment), f"http://127.0.0.1:{port}"


def start_service(processes: Processes, name: str, settings: ServiceSettings) -> tuple[Proc, str]:
    """Start `mdm-bridge serve` and wait until it is ready."""
    proc, url = launch_service(processes, name, settings)
    wait_for_url(url + "/readyz", proc)
    return proc, url


def now_utc() -> datetime:
    return SystemClock().now().astimezone(UTC)
