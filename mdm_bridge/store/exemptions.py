"""Exemptions as staff record them (R34): a teacher asks for extra sites for a class, or for one
pupil's iPad to stay usable through the curfew; a technician or the DSL approves; it expires on
its own at `ends_at`.

Called by the exemptions routes (`mdm_bridge.api.exemptions`), which check who may ask and
approve and reconcile the affected iPads after an approval; `reconcile.facts` loads every
exemption and `policies.desired_state` applies the approved ones in force. Every rule is
checked here with a message naming the field; nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from mdm_bridge.store import pupils
from mdm_bridge.store.errors import Conflict, FieldError, NotFound
from mdm_bridge.store.records import ExemptionRow
from policies import ExemptionKind
from policies.profiles import check_site

EXEMPTIONS = ExemptionRow.__table__  # type: ignore[attr-defined]
PUPILS = pupils.PUPILS
LONGEST = timedelta(days=90)  # a term; anything longer belongs in the policy itself
MOST_DOMAINS = 50


class ExemptionStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"  # approved, not started yet
    ACTIVE = "active"
    EXPIRED = "expired"  # past its end, approved or not


@dataclass(frozen=True, kw_only=True, slots=True)
class ExemptionView:
    id: int
    kind: ExemptionKind
    group: str | None
    pupil: str | None
    domains: tuple[str, ...]
    reason: str
    requested_by: str
    requested_at: datetime
    starts_at: datetime
    ends_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    status: ExemptionStatus


def status_of(row: Any, now: datetime) -> ExemptionStatus:
    if now >= row.ends_at:
        return ExemptionStatus.EXPIRED
    if row.approved_by is None:
        return ExemptionStatus.AWAITING_APPROVAL
    if now < row.starts_at:
        return ExemptionStatus.SCHEDULED
    return ExemptionStatus.ACTIVE


def _view(row: Any, now: datetime) -> ExemptionView:
    return ExemptionView(
        id=row.id,
        kind=ExemptionKind(row.kind),
        group=row.group_name,
        pupil=row.reference,
        domains=tuple(row.domains),
        reason=row.reason,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        status=status_of(row, now),
    )


def _joined() -> Any:
    return select(EXEMPTIONS, PUPILS.c.reference).outerjoin(
        PUPILS, PUPILS.c.id == EXEMPTIONS.c.pupil_id
    )


def get(connection: Connection, exemption_id: int, now: datetime) -> ExemptionView:
    row = connection.execute(_joined().where(EXEMPTIONS.c.id == exemption_id)).first()
    if row is None:
        raise NotFound("exemption_id", f"no exemption {exemption_id}")
    return _view(row, now)


def check_domains(domains: Sequence[str]) -> tuple[str, ...]:
    if not domains:
        raise FieldError("domains", "name at least one site to allow")
    if len(domains) > MOST_DOMAINS:
        raise FieldError("domains", f"at most {MOST_DOMAINS} sites per exemption")
    for site in domains:
        try:
            check_site(site)
        except ValueError as error:
            raise FieldError("domains", str(error)) from None
    return tuple(dict.fromkeys(domains))


def request(
    connection: Connection,
    *,
    kind: ExemptionKind,
    reason: str,
    requested_by: str,
    ends_at: datetime,
    now: datetime,
    starts_at: datetime | None = None,
    group: str | None = None,
    pupil: str | None = None,
    domains: Sequence[str] = (),
) -> ExemptionView:
    """Record a request; it applies only once approved, and only between its start and end."""
    if not reason.strip():
        raise FieldError("reason", "say what the exemption is for")
    start = starts_at or now
    if ends_at <= start:
        raise FieldError("ends_at", "must be after the start")
    if ends_at <= now:
        raise FieldError("ends_at", "is already past")
    if ends_at - start > LONGEST:
        raise FieldError("ends_at", f"an exemption lasts at most {LONGEST.days} days")
    pupil_id: int | None = None
    if kind is ExemptionKind.WEB_ALLOW:
        if not group:
            raise FieldError("group", "a web allow-list exemption names the class it is for")
        if pupil:
            raise FieldError("pupil", "a web allow-list exemption is for a class, not a pupil")
        school_id = pupils.class_school(connection, group)
        sites = check_domains(domains)
    else:
        if not pupil:
            raise FieldError("pupil", "a curfew exemption names its pupil")
        if group or domains:
            raise FieldError("group" if group else "domains", "a curfew exemption is for a pupil")
        found = pupils.find(connection, pupil)
        pupil_id, school_id, sites = found.id, found.school_id, ()
    exemption_id = connection.execute(
        insert(EXEMPTIONS)
        .values(
            school_id=school_id,
            kind=kind.value,
            group_name=group if kind is ExemptionKind.WEB_ALLOW else None,
            pupil_id=pupil_id,
            domains=list(sites),
            reason=reason.strip()[:500],
            requested_by=requested_by,
            requested_at=now,
            starts_at=start,
            ends_at=ends_at,
        )
        .returning(EXEMPTIONS.c.id)
    ).scalar_one()
    return get(connection, int(exemption_id), now)


def approve(
    connection: Connection, *, exemption_id: int, approved_by: str, now: datetime
) -> ExemptionView:
    current = get(connection, exemption_id, now)
    if current.status is not ExemptionStatus.AWAITING_APPROVAL:
        raise Conflict(
            "exemption_id",
            f"exemption {exemption_id} is {current.status.value}, not awaiting approval",
        )
    if approved_by == current.requested_by:
        raise FieldError("approved_by", "a second person must approve an exemption")
    connection.execute(
        update(EXEMPTIONS)
        .where(EXEMPTIONS.c.id == exemption_id)
        .values(approved_by=approved_by, approved_at=now)
    )
    return get(connection, exemption_id, now)


def devices_reached(connection: Connection, exemption: ExemptionView) -> list[int]:
    """The iPads an exemption changes: its pupil's, or those of every pupil in its class."""
    if exemption.kind is ExemptionKind.CURFEW and exemption.pupil:
        return pupils.devices_of_pupils(connection, [pupils.find(connection, exemption.pupil).id])
    if exemption.group:
        return pupils.devices_in_class(connection, exemption.group)
    return []


def search(
    connection: Connection,
    now: datetime,
    *,
    status: ExemptionStatus | None = None,
    classes: Collection[str] | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[ExemptionView]:
    """Exemptions, oldest first; `classes` limits to those for the classes or their pupils."""
    statement = _joined().where(EXEMPTIONS.c.id > after_id)
    if classes is not None:
        statement = statement.where(
            or_(
                EXEMPTIONS.c.group_name.in_(sorted(classes)),
                pupils.in_classes(EXEMPTIONS.c.pupil_id, classes),
            )
        )
    if status is ExemptionStatus.EXPIRED:
        statement = statement.where(EXEMPTIONS.c.ends_at <= now)
    elif status is ExemptionStatus.AWAITING_APPROVAL:
        statement = statement.where(EXEMPTIONS.c.ends_at > now, EXEMPTIONS.c.approved_by.is_(None))
    elif status is ExemptionStatus.SCHEDULED:
        statement = statement.where(
            EXEMPTIONS.c.approved_by.is_not(None), EXEMPTIONS.c.starts_at > now
        )
    elif status is ExemptionStatus.ACTIVE:
        statement = statement.where(
            and_(
                EXEMPTIONS.c.approved_by.is_not(None),
                EXEMPTIONS.c.starts_at <= now,
                EXEMPTIONS.c.ends_at > now,
            )
        )
    rows = connection.execute(statement.order_by(EXEMPTIONS.c.id).limit(limit))
    return [_view(row, now) for row in rows]
