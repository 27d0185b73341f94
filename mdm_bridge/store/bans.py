"""Bans as staff record them: issue, approve, lift, list. Shared by the CLI and the API.

Every rule a teacher can break is checked here with a message naming the field: the pupil
exists, the level is on the ladder, the duration is within the level's maximum, the approver
is not the issuer, a lift has a reason, an extension ends later and within the level's maximum.
An unknown ban is `BanNotFound` (404 over HTTP) and a ban in the wrong state `BanConflict`
(409); both are `BanError`s, so the CLI prints them the same way. What the ban does to the
iPad is `policies`' business; after a change the caller reconciles the pupil's iPads
(`devices_of`) at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from mdm_bridge.store import pupils
from mdm_bridge.store.errors import Conflict, FieldError, NotFound
from mdm_bridge.store.records import BanRow
from mdm_bridge.store.tables import Device, Pupil
from policies import Ban, BanLadder, BanStatus, ban_status

BANS = BanRow.__table__  # type: ignore[attr-defined]
PUPILS = Pupil.__table__  # type: ignore[attr-defined]
DEVICES = Device.__table__  # type: ignore[attr-defined]


class BanError(FieldError):
    """A ban request that cannot be carried out; `field` names what to correct."""


class BanNotFound(NotFound, BanError):
    """No ban has that id."""


class BanConflict(Conflict, BanError):
    """The ban is not in a state that allows this (approve an active ban, lift a lifted one)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class BanView:
    ban: Ban
    status: BanStatus
    suggested_level: int | None = None


def _pupil_id(connection: Connection, reference: str) -> int:
    found = connection.execute(
        select(PUPILS.c.id).where(PUPILS.c.reference == reference)
    ).scalar_one_or_none()
    if found is None:
        raise BanError("pupil", f"no pupil with reference {reference!r}")
    return int(found)


def ban_from_row(row: Any, reference: str) -> Ban:
    """A `bans` row (with its pupil's reference) as the policies' Ban."""
    return Ban(
        id=str(row.id),
        pupil_reference=reference,
        level=row.level,
        reason=row.reason,
        category=row.category,
        notes=row.notes,
        issued_by=row.issued_by,
        issued_at=row.issued_at,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        lifted_by=row.lifted_by,
        lifted_at=row.lifted_at,
        lift_reason=row.lift_reason,
    )


def history(connection: Connection, reference: str) -> list[Ban]:
    pupil_id = _pupil_id(connection, reference)
    rows = connection.execute(
        select(BANS).where(BANS.c.pupil_id == pupil_id).order_by(BANS.c.issued_at, BANS.c.id)
    )
    return [ban_from_row(row, reference) for row in rows]


def issue(
    connection: Connection,
    *,
    ladder: BanLadder,
    pupil: str,
    level: int,
    reason: str,
    category: str,
    issued_by: str,
    now: datetime,
    notes: str = "",
    duration: timedelta | None = None,
    starts_at: datetime | None = None,
) -> BanView:
    """Record a ban; answers it with its status and the level the pupil's history suggests."""
    pupil_id = _pupil_id(connection, pupil)
    try:
        rung = ladder.level(level)
    except ValueError as error:
        raise BanError("level", str(error)) from None
    if not reason.strip():
        raise BanError("reason", "say what happened")
    if not category.strip():
        raise BanError("category", "name the kind of misuse")
    length = duration if duration is not None else rung.default_duration
    if length <= timedelta(0):
        raise BanError("duration", "must be longer than zero")
    if length > rung.max_duration:
        raise BanError("duration", f"level {level} lasts at most {rung.max_duration}")
    start = starts_at or now
    suggested = ladder.suggest(history(connection, pupil), now)
    row_id = connection.execute(
        insert(BANS)
        .values(
            pupil_id=pupil_id,
            level=level,
            reason=reason.strip()[:500],
            category=category.strip()[:100],
            notes=notes[:2000],
            issued_by=issued_by,
            issued_at=now,
            starts_at=start,
            ends_at=start + length,
        )
        .returning(BANS.c.id)
    ).scalar_one()
    return view(connection, ladder, int(row_id), now, suggested_level=suggested)


def view(
    connection: Connection,
    ladder: BanLadder,
    ban_id: int,
    now: datetime,
    *,
    suggested_level: int | None = None,
) -> BanView:
    row = connection.execute(
        select(BANS, PUPILS.c.reference)
        .join(PUPILS, PUPILS.c.id == BANS.c.pupil_id)
        .where(BANS.c.id == ban_id)
    ).first()
    if row is None:
        raise BanNotFound("ban", f"no ban {ban_id}")
    ban = ban_from_row(row, row.reference)
    return BanView(ban=ban, status=ban_status(ban, ladder, now), suggested_level=suggested_level)


def approve(
    connection: Connection, *, ladder: BanLadder, ban_id: int, approved_by: str, now: datetime
) -> BanView:
    current = view(connection, ladder, ban_id, now)
    if current.status is not BanStatus.AWAITING_APPROVAL:
        raise BanConflict("ban", f"ban {ban_id} is {current.status.value}, not awaiting approval")
    if approved_by == current.ban.issued_by:
        raise BanError("approved_by", "a second person must approve this level")
    connection.execute(
        update(BANS).where(BANS.c.id == ban_id).values(approved_by=approved_by, approved_at=now)
    )
    return view(connection, ladder, ban_id, now)


def lift(
    connection: Connection,
    *,
    ladder: BanLadder,
    ban_id: int,
    lifted_by: str,
    reason: str,
    now: datetime,
) -> BanView:
    current = view(connection, ladder, ban_id, now)
    if not reason.strip():
        raise BanError("reason", "say why the ban ends early")
    if current.status in (BanStatus.LIFTED, BanStatus.ENDED):
        raise BanConflict("ban", f"ban {ban_id} has already {current.status.value}")
    connection.execute(
        update(BANS)
        .where(BANS.c.id == ban_id)
        .values(lifted_by=lifted_by, lifted_at=now, lift_reason=reason.strip()[:500])
    )
    return view(connection, ladder, ban_id, now)


def extend(
    connection: Connection,
    *,
    ladder: BanLadder,
    ban_id: int,
    until: datetime,
    reason: str,
    now: datetime,
) -> BanView:
    """Move a ban's end later, up to its level's maximum counted from its start (who extended
    it, and why, is the audit trail's record: the ban keeps its issuer)."""
    current = view(connection, ladder, ban_id, now)
    if not reason.strip():
        raise BanError("reason", "say why the ban is extended")
    if current.status in (BanStatus.LIFTED, BanStatus.ENDED):
        raise BanConflict("ban", f"ban {ban_id} has already {current.status.value}")
    ban = current.ban
    if until <= ban.ends_at:
        raise BanError("until", f"must be later than the ban's end, {ban.ends_at.isoformat()}")
    longest = ladder.effective_level(ban.level).max_duration
    if until - ban.starts_at > longest:
        latest = (ban.starts_at + longest).isoformat()
        raise BanError("until", f"level {ban.level} lasts at most {longest}: {latest} latest")
    connection.execute(update(BANS).where(BANS.c.id == ban_id).values(ends_at=until))
    return view(connection, ladder, ban_id, now)


@dataclass(frozen=True, kw_only=True, slots=True)
class BanQuery:
    """Filters for `search`; `classes` limits to pupils in any of them (a teacher's reach)."""

    pupil: str | None = None
    class_name: str | None = None
    classes: frozenset[str] | None = None
    current: bool | None = None  # True: not ended or lifted; False: ended or lifted
    after_id: int = 0


def search(
    connection: Connection, ladder: BanLadder, now: datetime, query: BanQuery, *, limit: int
) -> list[BanView]:
    """Bans matching `query`, oldest first by id, at most `limit` (page on with `after_id`)."""
    statement = (
        select(BANS, PUPILS.c.reference)
        .join(PUPILS, PUPILS.c.id == BANS.c.pupil_id)
        .where(BANS.c.id > query.after_id)
    )
    if query.pupil is not None:
        statement = statement.where(BANS.c.pupil_id == _pupil_id(connection, query.pupil))
    if query.class_name is not None:
        statement = statement.where(pupils.in_classes(BANS.c.pupil_id, [query.class_name]))
    if query.classes is not None:
        statement = statement.where(pupils.in_classes(BANS.c.pupil_id, query.classes))
    # In force or waiting (not lifted by now, not past its end), exactly as `ban_status` says.
    running = (
        or_(BANS.c.lifted_at.is_(None), BANS.c.lifted_at > now),
        BANS.c.ends_at > now,
    )
    if query.current is True:
        statement = statement.where(*running)
    elif query.current is False:
        statement = statement.where(
            or_(BANS.c.lifted_at <= now, BANS.c.ends_at <= now),
        )
    rows = connection.execute(statement.order_by(BANS.c.id).limit(limit))
    found = []
    for row in rows:
        ban = ban_from_row(row, row.reference)
        found.append(BanView(ban=ban, status=ban_status(ban, ladder, now)))
    return found


def pupil_of(connection: Connection, ban_id: int) -> pupils.PupilInfo:
    """The banned pupil, with their classes (for a teacher's reach); `BanNotFound` if none."""
    pupil_id = connection.execute(
        select(BANS.c.pupil_id).where(BANS.c.id == ban_id)
    ).scalar_one_or_none()
    if pupil_id is None:
        raise BanNotFound("ban", f"no ban {ban_id}")
    return pupils.by_id(connection, int(pupil_id))


def devices_of(connection: Connection, pupil: str) -> list[int]:
    """The iPads assigned to this pupil (a ban follows the pupil to each of them)."""
    pupil_id = _pupil_id(connection, pupil)
    return list(
        connection.execute(select(DEVICES.c.id).where(DEVICES.c.pupil_id == pupil_id)).scalars()
    )
