"""A running bridge for API tests: the real app (lifespan, service, store) on a fake clock, its
MDM the Jamf Pro mock served over ASGI, a school with classes and pupils, and one API token per
role (plus an expired and a revoked one).

`open_bridge(database_url, register=True)` registers the mock Jamf Pro and imports the roster
first; with `register=False` the school exists but has no MDM connection and no iPads (the
journey tests register it through the API). The fleet, the mock and the service share the clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, select

from mdm_bridge.api.app import create_app
from mdm_bridge.clock import FakeClock
from mdm_bridge.connections import add_instance
from mdm_bridge.model import Vendor
from mdm_bridge.reconcile.facts import DEVICES
from mdm_bridge.service import Service
from mdm_bridge.settings import Settings
from mdm_bridge.store import access, migrate
from mdm_bridge.store.engine import create_database_engine
from mdm_bridge.store.roster import import_roster
from mdm_bridge.store.tables import School
from mocks.fleet import Fleet
from mocks.jamf_pro.app import build_jamf_pro_app
from policies import Role
from tests.conftest import SECRET_KEY
from tests.reconcile.school import ACADEMIC_YEAR, EVENING, PRO_URL, exact_fleet, roster_from

SCHOOLS = School.__table__  # type: ignore[attr-defined]
MOCK_CLIENT_ID = "mdm-bridge"
MOCK_CLIENT_SECRET = "mdm-bridge-secret"


@dataclass(kw_only=True)
class Bridge:
    app: FastAPI
    clock: FakeClock
    fleet: Fleet
    mock: FastAPI
    engine: Engine
    school_id: int
    teacher_classes: tuple[str, ...] = ()
    tokens: dict[str, str] = field(default_factory=dict)  # name -> token text
    device_ids: dict[str, int] = field(default_factory=dict)  # serial -> devices.id

    __test__ = False

    @property
    def service(self) -> Service:
        service: Service = self.app.state.service
        return service

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://bridge",
            headers=headers,
        )

    def as_(self, name: str) -> httpx.AsyncClient:
        """A client holding the token called `name` (a role's value, 'expired' or 'revoked')."""
        return self.client(self.tokens[name])

    def let_time_pass(self, seconds: float, step: float = 60.0) -> None:
        until = self.clock.now() + timedelta(seconds=seconds)
        while self.clock.now() < until:
            self.clock.advance(min(step, (until - self.clock.now()).total_seconds()))
            self.fleet.tick()

    def pupils_in(self, class_name: str) -> list[str]:
        return sorted({d.pupil_ref for d in self.fleet.devices if d.class_name == class_name})

    def pupils_outside(self, classes: tuple[str, ...]) -> list[str]:
        return sorted({d.pupil_ref for d in self.fleet.devices if d.class_name not in classes})

    def new_token(self, user: str, role: Role, classes: tuple[str, ...] = ()) -> str:
        with self.engine.begin() as connection:
            text, _ = access.create_token(
                connection,
                user=user,
                role=role,
                classes=classes,
                expires_at=self.clock.now() + timedelta(days=90),
                now=self.clock.now(),
                created_by="test",
            )
        return text


def mock_client_factory(mock: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=mock))


async def _no_wait(_seconds: float) -> None:
    return None


def _tokens(bridge: Bridge) -> None:
    now = bridge.clock.now()
    users = {
        Role.TECHNICIAN: "t.tech",
        Role.TEACHER: "a.teacher",
        Role.SENIOR_LEADER: "h.head",
        Role.DSL: "d.dsl",
        Role.AUDITOR: "g.governor",
        Role.SERVICE: "prometheus",
    }
    for role, user in users.items():
        classes = bridge.teacher_classes if role is Role.TEACHER else ()
        bridge.tokens[role.value] = bridge.new_token(user, role, classes)
    with bridge.engine.begin() as connection:
        expired, info = access.create_token(
            connection,
            user="x.expired",
            role=Role.SENIOR_LEADER,
            expires_at=now - timedelta(minutes=1),
            now=now - timedelta(days=1),
            created_by="test",
        )
        bridge.tokens["expired"] = expired
        revoked, info = access.create_token(
            connection,
            user="x.revoked",
            role=Role.SENIOR_LEADER,
            expires_at=now + timedelta(days=30),
            now=now,
            created_by="test",
        )
        access.revoke_token(connection, token_id=info.id, revoked_by="test", now=now)
        bridge.tokens["revoked"] = revoked


@asynccontextmanager
async def open_bridge(
    database_url: str,
    *,
    devices: int = 24,
    register: bool = True,
    start: datetime = EVENING,
    **setting_overrides: object,
) -> AsyncIterator[Bridge]:
    clock = FakeClock(start)
    fleet = Fleet.build(exact_fleet(devices), clock)
    mock = build_jamf_pro_app(fleet, sleep=_no_wait)
    settings = Settings(
        database_url=database_url,
        secret_key=SecretStr(SECRET_KEY),
        scheduler=False,
        **setting_overrides,  # type: ignore[arg-type]
    )
    engine = create_database_engine(database_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        school_id = connection.execute(
            SCHOOLS.insert()
            .values(name="Oak Academy", timezone="Europe/London", created_at=clock.now())
            .returning(SCHOOLS.c.id)
        ).scalar_one()
        if register:
            add_instance(
                connection,
                secret_key=SECRET_KEY,
                school_id=school_id,
                name="jamf-pro",
                vendor=Vendor.JAMF_PRO,
                base_url=PRO_URL,
                options={"client_id": MOCK_CLIENT_ID},
                secrets={"client_secret": MOCK_CLIENT_SECRET},
                now=clock.now(),
            )
    app = create_app(settings, clock=clock, client_factory=lambda: mock_client_factory(mock))
    first_class = sorted({d.class_name for d in fleet.devices})[0]
    bridge = Bridge(
        app=app,
        clock=clock,
        fleet=fleet,
        mock=mock,
        engine=engine,
        school_id=int(school_id),
        teacher_classes=(first_class,),
    )
    _tokens(bridge)
    try:
        async with app.router.lifespan_context(app):
            if register:
                await bridge.service.reconciling.sync_inventory()  # type: ignore[union-attr]
                import_school_roster(bridge)
            yield bridge
            await bridge.service.settle()
    finally:
        engine.dispose()


def import_school_roster(bridge: Bridge) -> None:
    """The mock's pupils, classes and iPads, as the office would import them."""
    entries, _homes = roster_from(bridge.fleet)
    with bridge.engine.begin() as connection:
        import_roster(
            connection,
            school_id=bridge.school_id,
            entries=entries,
            academic_year=ACADEMIC_YEAR,
            recorded_by="office",
            now=bridge.clock.now(),
        )
        bridge.device_ids = dict(
            connection.execute(select(DEVICES.c.serial_number, DEVICES.c.id)).all()
        )
