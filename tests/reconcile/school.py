"""A whole test school for end-to-end reconcile tests: mock MDM, real connector, database, roster.

`build_school` wires one `FakeClock` through everything: the simulated fleet and its check-ins,
the mock MDM (served over ASGI), the real connector (whose sleeps move the clock) and the
`Reconciler`. The database is migrated, holds the school and its MDM instance, the inventory
synced from the mock, and a roster made from the mock's pupils: most iPads go home with a
complete agreement, some stay in school, some have only the parent meeting on record.
`School.let_time_pass` moves the clock in steps and lets due iPads check in.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlmodel import Session

from connectors.base import Connector, ConnectorConfig
from connectors.jamf_pro import create_connector as create_jamf_pro
from connectors.jamf_school import create_connector as create_jamf_school
from mdm_bridge.clock import FakeClock
from mdm_bridge.reconcile.facts import DEVICES, PUPILS
from mdm_bridge.reconcile.inventory import sync_inventory
from mdm_bridge.reconcile.run import Reconciler
from mdm_bridge.store import migrate
from mdm_bridge.store.engine import create_database_engine
from mdm_bridge.store.roster import RosterEntry, import_roster
from mdm_bridge.store.tables import MdmInstance, School
from mocks import jamf_school
from mocks.device import Device
from mocks.fleet import Fleet
from mocks.generate import FleetConfig
from mocks.jamf_pro.app import build_jamf_pro_app
from mocks.jamf_school.fixtures import CURFEW_GROUP, SAFARI_BAN_GROUP
from mocks.jamf_school.state import DEFAULT_API_KEY, DEFAULT_NETWORK_ID
from policies import DEFAULT_POLICY_DIR, Policy, load_policy

LONDON_WINTER = timedelta(0)  # Europe/London is UTC in November
# Monday 23 November 2026, 19:00 in London: an hour before the curfew starts.
EVENING = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
TONIGHT_20 = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
MORNING_07 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
AGREED_ON = date(2026, 9, 10)
ACADEMIC_YEAR = "2026-27"
PRO_URL = "https://school.jamfcloud.com"
SCHOOL_URL = "https://school.jamfcloud.com/api"


class Home(StrEnum):
    """What the roster says about an iPad going home."""

    HOME_USE = "home_use"  # takes home, both parts of the agreement on record
    SCHOOL_ONLY = "school_only"  # never leaves school
    MEETING_ONLY = "meeting_only"  # takes home, but the declaration was never signed


def home_kind(index: int) -> Home:
    """Deterministic spread: one in six school-only, one in eight meeting-only, rest home-use."""
    if index % 6 == 5:
        return Home.SCHOOL_ONLY
    if index % 8 == 3:
        return Home.MEETING_ONLY
    return Home.HOME_USE


def exact_fleet(devices: int, seed: int = 23) -> FleetConfig:
    """A fleet with no surprises: all supervised, online, unlocked, checking in every 2-10 min."""
    return FleetConfig(
        devices=devices,
        seed=seed,
        unsupervised_share=0.0,
        offline_share=0.0,
        locked_share=0.0,
        no_passcode_share=0.0,
        checkin_interval_seconds=(120.0, 600.0),
        unenrolled_devices=0,
    )


class Sleeper:
    """The connector's sleep: moves the shared fake clock instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.clock.advance(seconds)


@dataclass(kw_only=True)
class TestSchool:
    clock: FakeClock
    fleet: Fleet
    app: FastAPI
    connector: Connector
    engine: Engine
    policy: Policy
    reconciler: Reconciler
    school_id: int
    instance_id: int
    homes: dict[str, Home] = field(default_factory=dict)  # serial -> roster kind
    device_ids: dict[str, int] = field(default_factory=dict)  # serial -> devices.id
    pupil_ids: dict[str, int] = field(default_factory=dict)  # pupil reference -> pupils.id

    __test__ = False  # not a pytest class

    # -- time ----------------------------------------------------------------------------------
    def let_time_pass(self, until: datetime, step: float = 60.0) -> None:
        """Move the clock to `until` in steps, letting due iPads check in at each one."""
        while self.clock.now() < until:
            remaining = (until - self.clock.now()).total_seconds()
            self.clock.advance(min(step, remaining))
            self.fleet.tick()

    def settle(self, minutes: float = 12.0) -> None:
        """Long enough for every online iPad to check in at least once (rhythm <= 10 min)."""
        self.let_time_pass(self.clock.now() + timedelta(minutes=minutes))

    async def reconcile(self, trigger: str = "test") -> Any:
        return await self.reconciler.reconcile(trigger=trigger)

    # -- the fleet, by roster kind ---------------------------------------------------------------
    def devices(self, kind: Home | None = None) -> list[Device]:
        return [d for d in self.fleet.devices if kind is None or self.homes[d.serial] is kind]

    def device(self, serial: str) -> Device:
        found = self.fleet.device_by_serial(serial)
        assert found is not None, serial
        return found

    def installed(self, device: Device) -> set[str]:
        return {p.identifier for p in (device.installed or {}).values()}

    def restriction_identifier(self, device: Device) -> str:
        year = int(device.year_group.split()[-1])
        name = "primary-lower" if year <= 2 else "primary-upper"
        return f"{self.policy.identifier_prefix}.restrictions.{name}"


def roster_from(fleet: Fleet) -> tuple[list[RosterEntry], dict[str, Home]]:
    entries: list[RosterEntry] = []
    homes: dict[str, Home] = {}
    for index, device in enumerate(fleet.devices):
        kind = home_kind(index)
        homes[device.serial] = kind
        entries.append(
            RosterEntry(
                serial_number=device.serial,
                pupil_reference=device.pupil_ref,
                pupil_name=device.pupil_name,
                year_group=int(device.year_group.split()[-1]),
                classes=(device.class_name,),
                takes_home=kind is not Home.SCHOOL_ONLY,
                parent_meeting_on=AGREED_ON if kind is not Home.SCHOOL_ONLY else None,
                declaration_signed_on=AGREED_ON if kind is Home.HOME_USE else None,
            )
        )
    return entries, homes


def jamf_school_profile_groups(policy: Policy) -> dict[str, str]:
    """How a technician maps the bridge's profiles onto the console groups of the mock."""
    prefix = policy.identifier_prefix
    return {
        f"{prefix}.lock.curfew": CURFEW_GROUP,
        f"{prefix}.restrictions.primary-lower": "KS1 pupils",
        f"{prefix}.restrictions.primary-upper": "KS2 pupils",
        f"{prefix}.ban.level1": SAFARI_BAN_GROUP,
    }


def _connector(
    vendor: str, policy: Policy, client: httpx.AsyncClient, clock: FakeClock
) -> Connector:
    sleep = Sleeper(clock)
    if vendor == "jamf_pro":
        config = ConnectorConfig(
            name="jamf-pro",
            base_url=PRO_URL,
            options={
                "client_id": "mdm-bridge",
                "identifier_prefix": policy.identifier_prefix + ".",
            },
            secrets={"client_secret": "mdm-bridge-secret"},
        )
        return create_jamf_pro(config, client=client, clock=clock, sleep=sleep)
    config = ConnectorConfig(
        name="jamf-school",
        base_url=SCHOOL_URL,
        options={
            "network_id": DEFAULT_NETWORK_ID,
            "profile_groups": json.dumps(jamf_school_profile_groups(policy)),
        },
        secrets={"api_key": DEFAULT_API_KEY},
    )
    return create_jamf_school(config, client=client, clock=clock, sleep=sleep)


def _app(vendor: str, fleet: Fleet, clock: FakeClock) -> FastAPI:
    if vendor == "jamf_pro":

        async def no_wait(seconds: float) -> None:
            return None

        return build_jamf_pro_app(fleet, sleep=no_wait)
    return jamf_school.create_app(fleet, clock, jamf_school.JamfSchoolOptions())


def _register(engine: Engine, vendor: str, name: str, base_url: str) -> tuple[int, int]:
    with Session(engine) as session:
        school = School(name="Oak Academy", timezone="Europe/London", created_at=EVENING)
        session.add(school)
        session.flush()
        assert school.id is not None
        instance = MdmInstance(
            school_id=school.id, name=name, vendor=vendor, base_url=base_url, created_at=EVENING
        )
        session.add(instance)
        session.commit()
        assert instance.id is not None
        return school.id, instance.id


@asynccontextmanager
async def build_school(
    database_url: str,
    *,
    devices: int = 48,
    vendor: str = "jamf_pro",
    start: datetime = EVENING,
    fleet_config: FleetConfig | None = None,
) -> AsyncIterator[TestSchool]:
    """A school at `start` with its inventory synced and its roster imported (no run yet)."""
    clock = FakeClock(start)
    fleet = Fleet.build(fleet_config or exact_fleet(devices), clock)
    policy = load_policy(DEFAULT_POLICY_DIR)
    app = _app(vendor, fleet, clock)
    engine = create_database_engine(database_url)
    migrate.upgrade(engine)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport) as client:
            connector = _connector(vendor, policy, client, clock)
            base_url = PRO_URL if vendor == "jamf_pro" else SCHOOL_URL
            school_id, instance_id = _register(engine, vendor, connector.name, base_url)
            await sync_inventory(engine, instance_id, connector, now=clock.now())
            entries, homes = roster_from(fleet)
            with engine.begin() as connection:
                report = import_roster(
                    connection,
                    school_id=school_id,
                    entries=entries,
                    academic_year=ACADEMIC_YEAR,
                    recorded_by="office",
                    now=clock.now(),
                )
                assert report.devices_assigned == len(entries), report
                serials = select(DEVICES.c.serial_number, DEVICES.c.id)
                device_ids = dict(connection.execute(serials).all())
                references = select(PUPILS.c.reference, PUPILS.c.id)
                pupil_ids = dict(connection.execute(references).all())
            reconciler = Reconciler(
                database=engine,
                clock=clock,
                policy=policy,
                connectors={instance_id: connector},
                worker="w1",
            )
            yield TestSchool(
                clock=clock,
                fleet=fleet,
                app=app,
                connector=connector,
                engine=engine,
                policy=policy,
                reconciler=reconciler,
                school_id=school_id,
                instance_id=instance_id,
                homes=homes,
                device_ids=device_ids,
                pupil_ids=pupil_ids,
            )
            await connector.aclose()
    finally:
        engine.dispose()
