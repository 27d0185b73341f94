"""Device holds as staff record them: lock one iPad now for inspection, or freeze it as evidence
(R57: locked, never wiped), and release it later with a reason.

Called by the holds routes (`mdm_bridge.api.holds`), which check who may place and release what
and then reconcile the iPad at once; `reconcile.facts` loads the unreleased holds and
`policies.desired_state` locks a held iPad above any ban or curfew. Nothing is deleted: a
release records who, when and why.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from mdm_bridge.store import pupils
from mdm_bridge.store.errors import Conflict, FieldError, NotFound
from mdm_bridge.store.records import DeviceHoldRow
from policies import HoldKind

HOLDS = DeviceHoldRow.__table__  # type: ignore[attr-defined]
DEVICES = pupils.DEVICES


@dataclass(frozen=True, kw_only=True, slots=True)
class HoldView:
    id: int
    device_id: int
    serial_number: str
    kind: HoldKind
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None

    @property
    def active(self) -> bool:
        return self.released_at is None


def _view(row: Any) -> HoldView:
    return HoldView(
        id=row.id,
        device_id=row.device_id,
        serial_number=row.serial_number,
        kind=HoldKind(row.kind),
        reason=row.reason,
        placed_by=row.placed_by,
        placed_at=row.placed_at,
        released_by=row.released_by,
        released_at=row.released_at,
        release_reason=row.release_reason,
    )


def _joined() -> Any:
    return select(HOLDS, DEVICES.c.serial_number).join(DEVICES, DEVICES.c.id == HOLDS.c.device_id)


def get(connection: Connection, hold_id: int) -> HoldView:
    row = connection.execute(_joined().where(HOLDS.c.id == hold_id)).first()
    if row is None:
        raise NotFound("hold_id", f"no hold {hold_id}")
    return _view(row)


def place(
    connection: Connection,
    *,
    device_id: int,
    kind: HoldKind,
    reason: str,
    placed_by: str,
    now: datetime,
) -> HoldView:
    """Hold the iPad; one unreleased hold of each kind per iPad (a second one is a 409)."""
    pupils.device(connection, device_id)  # NotFound naming device_id
    if not reason.strip():
        raise FieldError("reason", "say why the iPad is held")
    already = connection.execute(
        select(HOLDS.c.id).where(
            HOLDS.c.device_id == device_id,
            HOLDS.c.kind == kind.value,
            HOLDS.c.released_at.is_(None),
        )
    ).scalar_one_or_none()
    if already is not None:
        raise Conflict("device_id", f"iPad {device_id} is already on {kind.value} (hold {already})")
    hold_id = connection.execute(
        insert(HOLDS)
        .values(
            device_id=device_id,
            kind=kind.value,
            reason=reason.strip()[:500],
            placed_by=placed_by,
            placed_at=now,
        )
        .returning(HOLDS.c.id)
    ).scalar_one()
    return get(connection, int(hold_id))


def release(
    connection: Connection, *, hold_id: int, released_by: str, reason: str, now: datetime
) -> HoldView:
    current = get(connection, hold_id)
    if not reason.strip():
        raise FieldError("reason", "say why the hold ends")
    if not current.active:
        raise Conflict("hold_id", f"hold {hold_id} was already released")
    connection.execute(
        update(HOLDS)
        .where(HOLDS.c.id == hold_id)
        .values(released_by=released_by, released_at=now, release_reason=reason.strip()[:500])
    )
    return get(connection, hold_id)


def search(
    connection: Connection,
    *,
    device_id: int | None = None,
    active: bool | None = None,
    classes: Collection[str] | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[HoldView]:
    """Holds, oldest first; `classes` limits to iPads of pupils in them (a teacher's reach)."""
    statement = _joined().where(HOLDS.c.id > after_id)
    if device_id is not None:
        statement = statement.where(HOLDS.c.device_id == device_id)
    if active is True:
        statement = statement.where(HOLDS.c.released_at.is_(None))
    elif active is False:
        statement = statement.where(HOLDS.c.released_at.is_not(None))
    if classes is not None:
        statement = statement.where(pupils.in_classes(DEVICES.c.pupil_id, classes))
    rows = connection.execute(statement.order_by(HOLDS.c.id).limit(limit))
    return [_view(row) for row in rows]
