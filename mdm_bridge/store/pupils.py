"""Pupils and iPads as the API's scoping rules need them: who a pupil is, which classes they are
in, whose iPad a device is, and which iPads a change reaches.

Called by the routes for bans, holds, exemptions and agreements before they act: a teacher
acts only on pupils in their own classes (`Principal.reaches(classes)`), so every lookup here
answers the pupil's class names with it. Unknown pupils and iPads raise `NotFound` (or a
`FieldError` when the name came in a request body, `field` saying which).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exists, select

from mdm_bridge.store.errors import FieldError, NotFound
from mdm_bridge.store.tables import Device, Pupil, PupilGroup, SchoolGroup

PUPILS = Pupil.__table__  # type: ignore[attr-defined]
DEVICES = Device.__table__  # type: ignore[attr-defined]
MEMBERS = PupilGroup.__table__  # type: ignore[attr-defined]
GROUPS = SchoolGroup.__table__  # type: ignore[attr-defined]
CLASS = "class"


@dataclass(frozen=True, kw_only=True, slots=True)
class PupilInfo:
    id: int
    school_id: int
    reference: str
    classes: frozenset[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceInfo:
    id: int
    serial_number: str
    pupil: PupilInfo | None  # None: an iPad nobody is assigned

    @property
    def classes(self) -> frozenset[str]:
        return self.pupil.classes if self.pupil is not None else frozenset()


def classes_of(connection: Connection, pupil_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Each pupil's class names (year groups and custom groups are not classes)."""
    wanted = sorted(set(pupil_ids))
    found: dict[int, set[str]] = {pupil_id: set() for pupil_id in wanted}
    if not wanted:
        return {}
    rows = connection.execute(
        select(MEMBERS.c.pupil_id, GROUPS.c.name)
        .join(GROUPS, GROUPS.c.id == MEMBERS.c.group_id)
        .where(GROUPS.c.kind == CLASS, MEMBERS.c.pupil_id.in_(wanted))
    )
    for pupil_id, name in rows:
        found[pupil_id].add(name)
    return {pupil_id: frozenset(names) for pupil_id, names in found.items()}


def _info(connection: Connection, row: Any) -> PupilInfo:
    return PupilInfo(
        id=row.id,
        school_id=row.school_id,
        reference=row.reference,
        classes=classes_of(connection, [row.id]).get(row.id, frozenset()),
    )


def find(connection: Connection, reference: str, *, field: str = "pupil") -> PupilInfo:
    """The pupil with this reference; a `FieldError` naming `field` when there is none."""
    row = connection.execute(
        select(PUPILS.c.id, PUPILS.c.school_id, PUPILS.c.reference).where(
            PUPILS.c.reference == reference
        )
    ).first()
    if row is None:
        raise FieldError(field, f"no pupil with reference {reference!r}")
    return _info(connection, row)


def named(connection: Connection, reference: str, *, field: str = "reference") -> PupilInfo:
    """The pupil a URL or a query names: `NotFound` (404) naming `field` when there is none."""
    try:
        return find(connection, reference)
    except FieldError as error:
        raise NotFound(field, error.message) from None


def by_id(connection: Connection, pupil_id: int) -> PupilInfo:
    row = connection.execute(
        select(PUPILS.c.id, PUPILS.c.school_id, PUPILS.c.reference).where(PUPILS.c.id == pupil_id)
    ).first()
    if row is None:
        raise NotFound("pupil", f"no pupil {pupil_id}")
    return _info(connection, row)


def device(connection: Connection, device_id: int) -> DeviceInfo:
    """The iPad with this id and its pupil; `NotFound` naming device_id when there is none."""
    row = connection.execute(
        select(DEVICES.c.id, DEVICES.c.serial_number, DEVICES.c.pupil_id).where(
            DEVICES.c.id == device_id
        )
    ).first()
    if row is None:
        raise NotFound("device_id", f"no iPad {device_id}")
    pupil = by_id(connection, row.pupil_id) if row.pupil_id is not None else None
    return DeviceInfo(id=row.id, serial_number=row.serial_number, pupil=pupil)


def class_exists(connection: Connection, name: str) -> bool:
    return (
        connection.execute(
            select(GROUPS.c.id).where(GROUPS.c.kind == CLASS, GROUPS.c.name == name).limit(1)
        ).first()
        is not None
    )


def class_school(connection: Connection, name: str, *, field: str = "group") -> int:
    """The school of the class called `name`; a `FieldError` naming `field` when none has it."""
    found = connection.execute(
        select(GROUPS.c.school_id)
        .where(GROUPS.c.kind == CLASS, GROUPS.c.name == name)
        .order_by(GROUPS.c.id)
        .limit(1)
    ).scalar_one_or_none()
    if found is None:
        raise FieldError(field, f"no class called {name!r}")
    return int(found)


def in_classes(pupil_id_column: Any, classes: Collection[str]) -> Any:
    """A WHERE clause: the pupil in `pupil_id_column` is in one of `classes`."""
    return exists(
        select(MEMBERS.c.pupil_id)
        .join(GROUPS, GROUPS.c.id == MEMBERS.c.group_id)
        .where(
            MEMBERS.c.pupil_id == pupil_id_column,
            GROUPS.c.kind == CLASS,
            GROUPS.c.name.in_(sorted(classes)),
        )
    )


def devices_of_pupils(connection: Connection, pupil_ids: Collection[int]) -> list[int]:
    """The iPads assigned to these pupils (a ban or an exemption reaches each of them)."""
    if not pupil_ids:
        return []
    return list(
        connection.execute(
            select(DEVICES.c.id)
            .where(DEVICES.c.pupil_id.in_(sorted(pupil_ids)))
            .order_by(DEVICES.c.id)
        ).scalars()
    )


def devices_in_class(connection: Connection, name: str) -> list[int]:
    """The iPads of every pupil in the class called `name`."""
    return list(
        connection.execute(
            select(DEVICES.c.id)
            .where(in_classes(DEVICES.c.pupil_id, [name]))
            .order_by(DEVICES.c.id)
        ).scalars()
    )
