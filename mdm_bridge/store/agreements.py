"""Home-use agreements as staff record them: the date a parent attended the responsible-use
meeting and the date they signed the home-use declaration, per pupil and academic year.

Called by the agreements routes (`mdm_bridge.api.agreements`), which reconcile the pupil's iPads
afterwards (home use decides whether the curfew locks them); the roster import writes the same
rows in bulk. `reconcile.facts` loads them and `policies.HomeUseAgreement.is_complete` decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from mdm_bridge.store.engine import upsert_insert
from mdm_bridge.store.errors import FieldError
from mdm_bridge.store.records import HomeUseAgreementRow

AGREEMENTS = HomeUseAgreementRow.__table__  # type: ignore[attr-defined]
_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
UNCHANGED: Any = object()  # a part the request did not mention keeps its recorded date


@dataclass(frozen=True, kw_only=True, slots=True)
class AgreementView:
    pupil: str
    academic_year: str
    parent_meeting_on: date | None
    declaration_signed_on: date | None
    recorded_by: str
    recorded_at: datetime

    @property
    def complete(self) -> bool:
        return self.parent_meeting_on is not None and self.declaration_signed_on is not None


def check_academic_year(text: str) -> str:
    """ "2026-27": a September-to-August year, the second part one after the first."""
    found = _YEAR.match(text)
    if not found or not 2000 <= int(found[1]) <= 2098:
        raise FieldError("academic_year", f"{text!r} is not an academic year such as 2026-27")
    if int(found[2]) != (int(found[1]) + 1) % 100:
        raise FieldError("academic_year", f"{text!r}: the second year must follow the first")
    return text


def _view(row: Any, reference: str) -> AgreementView:
    return AgreementView(
        pupil=reference,
        academic_year=row.academic_year,
        parent_meeting_on=row.parent_meeting_on,
        declaration_signed_on=row.declaration_signed_on,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def of_pupil(connection: Connection, pupil_id: int, reference: str) -> list[AgreementView]:
    rows = connection.execute(
        select(AGREEMENTS)
        .where(AGREEMENTS.c.pupil_id == pupil_id)
        .order_by(AGREEMENTS.c.academic_year)
    )
    return [_view(row, reference) for row in rows]


def find(
    connection: Connection, pupil_id: int, reference: str, academic_year: str
) -> AgreementView | None:
    row = connection.execute(
        select(AGREEMENTS).where(
            AGREEMENTS.c.pupil_id == pupil_id, AGREEMENTS.c.academic_year == academic_year
        )
    ).first()
    return None if row is None else _view(row, reference)


def record(
    connection: Connection,
    *,
    pupil_id: int,
    reference: str,
    academic_year: str,
    today: date,
    recorded_by: str,
    now: datetime,
    parent_meeting_on: date | None = UNCHANGED,
    declaration_signed_on: date | None = UNCHANGED,
) -> tuple[AgreementView | None, AgreementView]:
    """Record either part or both (None clears a part recorded in error); answers the
    agreement before and after. Dates after `today` (school-local) are refused."""
    check_academic_year(academic_year)
    for field, day in (
        ("parent_meeting_on", parent_meeting_on),
        ("declaration_signed_on", declaration_signed_on),
    ):
        if day is not UNCHANGED and day is not None and day > today:
            raise FieldError(field, f"{day.isoformat()} is in the future")
    before = find(connection, pupil_id, reference, academic_year)
    values: dict[str, Any] = {"recorded_by": recorded_by, "recorded_at": now}
    if parent_meeting_on is not UNCHANGED:
        values["parent_meeting_on"] = parent_meeting_on
    if declaration_signed_on is not UNCHANGED:
        values["declaration_signed_on"] = declaration_signed_on
    # An upsert: two staff recording the same agreement at once must not meet a 500.
    connection.execute(
        upsert_insert(connection)(AGREEMENTS)
        .values(pupil_id=pupil_id, academic_year=academic_year, **values)
        .on_conflict_do_update(index_elements=["pupil_id", "academic_year"], set_=values)
    )
    after = find(connection, pupil_id, reference, academic_year)
    assert after is not None
    return before, after
