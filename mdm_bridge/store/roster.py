"""The school's roster: pupils, their classes and year group, which iPad each has, whether it
goes home, and the home-use agreement — from the spreadsheet technicians already keep.

`parse_roster_csv` reads the CSV (header names below; dates as YYYY-MM-DD) and names file, line
and column for every problem; `import_roster` writes it in one transaction (all or nothing).
Columns: serial_number, pupil_reference, pupil_name, year_group, classes (separated by ";"),
takes_home (yes/no), parent_meeting_on, declaration_signed_on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, bindparam, select, update

from mdm_bridge.store.engine import upsert_insert
from mdm_bridge.store.records import HomeUseAgreementRow
from mdm_bridge.store.tables import Device, Pupil, PupilGroup, SchoolGroup
from schedules.source import Problem, SourceError

COLUMNS = (
    "serial_number",
    "pupil_reference",
    "pupil_name",
    "year_group",
    "classes",
    "takes_home",
    "parent_meeting_on",
    "declaration_signed_on",
)
PUPILS = Pupil.__table__  # type: ignore[attr-defined]
GROUPS = SchoolGroup.__table__  # type: ignore[attr-defined]
MEMBERS = PupilGroup.__table__  # type: ignore[attr-defined]
DEVICES = Device.__table__  # type: ignore[attr-defined]
AGREEMENTS = HomeUseAgreementRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True, slots=True)
class RosterEntry:
    serial_number: str
    pupil_reference: str
    pupil_name: str
    year_group: int | None = None
    classes: tuple[str, ...] = ()
    takes_home: bool = False
    parent_meeting_on: date | None = None
    declaration_signed_on: date | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ImportReport:
    pupils: int
    devices_assigned: int
    unknown_serials: tuple[str, ...]


def parse_roster_csv(text: str, file: str) -> list[RosterEntry]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in ("serial_number", "pupil_reference", "pupil_name") if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    problems: list[Problem] = []
    if missing:
        problems.append(Problem(file, 1, "", f"missing column(s): {', '.join(missing)}"))
    if unknown:
        known = ", ".join(COLUMNS)
        problems.append(Problem(file, 1, "", f"unknown column(s) {unknown}; known: {known}"))
    if problems:
        raise SourceError(problems)
    entries: list[RosterEntry] = []
    for row in reader:
        line = reader.line_num
        entry = _entry(row, file, line, problems)
        if entry is not None:
            entries.append(entry)
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry.serial_number in seen:
            problems.append(
                Problem(file, index + 2, "serial_number", f"{entry.serial_number} appears twice")
            )
        seen[entry.serial_number] = index
    if problems:
        raise SourceError(problems)
    return entries


def _entry(
    row: dict[str, str], file: str, line: int, problems: list[Problem]
) -> RosterEntry | None:
    def text(column: str) -> str:
        return (row.get(column) or "").strip()

    def day(column: str) -> date | None:
        value = text(column)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            problems.append(Problem(file, line, column, f"{value!r} is not a date (YYYY-MM-DD)"))
            return None

    before = len(problems)
    for column in ("serial_number", "pupil_reference", "pupil_name"):
        if not text(column):
            problems.append(Problem(file, line, column, "must not be empty"))
    year: int | None = None
    if text("year_group"):
        try:
            year = int(text("year_group"))
        except ValueError:
            problems.append(Problem(file, line, "year_group", "must be a whole number (0-13)"))
        else:
            if not 0 <= year <= 13:
                problems.append(Problem(file, line, "year_group", "must be between 0 and 13"))
    home = text("takes_home").lower()
    if home not in ("", "yes", "no", "true", "false", "y", "n", "1", "0"):
        problems.append(Problem(file, line, "takes_home", f"{home!r} is not yes or no"))
    meeting, signed = day("parent_meeting_on"), day("declaration_signed_on")
    if len(problems) > before:
        return None
    return RosterEntry(
        serial_number=text("serial_number"),
        pupil_reference=text("pupil_reference"),
        pupil_name=text("pupil_name"),
        year_group=year,
        classes=tuple(c.strip() for c in text("classes").split(";") if c.strip()),
        takes_home=home in ("yes", "true", "y", "1"),
        parent_meeting_on=meeting,
        declaration_signed_on=signed,
    )


def import_roster(
    connection: Connection,
    *,
    school_id: int,
    entries: Sequence[RosterEntry],
    academic_year: str,
    recorded_by: str,
    now: datetime,
) -> ImportReport:
    """Upsert pupils, classes, year groups, assignments and agreements (caller's transaction)."""
    insert_ = upsert_insert(connection)
    pupil_rows = [
        {
            "school_id": school_id,
            "reference": e.pupil_reference,
            "display_name": e.pupil_name,
            "year_group": e.year_group,
            "created_at": now,
        }
        for e in entries
    ]
    if pupil_rows:
        statement = insert_(PUPILS)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["school_id", "reference"],
                set_={
                    "display_name": statement.excluded.display_name,
                    "year_group": statement.excluded.year_group,
                },
            ),
            pupil_rows,
        )
    # .all(): a Result has .keys() (its column names), so dict(result) reads it as a mapping.
    pupil_ids: dict[str, int] = dict(
        connection.execute(
            select(PUPILS.c.reference, PUPILS.c.id).where(PUPILS.c.school_id == school_id)
        ).all()
    )
    group_rows = [
        {"school_id": school_id, "name": name, "kind": kind}
        for name, kind in sorted(
            {(c, "class") for e in entries for c in e.classes}
            | {(f"Year {e.year_group}", "year_group") for e in entries if e.year_group is not None}
        )
    ]
    if group_rows:
        connection.execute(insert_(GROUPS).on_conflict_do_nothing(), group_rows)
    group_ids = {
        (name, kind): group_id
        for group_id, name, kind in connection.execute(
            select(GROUPS.c.id, GROUPS.c.name, GROUPS.c.kind).where(GROUPS.c.school_id == school_id)
        )
    }
    members = []
    for e in entries:
        pupil_id = pupil_ids[e.pupil_reference]
        names = [(c, "class") for c in e.classes]
        if e.year_group is not None:
            names.append((f"Year {e.year_group}", "year_group"))
        members += [{"pupil_id": pupil_id, "group_id": group_ids[n]} for n in names]
    if members:
        connection.execute(insert_(MEMBERS).on_conflict_do_nothing(), members)
    agreements = [
        {
            "pupil_id": pupil_ids[e.pupil_reference],
            "academic_year": academic_year,
            "parent_meeting_on": e.parent_meeting_on,
            "declaration_signed_on": e.declaration_signed_on,
            "recorded_by": recorded_by,
            "recorded_at": now,
        }
        for e in entries
        if e.parent_meeting_on or e.declaration_signed_on
    ]
    if agreements:
        statement = insert_(AGREEMENTS)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["pupil_id", "academic_year"],
                set_={
                    "parent_meeting_on": statement.excluded.parent_meeting_on,
                    "declaration_signed_on": statement.excluded.declaration_signed_on,
                    "recorded_by": statement.excluded.recorded_by,
                    "recorded_at": statement.excluded.recorded_at,
                },
            ),
            agreements,
        )
    known: dict[str, int] = dict(
        connection.execute(select(DEVICES.c.serial_number, DEVICES.c.id)).all()
    )
    unknown: list[str] = []
    assignments = []
    for e in entries:
        device_id = known.get(e.serial_number)
        if device_id is None:
            unknown.append(e.serial_number)
            continue
        assignments.append(
            {"row": device_id, "pupil": pupil_ids[e.pupil_reference], "home": e.takes_home}
        )
    if assignments:  # one statement, many parameter sets: 100,000 iPads in seconds
        connection.execute(
            update(DEVICES)
            .where(DEVICES.c.id == bindparam("row"))
            .values(pupil_id=bindparam("pupil"), takes_home=bindparam("home")),
            assignments,
        )
    assigned = len(assignments)
    return ImportReport(
        pupils=len(pupil_ids), devices_assigned=assigned, unknown_serials=tuple(unknown)
    )
