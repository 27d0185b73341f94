"""The demo school's night, played on the mock MDM with a simulated clock (`make run`).

The service and the mock share one clock that the player moves through a school night:
19:50 restriction profiles go on, 20:00 the home iPads lock, 21:15 a teacher bans a pupil,
07:00 everything unlocks. At each step the player reconciles exactly as the scheduler would
at that edge, lets the simulated iPads check in, and prints what the service's status and the
mock's ground truth say. Afterwards the clock stays at the morning and the servers keep
running, so `/status`, `/docs` and the mock's `/_mock` pages can be explored.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import Engine, select

from mdm_bridge.clock import FakeClock
from mdm_bridge.connections import add_instance
from mdm_bridge.model import Vendor
from mdm_bridge.service import Service
from mdm_bridge.store import access, bans
from mdm_bridge.store.roster import RosterEntry, import_roster
from mdm_bridge.store.tables import School
from mocks.fleet import Fleet
from mocks.truth import device_truth
from policies import Role, academic_year_of

SCHOOLS = School.__table__  # type: ignore[attr-defined]
LONDON = ZoneInfo("Europe/London")


def demo_start(today: date) -> datetime:
    """19:50 school time on `today`: ten minutes before the curfew."""
    return datetime.combine(today, time(19, 50), tzinfo=LONDON).astimezone(ZoneInfo("UTC"))


def roster_from(fleet: Fleet) -> list[RosterEntry]:
    """The simulated school's pupils: most iPads go home with both agreement parts; every
    tenth stays in school and every twentieth pupil's declaration is still missing."""
    entries = []
    for index, device in enumerate(fleet.devices):
        year = re.search(r"\d+", device.year_group or device.class_name or "")
        takes_home = index % 10 != 9
        signed = index % 20 != 7
        entries.append(
            RosterEntry(
                serial_number=device.serial,
                pupil_reference=device.pupil_ref,
                pupil_name=device.pupil_name,
                year_group=int(year.group()) if year else None,
                classes=(device.class_name,) if device.class_name else (),
                takes_home=takes_home,
                parent_meeting_on=date(2026, 9, 10),
                declaration_signed_on=date(2026, 9, 12) if signed else None,
            )
        )
    return entries


# One demo person per role; the teacher teaches the demo school's first class.
DEMO_USERS = {
    Role.TECHNICIAN: "demo.technician",
    Role.TEACHER: "demo.teacher",
    Role.SENIOR_LEADER: "demo.head",
    Role.DSL: "demo.dsl",
    Role.AUDITOR: "demo.governor",
    Role.SERVICE: "demo.prometheus",
}


def demo_tokens(engine: Engine, *, fleet: Fleet, now: datetime) -> dict[Role, str]:
    """An API token per role for exploring the API (valid a day; the demo database is fresh on
    every start, so they never outlive it)."""
    first_class = sorted({d.class_name for d in fleet.devices if d.class_name})[:1]
    tokens = {}
    with engine.begin() as connection:
        for role, user in DEMO_USERS.items():
            tokens[role], _ = access.create_token(
                connection,
                user=user,
                role=role,
                classes=tuple(first_class) if role is Role.TEACHER else (),
                expires_at=now + timedelta(days=1),
                now=now,
                created_by="demo",
                description="demo token",
            )
    return tokens


def prepare(engine: Engine, *, secret_key: str, jamf_url: str, fleet: Fleet, now: datetime) -> None:
    """A fresh demo school: its Jamf Pro connection (the mock) and its roster."""
    with engine.begin() as connection:
        school_id = connection.execute(
            SCHOOLS.insert()
            .values(name="Demo Primary", timezone="Europe/London", created_at=now)
            .returning(SCHOOLS.c.id)
        ).scalar_one()
        add_instance(
            connection,
            secret_key=secret_key,
            school_id=school_id,
            name="jamf",
            vendor=Vendor.JAMF_PRO,
            base_url=jamf_url,
            options={"client_id": "mdm-bridge"},
            secrets={"client_secret": "mdm-bridge-secret"},
            now=now,
        )


@dataclass(kw_only=True)
class NightPlayer:
    app: FastAPI
    clock: FakeClock
    fleet: Fleet
    say: Callable[[str], None]
    pace: float = 1.0  # real seconds between steps

    @property
    def service(self) -> Service:
        service: Service = self.app.state.service
        return service

    def _local(self) -> str:
        return f"{self.clock.now().astimezone(LONDON):%H:%M}"

    async def _pass(self, minutes: int, step: int = 1) -> None:
        """Let simulated minutes pass; the iPads check in on their own rhythm."""
        for _ in range(0, minutes, step):
            self.clock.advance(timedelta(minutes=step))
            self.fleet.tick()
            await asyncio.sleep(self.pace / 10)

    async def _reconcile(self, why: str) -> None:
        assert self.service.reconciling is not None
        summary = await self.service.reconciling.reconcile(why)
        self.say(
            f"{self._local()}  {why}: {summary.queued} changes queued, {summary.sent.sent} sent, "
            f"{summary.converged} of {summary.devices} iPads already right"
        )

    def _truth(self) -> str:
        locked = sum(1 for d in self.fleet.devices if device_truth(self.fleet, d)["lostMode"])
        return f"{locked} of {len(self.fleet.devices)} iPads in Lost Mode (mock ground truth)"

    async def _night_report(self) -> None:
        figures = await self.service.status()
        night = figures["curfew_night"] or {}
        outcomes = ", ".join(
            f"{count} {outcome.replace('_', ' ')}"
            for outcome, count in night.get("outcomes", {}).items()
        )
        self.say(f"{self._local()}  tonight so far: {outcomes or 'nothing judged yet'}")
        for reason, count in night.get("never_because", {}).items():
            self.say(f"        not locked: {count} ({reason})")

    async def play(self) -> None:
        assert self.service.reconciling is not None
        reconciling = self.service.reconciling
        now = self.clock.now()
        self.say("")
        self.say("Playing a school night on the mock (simulated time, Europe/London):")
        listed = await reconciling.sync_inventory()
        entries = roster_from(self.fleet)
        with reconciling.database.begin() as connection:
            report = import_roster(
                connection,
                school_id=_school_id(reconciling.database),
                entries=entries,
                academic_year=academic_year_of(now.astimezone(LONDON).date()),
                recorded_by="demo",
                now=now,
            )
        self.say(
            f"{self._local()}  inventory: {listed} iPads; roster: {report.pupils} pupils "
            f"({sum(1 for e in entries if e.takes_home)} iPads go home)"
        )
        await self._reconcile("restriction profiles by key stage")
        await self._pass(10)
        await self._reconcile("curfew starts")
        await self._pass(5)
        await self._reconcile("drift check")
        self.say(f"        {self._truth()}")
        await self._night_report()
        await asyncio.sleep(self.pace)
        await self._pass(70, step=5)
        pupil = self.fleet.devices[0].pupil_ref
        policy = reconciling.current_policy()
        with reconciling.database.begin() as connection:
            view = bans.issue(
                connection,
                ladder=policy.ladder,
                pupil=pupil,
                level=1,
                reason="searched for games in a maths lesson",
                category="off-task browsing",
                issued_by="Ms Patel (class teacher)",
                now=self.clock.now(),
            )
            device_ids = bans.devices_of(connection, pupil)
        self.say(
            f"{self._local()}  a teacher bans pupil {pupil} at level 1 until "
            f"{view.ban.ends_at.astimezone(LONDON):%a %H:%M}: {view.status.value}"
        )
        summary = await reconciling.reconcile(f"ban for {pupil}", device_ids)
        self.say(f"        sent at once: {summary.sent.sent} change(s) for that pupil's iPad")
        await asyncio.sleep(self.pace)
        await self._pass(9 * 60 + 45, step=15)
        await self._reconcile("curfew ends")
        await self._pass(10)
        await self._reconcile("drift check")
        self.say(f"        {self._truth()}")
        self.say("Night played. The clock stays at the morning; explore /status and /_mock.")


def _school_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(SCHOOLS.c.id).limit(1)).scalar_one())
