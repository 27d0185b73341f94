"""Bans over HTTP: a teacher bans a pupil in their classes; a senior leader approves the levels
that need a second person; staff lift early or extend, with a reason; everyone with the duty
lists them by pupil or class.

The matrix (`mdm_bridge.permissions`) says who may issue, approve or lift at all; the ban ladder
(`service.reconciling.current_policy().ban_ladder`) says which levels each role may issue and
approve; a teacher acts only on pupils in their own classes. The rules of a ban live in
`mdm_bridge.store.bans`; each change is recorded in the audit trail in its transaction and then
reconciles the pupil's iPads at once in the background, so a ban reaches the iPad in seconds
rather than at the next drift cycle. Also home to the field types and the reconcile-at-once
helper that the holds, exemptions and agreements routes share.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)
from sqlalchemy import Connection

from mdm_bridge.api.auth import forbidden, require, service_of
from mdm_bridge.api.context import Audit, read, write
from mdm_bridge.api.problems import AUTH_PROBLEMS, CONFLICT, NOT_FOUND
from mdm_bridge.api.types import (
    NO_CONTROL,
    ROW_ID,
    Category,
    Duration,
    Instant,
    Notes,
    Reason,
    Reference,
)
from mdm_bridge.permissions import Permission, Principal
from mdm_bridge.store import bans, pupils
from mdm_bridge.store.errors import FieldError
from policies import BanLadder, BanStatus, Policy
from policies.durations import parse_duration

ReferenceQuery = Annotated[str | None, Query(min_length=1, max_length=64, pattern=NO_CONTROL)]
ClassQuery = Annotated[str | None, Query(min_length=1, max_length=100, pattern=NO_CONTROL)]
AfterQuery = Annotated[int, Query(ge=0, le=ROW_ID, description="Only rows after this id")]
LimitQuery = Annotated[int, Query(ge=1, le=1000)]


def duration_of(text: str, field: str) -> timedelta:
    try:
        return parse_duration(text)
    except (ValueError, OverflowError) as error:
        message = str(error) if isinstance(error, ValueError) else f"{text!r} is far too long"
        raise FieldError(field, message) from None


def reconcile_soon(request: Request, trigger: str, device_ids: list[int]) -> None:
    """Reconcile these iPads now, in the background (the answer does not wait for the MDM);
    requests arriving during a run are merged into the next one (`Service.reconcile_soon`)."""
    if device_ids:
        service_of(request).reconcile_soon(trigger, device_ids)


def policy_of(request: Request) -> Policy:
    reconciling = service_of(request).reconciling
    assert reconciling is not None
    return reconciling.current_policy()


def require_reach(caller: Principal, pupil: pupils.PupilInfo, what: str) -> None:
    if not caller.reaches(pupil.classes):
        raise forbidden(f"{what}: pupil {pupil.reference} is not in your classes")


# -- models -----------------------------------------------------------------------------------
class BanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pupil: Reference = Field(description="The pupil's reference")
    level: int = Field(ge=1, le=100, description="Level on the ban ladder")
    reason: Reason = Field(description="What happened")
    category: Category = Field(description="The kind of misuse, e.g. inappropriate search")
    notes: Notes = ""
    duration: Duration | None = Field(
        default=None,
        description="How long, e.g. 2d or 48h (default: the level's); at most the level's maximum",
    )


class LiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why the ban ends early")


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: Instant | None = Field(default=None, description="The new end (or give duration)")
    duration: Duration | None = Field(
        default=None, description="How much longer than the current end, e.g. 1d (or give until)"
    )
    reason: Reason = Field(description="Why the ban is extended")


class BanOut(BaseModel):
    id: int
    pupil: str
    level: int
    level_name: str
    status: BanStatus
    needs_approval: bool
    suggested_level: int | None = Field(
        description="On issue: the level this pupil's recent history suggests (null elsewhere)"
    )
    reason: str
    category: str
    notes: str
    issued_by: str
    issued_at: datetime
    starts_at: datetime
    ends_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    lifted_by: str | None
    lifted_at: datetime | None
    lift_reason: str | None


class BanPage(BaseModel):
    bans: list[BanOut]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )


def ban_out(view: bans.BanView, ladder: BanLadder) -> BanOut:
    ban = view.ban
    level = ladder.effective_level(ban.level)
    return BanOut(
        id=int(ban.id),
        pupil=ban.pupil_reference,
        level=ban.level,
        level_name=level.name,
        status=view.status,
        needs_approval=level.needs_approval,
        suggested_level=view.suggested_level,
        reason=ban.reason,
        category=ban.category,
        notes=ban.notes,
        issued_by=ban.issued_by,
        issued_at=ban.issued_at,
        starts_at=ban.starts_at,
        ends_at=ban.ends_at,
        approved_by=ban.approved_by,
        approved_at=ban.approved_at,
        lifted_by=ban.lifted_by,
        lifted_at=ban.lifted_at,
        lift_reason=ban.lift_reason,
    )


def _target(ban: bans.BanView) -> str:
    return f"ban:{ban.ban.id} pupil:{ban.ban.pupil_reference} level:{ban.ban.level}"


# -- routes -----------------------------------------------------------------------------------
router = APIRouter(prefix="/api/v1/bans", tags=["bans"], responses=AUTH_PROBLEMS)
Reader = Annotated[Principal, Depends(require(Permission.BANS_READ))]
Issuer = Annotated[Principal, Depends(require(Permission.BAN_ISSUE))]
Approver = Annotated[Principal, Depends(require(Permission.BAN_APPROVE))]
Lifter = Annotated[Principal, Depends(require(Permission.BAN_LIFT))]
BanId = Annotated[int, Path(ge=1, le=ROW_ID)]


@router.post("", status_code=201, summary="Ban a pupil's iPads (level, reason, category)")
async def issue_ban(request: Request, caller: Issuer, body: BanIn) -> BanOut:
    ladder = policy_of(request).ladder
    length = duration_of(body.duration, "duration") if body.duration else None

    def work(connection: Connection, trail: Audit) -> tuple[bans.BanView, list[int]]:
        pupil = pupils.find(connection, body.pupil)
        require_reach(caller, pupil, "bans")
        try:
            rung = ladder.level(body.level)
        except ValueError as error:
            raise FieldError("level", str(error)) from None
        if caller.role not in rung.issuers:
            raise forbidden(f"the {caller.role.value} role may not issue level {body.level} bans")
        view = bans.issue(
            connection,
            ladder=ladder,
            pupil=pupil.reference,
            level=body.level,
            reason=body.reason,
            category=body.category,
            notes=body.notes,
            duration=length,
            issued_by=caller.user,
            now=trail.now,
        )
        ban = view.ban
        trail.record(
            "ban.issue",
            _target(view),
            reason=ban.reason,
            change={
                "level": ban.level,
                "category": ban.category,
                "status": view.status.value,
                "starts_at": ban.starts_at.isoformat(),
                "ends_at": ban.ends_at.isoformat(),
                "suggested_level": view.suggested_level,
            },
        )
        return view, bans.devices_of(connection, pupil.reference)

    view, devices = await write(request, caller, work)
    reconcile_soon(request, f"ban {view.ban.id} issued", devices)
    return ban_out(view, ladder)


@router.get(
    "",
    summary="Bans, by pupil or class, current or past, a page at a time",
    responses=NOT_FOUND,
)
async def list_bans(
    request: Request,
    caller: Reader,
    pupil: ReferenceQuery = None,
    class_name: Annotated[
        str | None, Query(alias="class", min_length=1, max_length=100, pattern=NO_CONTROL)
    ] = None,
    current: Annotated[
        bool | None, Query(description="true: in force or waiting; false: ended or lifted")
    ] = None,
    after: AfterQuery = 0,
    limit: LimitQuery = 100,
) -> BanPage:
    ladder = policy_of(request).ladder
    now = service_of(request).clock.now()

    def work(connection: Connection) -> list[bans.BanView]:
        if pupil is not None:
            require_reach(caller, pupils.named(connection, pupil, field="pupil"), "bans")
        if class_name is not None and caller.scoped and class_name not in caller.classes:
            raise forbidden(f"bans: class {class_name} is not one of yours")
        query = bans.BanQuery(
            pupil=pupil,
            class_name=class_name,
            classes=caller.classes if caller.scoped else None,
            current=current,
            after_id=after,
        )
        return bans.search(connection, ladder, now, query, limit=limit)

    views = await read(request, work)
    following = int(views[-1].ban.id) if len(views) == limit else None
    return BanPage(bans=[ban_out(view, ladder) for view in views], next_after=following)


@router.get("/{ban_id}", summary="One ban", responses=NOT_FOUND)
async def get_ban(request: Request, caller: Reader, ban_id: BanId) -> BanOut:
    ladder = policy_of(request).ladder
    now = service_of(request).clock.now()

    def work(connection: Connection) -> bans.BanView:
        require_reach(caller, bans.pupil_of(connection, ban_id), "bans")
        return bans.view(connection, ladder, ban_id, now)

    return ban_out(await read(request, work), ladder)


@router.post(
    "/{ban_id}/approve",
    summary="Approve a ban waiting for a second person",
    responses={**NOT_FOUND, **CONFLICT},
)
async def approve_ban(request: Request, caller: Approver, ban_id: BanId) -> BanOut:
    ladder = policy_of(request).ladder

    def work(connection: Connection, trail: Audit) -> tuple[bans.BanView, list[int]]:
        current = bans.view(connection, ladder, ban_id, trail.now)
        level = ladder.effective_level(current.ban.level)
        if current.status is BanStatus.AWAITING_APPROVAL and caller.role not in level.approvers:
            allowed = ", ".join(sorted(role.value for role in level.approvers))
            raise forbidden(f"level {current.ban.level} bans are approved by: {allowed}")
        view = bans.approve(
            connection, ladder=ladder, ban_id=ban_id, approved_by=caller.user, now=trail.now
        )
        trail.record(
            "ban.approve",
            _target(view),
            change={
                "status": {"before": current.status.value, "after": view.status.value},
                "issued_by": view.ban.issued_by,
                "ends_at": view.ban.ends_at.isoformat(),
            },
        )
        return view, bans.devices_of(connection, view.ban.pupil_reference)

    view, devices = await write(request, caller, work)
    reconcile_soon(request, f"ban {ban_id} approved", devices)
    return ban_out(view, ladder)


def _may_change(
    caller: Principal, connection: Connection, ladder: BanLadder, ban_id: int, now: datetime
) -> bans.BanView:
    """The ban as it is; a teacher lifts or extends only their own classes' bans, of levels
    they may issue (nobody undoes a ban they could not have given)."""
    require_reach(caller, bans.pupil_of(connection, ban_id), "bans")
    current = bans.view(connection, ladder, ban_id, now)
    level = current.ban.level
    if caller.scoped and caller.role not in ladder.effective_level(level).issuers:
        raise forbidden(f"the {caller.role.value} role may not change level {level} bans")
    return current


@router.post(
    "/{ban_id}/lift",
    summary="End a ban early, with a reason",
    responses={**NOT_FOUND, **CONFLICT},
)
async def lift_ban(request: Request, caller: Lifter, ban_id: BanId, body: LiftIn) -> BanOut:
    ladder = policy_of(request).ladder

    def work(connection: Connection, trail: Audit) -> tuple[bans.BanView, list[int]]:
        before = _may_change(caller, connection, ladder, ban_id, trail.now)
        view = bans.lift(
            connection,
            ladder=ladder,
            ban_id=ban_id,
            lifted_by=caller.user,
            reason=body.reason,
            now=trail.now,
        )
        trail.record(
            "ban.lift",
            _target(view),
            reason=body.reason.strip(),
            change={
                "status": {"before": before.status.value, "after": view.status.value},
                "ends_at": view.ban.ends_at.isoformat(),
                "lifted_at": trail.now.isoformat(),
            },
        )
        return view, bans.devices_of(connection, view.ban.pupil_reference)

    view, devices = await write(request, caller, work)
    reconcile_soon(request, f"ban {ban_id} lifted", devices)
    return ban_out(view, ladder)


@router.post(
    "/{ban_id}/extend",
    summary="Move a ban's end later (within its level's maximum), with a reason",
    responses={**NOT_FOUND, **CONFLICT},
)
async def extend_ban(request: Request, caller: Lifter, ban_id: BanId, body: ExtendIn) -> BanOut:
    ladder = policy_of(request).ladder
    if (body.until is None) == (body.duration is None):
        raise FieldError("until", "give either until or duration")
    longer = duration_of(body.duration, "duration") if body.duration else None

    def work(connection: Connection, trail: Audit) -> tuple[bans.BanView, list[int]]:
        before = _may_change(caller, connection, ladder, ban_id, trail.now)
        until = body.until
        if longer is not None:
            try:
                until = before.ban.ends_at + longer
            except OverflowError:
                raise FieldError("duration", "far too long") from None
        assert until is not None
        view = bans.extend(
            connection,
            ladder=ladder,
            ban_id=ban_id,
            until=until,
            reason=body.reason,
            now=trail.now,
        )
        trail.record(
            "ban.extend",
            _target(view),
            reason=body.reason.strip(),
            change={
                "ends_at": {
                    "before": before.ban.ends_at.isoformat(),
                    "after": view.ban.ends_at.isoformat(),
                }
            },
        )
        return view, bans.devices_of(connection, view.ban.pupil_reference)

    view, devices = await write(request, caller, work)
    reconcile_soon(request, f"ban {ban_id} extended", devices)
    return ban_out(view, ladder)
