"""The SQL behind the devices API: a page of iPads with their pupil, last observation and last
night's curfew outcome, and one iPad's history.

Called by `mdm_bridge.api.devices` (in a worker thread); what an iPad *should* be, and whether
it has drifted, comes from the reconciler's preview, not from here. A page is one query (plus
one for the class names of its pupils), whatever the size of the fleet: every filter is a
WHERE clause, paging is keyset (`id > after`), and nothing is read for iPads off the page.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, func, select

from mdm_bridge.store.engine_tables import CurfewNight, ObservationRow, OutboxRow
from mdm_bridge.store.errors import NotFound
from mdm_bridge.store.records import BanRow, DeviceHoldRow, HomeUseAgreementRow
from mdm_bridge.store.tables import Device, MdmInstance, Pupil, PupilGroup, SchoolGroup

DEVICES = Device.__table__  # type: ignore[attr-defined]
INSTANCES = MdmInstance.__table__  # type: ignore[attr-defined]
PUPILS = Pupil.__table__  # type: ignore[attr-defined]
MEMBERS = PupilGroup.__table__  # type: ignore[attr-defined]
GROUPS = SchoolGroup.__table__  # type: ignore[attr-defined]
AGREEMENTS = HomeUseAgreementRow.__table__  # type: ignore[attr-defined]
OBSERVATIONS = ObservationRow.__table__  # type: ignore[attr-defined]
NIGHTS = CurfewNight.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
HOLDS = DeviceHoldRow.__table__  # type: ignore[attr-defined]
BANS = BanRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True, slots=True)
class Today:
    """What "home use" and "last night" mean at the request's instant (from the policy)."""

    academic_year: str
    day: date  # school-local
    night: date | None  # the latest curfew night begun, as `curfew_nights` records it


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceFilter:
    class_name: str | None = None
    home_use: bool | None = None
    curfew: str | None = None  # last night's outcome
    reach: frozenset[str] | None = None  # a teacher's classes; None: every iPad
    after: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class PupilSummary:
    id: int
    reference: str
    name: str
    classes: frozenset[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceSummary:
    id: int
    serial: str
    name: str
    mdm: str
    pupil: PupilSummary | None
    takes_home: bool
    home_use: bool  # takes home and both parts of this year's agreement are on record
    supervised: bool
    last_check_in: datetime | None
    observed_at: datetime | None
    lock: str | None  # as last observed: locked, unlocked, unknown; None: never observed
    night: date | None
    curfew: str | None  # that night's outcome; None: no record for this iPad
    curfew_reason: str

    @property
    def classes(self) -> frozenset[str]:
        return self.pupil.classes if self.pupil is not None else frozenset()


def last_night(connection: Connection, now: datetime) -> date | None:
    """The latest curfew night that has begun by `now` (tonight's, once the curfew starts)."""
    found = connection.execute(
        select(func.max(NIGHTS.c.night)).where(NIGHTS.c.starts_at <= now)
    ).scalar_one_or_none()
    return found if isinstance(found, date) else None


def in_classes(pupil_id: Any, classes: Collection[str]) -> Any:
    """WHERE: the pupil is in one of these classes."""
    return exists(
        select(MEMBERS.c.pupil_id)
        .join(GROUPS, GROUPS.c.id == MEMBERS.c.group_id)
        .where(
            MEMBERS.c.pupil_id == pupil_id,
            GROUPS.c.kind == "class",
            GROUPS.c.name.in_(sorted(classes)),
        )
    )


def _home_use(today: Today) -> Any:
    agreed = exists(
        select(AGREEMENTS.c.id).where(
            AGREEMENTS.c.pupil_id == DEVICES.c.pupil_id,
            AGREEMENTS.c.academic_year == today.academic_year,
            AGREEMENTS.c.parent_meeting_on <= today.day,
            AGREEMENTS.c.declaration_signed_on <= today.day,
        )
    )
    return and_(DEVICES.c.takes_home.is_(True), agreed)


def _query(today: Today) -> Any:
    night = and_(NIGHTS.c.device_id == DEVICES.c.id, NIGHTS.c.night == today.night)
    return (
        select(
            DEVICES.c.id,
            DEVICES.c.serial_number,
            DEVICES.c.name,
            DEVICES.c.takes_home,
            DEVICES.c.supervised,
            DEVICES.c.last_check_in_at,
            DEVICES.c.pupil_id,
            INSTANCES.c.name.label("mdm"),
            PUPILS.c.reference,
            PUPILS.c.display_name,
            OBSERVATIONS.c.lock,
            OBSERVATIONS.c.observed_at,
            OBSERVATIONS.c.supervised.label("observed_supervised"),
            OBSERVATIONS.c.last_check_in,
            NIGHTS.c.night,
            NIGHTS.c.outcome,
            NIGHTS.c.reason,
            _home_use(today).label("home_use"),
        )
        .join(INSTANCES, INSTANCES.c.id == DEVICES.c.mdm_instance_id)
        .outerjoin(PUPILS, PUPILS.c.id == DEVICES.c.pupil_id)
        .outerjoin(OBSERVATIONS, OBSERVATIONS.c.device_id == DEVICES.c.id)
        .outerjoin(NIGHTS, night)
    )


def _summaries(connection: Connection, rows: list[Any]) -> list[DeviceSummary]:
    pupil_ids = sorted({row.pupil_id for row in rows if row.pupil_id is not None})
    classes: dict[int, set[str]] = {pupil_id: set() for pupil_id in pupil_ids}
    if pupil_ids:
        for pupil_id, name in connection.execute(
            select(MEMBERS.c.pupil_id, GROUPS.c.name)
            .join(GROUPS, GROUPS.c.id == MEMBERS.c.group_id)
            .where(GROUPS.c.kind == "class", MEMBERS.c.pupil_id.in_(pupil_ids))
        ):
            classes[pupil_id].add(name)
    return [
        DeviceSummary(
            id=row.id,
            serial=row.serial_number,
            name=row.name,
            mdm=row.mdm,
            pupil=None
            if row.pupil_id is None
            else PupilSummary(
                id=row.pupil_id,
                reference=row.reference,
                name=row.display_name,
                classes=frozenset(classes[row.pupil_id]),
            ),
            takes_home=row.takes_home,
            home_use=bool(row.home_use),
            supervised=row.supervised
            if row.observed_supervised is None
            else row.observed_supervised,
            last_check_in=row.last_check_in or row.last_check_in_at,
            observed_at=row.observed_at,
            lock=row.lock,
            night=row.night,
            curfew=row.outcome,
            curfew_reason=row.reason or "",
        )
        for row in rows
    ]


def list_devices(
    connection: Connection, filters: DeviceFilter, today: Today, *, limit: int
) -> list[DeviceSummary]:
    """Up to `limit` iPads with an id above `filters.after`, in id order."""
    query = _query(today).where(DEVICES.c.id > filters.after)
    if filters.reach is not None:
        query = query.where(in_classes(DEVICES.c.pupil_id, filters.reach))
    if filters.class_name is not None:
        query = query.where(in_classes(DEVICES.c.pupil_id, [filters.class_name]))
    if filters.home_use is not None:
        home_use = _home_use(today)
        query = query.where(home_use if filters.home_use else ~home_use)
    if filters.curfew is not None:
        query = query.where(NIGHTS.c.outcome == filters.curfew)
    rows = list(connection.execute(query.order_by(DEVICES.c.id).limit(limit)))
    return _summaries(connection, rows)


def device_summary(connection: Connection, device_id: int, today: Today) -> DeviceSummary:
    rows = list(connection.execute(_query(today).where(DEVICES.c.id == device_id)))
    if not rows:
        raise NotFound("device_id", f"no iPad {device_id}")
    return _summaries(connection, rows)[0]


@dataclass(frozen=True, kw_only=True, slots=True)
class History:
    actions: list[dict[str, Any]]  # outbox rows, newest first
    nights: list[dict[str, Any]]  # curfew nights, newest first
    holds: list[dict[str, Any]]  # inspection locks and evidence holds, newest first
    bans: list[dict[str, Any]]  # the pupil's bans, newest first (rows: status is judged later)


def history(
    connection: Connection,
    device_id: int,
    pupil_id: int | None,
    *,
    actions: int = 50,
    nights: int = 14,
) -> History:
    """What happened to one iPad lately, and its pupil's bans."""
    sent = connection.execute(
        select(
            OUTBOX.c.id,
            OUTBOX.c.kind,
            OUTBOX.c.profile_identifier,
            OUTBOX.c.reason,
            OUTBOX.c.status,
            OUTBOX.c.outcome,
            OUTBOX.c.detail,
            OUTBOX.c.attempts,
            OUTBOX.c.run_id,
            OUTBOX.c.created_at,
            OUTBOX.c.finished_at,
        )
        .where(OUTBOX.c.device_id == device_id)
        .order_by(OUTBOX.c.id.desc())
        .limit(actions)
    )
    night_rows = connection.execute(
        select(
            NIGHTS.c.night,
            NIGHTS.c.starts_at,
            NIGHTS.c.ends_at,
            NIGHTS.c.outcome,
            NIGHTS.c.reason,
            NIGHTS.c.locked_seen_at,
        )
        .where(NIGHTS.c.device_id == device_id)
        .order_by(NIGHTS.c.night.desc())
        .limit(nights)
    )
    holds = connection.execute(
        select(HOLDS).where(HOLDS.c.device_id == device_id).order_by(HOLDS.c.id.desc())
    )
    bans: list[dict[str, Any]] = []
    if pupil_id is not None:
        bans = [
            dict(row._mapping)
            for row in connection.execute(
                select(BANS).where(BANS.c.pupil_id == pupil_id).order_by(BANS.c.id.desc())
            )
        ]
    return History(
        actions=[dict(row._mapping) for row in sent],
        nights=[dict(row._mapping) for row in night_rows],
        holds=[dict(row._mapping) for row in holds],
        bans=bans,
    )
