"""Home-use agreements over HTTP: staff record the date a parent attended the responsible-use
meeting and the date they signed the home-use declaration, per pupil and academic year.

`AGREEMENT_RECORD` records (a teacher only for pupils in their classes), `AGREEMENTS_READ`
reads. Only both parts for the current academic year make an iPad home-use, which decides
whether the curfew locks it: so a change reconciles the pupil's iPads at once. The rules live
in `mdm_bridge.store.agreements`; each change is audited in its transaction, with who recorded
it and the dates before and after.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from mdm_bridge.api.auth import require
from mdm_bridge.api.bans import policy_of, reconcile_soon, require_reach
from mdm_bridge.api.context import Audit, read, write
from mdm_bridge.api.problems import AUTH_PROBLEMS, NOT_FOUND
from mdm_bridge.api.types import NO_CONTROL
from mdm_bridge.permissions import Permission, Principal
from mdm_bridge.store import agreements, pupils
from mdm_bridge.store.errors import FieldError

router = APIRouter(prefix="/api/v1/pupils", tags=["agreements"], responses=AUTH_PROBLEMS)
Recorder = Annotated[Principal, Depends(require(Permission.AGREEMENT_RECORD))]
Reader = Annotated[Principal, Depends(require(Permission.AGREEMENTS_READ))]
PupilReference = Annotated[
    str, Path(min_length=1, max_length=64, pattern=NO_CONTROL, description="The pupil's reference")
]
AcademicYear = Annotated[
    str, Path(pattern=r"^\d{4}-\d{2}$", description="e.g. 2026-27 (September to August)")
]


class AgreementIn(BaseModel):
    """Either part or both; a part left out keeps its recorded date, null clears it."""

    model_config = ConfigDict(extra="forbid")

    parent_meeting_on: date | None = Field(
        default=None, description="The day a parent attended the responsible-use meeting"
    )
    declaration_signed_on: date | None = Field(
        default=None, description="The day a parent signed the home-use declaration"
    )


class AgreementOut(BaseModel):
    pupil: str
    academic_year: str
    parent_meeting_on: date | None
    declaration_signed_on: date | None
    complete: bool = Field(description="Both parts on record: the iPad may go home")
    recorded_by: str
    recorded_at: datetime


class AgreementList(BaseModel):
    agreements: list[AgreementOut]


def agreement_out(view: agreements.AgreementView) -> AgreementOut:
    return AgreementOut(
        pupil=view.pupil,
        academic_year=view.academic_year,
        parent_meeting_on=view.parent_meeting_on,
        declaration_signed_on=view.declaration_signed_on,
        complete=view.complete,
        recorded_by=view.recorded_by,
        recorded_at=view.recorded_at,
    )


def _dates(view: agreements.AgreementView | None) -> dict[str, Any]:
    if view is None:
        return {"parent_meeting_on": None, "declaration_signed_on": None}
    return {
        "parent_meeting_on": view.parent_meeting_on and view.parent_meeting_on.isoformat(),
        "declaration_signed_on": view.declaration_signed_on
        and view.declaration_signed_on.isoformat(),
    }


@router.put(
    "/{reference}/agreements/{academic_year}",
    summary="Record the parent meeting and/or the signed declaration for an academic year",
    responses=NOT_FOUND,
)
async def record_agreement(
    request: Request,
    caller: Recorder,
    reference: PupilReference,
    academic_year: AcademicYear,
    body: AgreementIn,
) -> AgreementOut:
    given = body.model_fields_set
    if not given:
        raise FieldError(
            "parent_meeting_on", "give parent_meeting_on, declaration_signed_on or both"
        )
    zone = ZoneInfo(policy_of(request).schedule.zone)
    parts: dict[str, Any] = {name: getattr(body, name) for name in given}

    def work(connection: Connection, trail: Audit) -> tuple[agreements.AgreementView, list[int]]:
        pupil = pupils.named(connection, reference)
        require_reach(caller, pupil, "agreements")
        before, after = agreements.record(
            connection,
            pupil_id=pupil.id,
            reference=pupil.reference,
            academic_year=academic_year,
            today=trail.now.astimezone(zone).date(),
            recorded_by=caller.user,
            now=trail.now,
            **parts,
        )
        trail.record(
            "agreement.record",
            f"pupil:{pupil.reference} year:{academic_year}",
            change={"before": _dates(before), "after": _dates(after), "complete": after.complete},
        )
        return after, pupils.devices_of_pupils(connection, [pupil.id])

    view, devices = await write(request, caller, work)
    reconcile_soon(request, f"agreement for {reference} {academic_year}", devices)
    return agreement_out(view)


@router.get(
    "/{reference}/agreements",
    summary="A pupil's home-use agreements, by academic year",
    responses=NOT_FOUND,
)
async def list_agreements(
    request: Request, caller: Reader, reference: PupilReference
) -> AgreementList:
    def work(connection: Connection) -> list[agreements.AgreementView]:
        pupil = pupils.named(connection, reference)
        require_reach(caller, pupil, "agreements")
        return agreements.of_pupil(connection, pupil.id, pupil.reference)

    views = await read(request, work)
    return AgreementList(agreements=[agreement_out(view) for view in views])
