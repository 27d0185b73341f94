"""Lock now and evidence holds over HTTP (R57): staff lock one iPad at once, for inspection or
frozen as evidence; it stays locked until someone with the duty releases it, with a reason.

Placing needs `Permission.DEVICE_LOCK` (a teacher only for their own classes' iPads);
releasing an inspection lock `INSPECTION_RELEASE`, an evidence hold `EVIDENCE_RELEASE` (a
senior leader or the DSL: not a technician, nor the teacher who placed it). The rules live in
`mdm_bridge.store.holds`; each change is audited in its transaction and reconciles that iPad
at once. There is deliberately no way to erase, unenroll or clear a passcode: the action
vocabulary (`mdm_bridge.model.ActionKind`) has no such command.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from mdm_bridge.api.auth import forbidden, require
from mdm_bridge.api.bans import AfterQuery, LimitQuery, reconcile_soon
from mdm_bridge.api.context import Audit, read, write
from mdm_bridge.api.problems import AUTH_PROBLEMS, CONFLICT, NOT_FOUND
from mdm_bridge.api.types import ROW_ID, Reason
from mdm_bridge.permissions import Permission, Principal, allowed
from mdm_bridge.store import holds, pupils
from policies import HoldKind

router = APIRouter(prefix="/api/v1", tags=["holds"], responses=AUTH_PROBLEMS)
Locker = Annotated[Principal, Depends(require(Permission.DEVICE_LOCK))]
# Everyone who may release any hold may release an inspection lock; evidence is checked below.
Releaser = Annotated[Principal, Depends(require(Permission.INSPECTION_RELEASE))]
Reader = Annotated[Principal, Depends(require(Permission.HOLDS_READ))]
DeviceId = Annotated[int, Path(ge=1, le=ROW_ID)]
HoldId = Annotated[int, Path(ge=1, le=ROW_ID)]


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: HoldKind = Field(description="inspection: lock now; evidence_hold: freeze as evidence")
    reason: Reason = Field(description="Why the iPad is held")


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why the hold ends")


class HoldOut(BaseModel):
    id: int
    device_id: int
    serial_number: str
    kind: HoldKind
    active: bool
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None


class HoldPage(BaseModel):
    holds: list[HoldOut]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )


def hold_out(view: holds.HoldView) -> HoldOut:
    return HoldOut(
        id=view.id,
        device_id=view.device_id,
        serial_number=view.serial_number,
        kind=view.kind,
        active=view.active,
        reason=view.reason,
        placed_by=view.placed_by,
        placed_at=view.placed_at,
        released_by=view.released_by,
        released_at=view.released_at,
        release_reason=view.release_reason,
    )


def _reach(caller: Principal, device: pupils.DeviceInfo) -> None:
    if not caller.reaches(device.classes):
        raise forbidden(f"holds: iPad {device.id} is not one of your classes' iPads")


def _target(view: holds.HoldView) -> str:
    return f"hold:{view.id} device:{view.device_id} serial:{view.serial_number}"


@router.post(
    "/devices/{device_id}/holds",
    status_code=201,
    summary="Lock one iPad now, for inspection or as an evidence hold",
    responses={**NOT_FOUND, **CONFLICT},
)
async def place_hold(
    request: Request, caller: Locker, device_id: DeviceId, body: HoldIn
) -> HoldOut:
    def work(connection: Connection, trail: Audit) -> holds.HoldView:
        _reach(caller, pupils.device(connection, device_id))
        view = holds.place(
            connection,
            device_id=device_id,
            kind=body.kind,
            reason=body.reason,
            placed_by=caller.user,
            now=trail.now,
        )
        trail.record(
            "hold.place",
            _target(view),
            reason=view.reason,
            change={"kind": view.kind.value, "locked": True},
        )
        return view

    view = await write(request, caller, work)
    reconcile_soon(request, f"hold {view.id} placed", [device_id])
    return hold_out(view)


@router.post(
    "/holds/{hold_id}/release",
    summary="Release a hold (an evidence hold only by a senior leader or the DSL)",
    responses={**NOT_FOUND, **CONFLICT},
)
async def release_hold(
    request: Request, caller: Releaser, hold_id: HoldId, body: ReleaseIn
) -> HoldOut:
    def work(connection: Connection, trail: Audit) -> holds.HoldView:
        current = holds.get(connection, hold_id)
        if current.kind is HoldKind.EVIDENCE_HOLD and not allowed(
            caller.role, Permission.EVIDENCE_RELEASE
        ):
            raise forbidden("only a senior leader or the DSL may release an evidence hold")
        _reach(caller, pupils.device(connection, current.device_id))
        view = holds.release(
            connection, hold_id=hold_id, released_by=caller.user, reason=body.reason, now=trail.now
        )
        trail.record(
            "hold.release",
            _target(view),
            reason=body.reason.strip(),
            change={"kind": view.kind.value, "placed_by": view.placed_by, "locked": False},
        )
        return view

    view = await write(request, caller, work)
    reconcile_soon(request, f"hold {hold_id} released", [view.device_id])
    return hold_out(view)


@router.get("/holds", summary="Holds, by iPad, active or released, a page at a time")
async def list_holds(
    request: Request,
    caller: Reader,
    device: Annotated[int | None, Query(ge=1, le=ROW_ID, description="An iPad's id")] = None,
    active: Annotated[bool | None, Query(description="true: not released yet")] = None,
    after: AfterQuery = 0,
    limit: LimitQuery = 100,
) -> HoldPage:
    def work(connection: Connection) -> list[holds.HoldView]:
        return holds.search(
            connection,
            device_id=device,
            active=active,
            classes=caller.classes if caller.scoped else None,
            after_id=after,
            limit=limit,
        )

    views = await read(request, work)
    following = views[-1].id if len(views) == limit else None
    return HoldPage(holds=[hold_out(view) for view in views], next_after=following)
