"""Plan and reconcile over HTTP: what a run would do now or at a given time, and a run on demand.

`GET /api/v1/plan` (`Permission.PLAN_READ`) decides and plans every iPad from the stored
observations, as `mdm-bridge plan` does (`cli_school.describe_preview`), and answers in figures
plus the first iPads that would change; the MDM is not asked. `POST /api/v1/reconcile`
(`Permission.RECONCILE`) records the request in the audit trail, then runs the reconciler:
in the background (202) or, with `wait`, before answering with the run's summary (200).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
)
from sqlalchemy import Connection, select

from mdm_bridge.api.auth import require, service_of
from mdm_bridge.api.context import Audit, write
from mdm_bridge.api.devices import MAX_ID, ActionOut, action_out, reconciling
from mdm_bridge.api.problems import AUTH_PROBLEMS, NOT_FOUND
from mdm_bridge.model import ActionKind
from mdm_bridge.permissions import Permission, Principal
from mdm_bridge.reconcile.run import Preview, RunSummary
from mdm_bridge.store.devices_view import DEVICES
from mdm_bridge.store.errors import FieldError, NotFound

router = APIRouter(prefix="/api/v1", tags=["plan"], responses=AUTH_PROBLEMS)
Planner = Annotated[Principal, Depends(require(Permission.PLAN_READ))]
Runner = Annotated[Principal, Depends(require(Permission.RECONCILE))]
HORIZON = timedelta(days=366)
UNREACHABLE = timedelta(hours=48)  # as `mdm-bridge plan` counts it


class ReasonCount(BaseModel):
    kind: str
    reason: str
    count: int


class PlannedDevice(BaseModel):
    device_id: int
    serial: str
    actions: list[ActionOut]
    blocked: list[str]


class PlanOut(BaseModel):
    at: datetime
    zone: str
    in_curfew: bool
    curfew_until: datetime | None
    devices: int
    converged: int
    changing: int = Field(description="iPads a run would send something")
    actions: dict[str, int] = Field(description="Actions by kind")
    lock_causes: dict[str, int] = Field(description="Locks by cause (curfew, ban, hold...)")
    reasons: list[ReasonCount] = Field(description="Actions by kind and reason, most first")
    verdicts: dict[str, int] = Field(description="iPads by curfew verdict")
    blocked: dict[str, int] = Field(description="iPads that cannot be changed, by reason")
    unreachable: int = Field(description="iPads with no check-in for 48 hours or more")
    entries: list[PlannedDevice] = Field(description="The first `limit` iPads, changing first")
    more: bool = Field(description="More iPads change or are blocked than `entries` shows")


def describe(preview: Preview, zone: str, until: datetime | None, limit: int) -> PlanOut:
    actions = preview.actions
    kinds: Counter[str] = Counter({kind.value: 0 for kind in ActionKind})
    kinds.update(action.kind.value for action in actions)
    causes = Counter(a.lock.cause.value for a in actions if a.kind is ActionKind.LOCK and a.lock)
    reasons = Counter((a.kind.value, a.reason) for a in actions)
    blocked = Counter(d.plan.blocked[0] for d in preview.devices if d.plan.blocked)
    unreachable = sum(
        1
        for d in preview.devices
        if d.observed is not None
        and d.observed.last_check_in is not None
        and d.observed.last_check_in < preview.at - UNREACHABLE
    )
    notable = [d for d in preview.devices if d.plan.actions or d.plan.blocked]
    notable.sort(key=lambda d: (not d.plan.actions, d.record.device_id))
    return PlanOut(
        at=preview.at,
        zone=zone,
        in_curfew=until is not None,
        curfew_until=until,
        devices=len(preview.devices),
        converged=sum(1 for d in preview.devices if d.plan.converged),
        changing=sum(1 for d in preview.devices if d.plan.actions),
        actions=dict(kinds),
        lock_causes=dict(sorted(causes.items())),
        reasons=[
            ReasonCount(kind=kind, reason=reason, count=count)
            for (kind, reason), count in reasons.most_common()
        ],
        verdicts={v.value: n for v, n in sorted(preview.verdicts().items())},
        blocked=dict(blocked.most_common()),
        unreachable=unreachable,
        entries=[
            PlannedDevice(
                device_id=d.record.device_id,
                serial=d.record.facts.ref.serial_number,
                actions=[action_out(action) for action in d.plan.actions],
                blocked=list(d.plan.blocked),
            )
            for d in notable[:limit]
        ],
        more=len(notable) > limit,
    )


@router.get("/plan", summary="What a run now (or at `at`) would do, from stored observations")
async def get_plan(
    request: Request,
    caller: Planner,
    at: Annotated[
        AwareDatetime | None, Query(description="When (with a zone); default now, ± a year")
    ] = None,
    limit: Annotated[int, Query(ge=0, le=1000, description="iPads listed in `entries`")] = 50,
) -> PlanOut:
    now = service_of(request).clock.now()
    when = now if at is None else at
    try:
        out_of_range = abs(when - now) > HORIZON
    except OverflowError:
        out_of_range = True
    if out_of_range:
        raise FieldError("at", "must be within a year of now")
    service = reconciling(request)
    policy = service.current_policy()
    preview = await asyncio.to_thread(service.preview, when)
    period = policy.schedule.period_at(preview.at)
    return describe(preview, policy.schedule.zone, period.end if period else None, limit)


def _json_integer(value: object) -> object:
    """JSON's integers: 12 and 12.0, never "12", true or 12.5 (pydantic's lax mode takes some
    of those and its strict mode refuses 12.0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be an integer")
        return int(value)
    return value


DeviceId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_json_integer)]


class ReconcileRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    devices: Annotated[list[DeviceId], Field(min_length=1, max_length=10_000)] | None = Field(
        default=None, description="iPad ids; null: every iPad"
    )
    wait: StrictBool = Field(default=False, description="Answer with the run's summary once done")
    reason: StrictStr = Field(default="", max_length=500)


class RunOut(BaseModel):
    run_id: int
    trigger: str
    devices: int
    converged: int
    queued: int
    superseded: int
    blocked: int
    sent: int
    accepted: int
    pending: int
    failed: int
    refused: int
    already_done: int
    errors: list[str]


class Started(BaseModel):
    status: str = Field(description="Always 'started': the run goes on in the background")
    devices: list[int] | None


def run_out(summary: RunSummary) -> RunOut:
    sent = summary.sent
    return RunOut(
        run_id=summary.run_id,
        trigger=summary.trigger,
        devices=summary.devices,
        converged=summary.converged,
        queued=summary.queued,
        superseded=summary.superseded,
        blocked=summary.blocked,
        sent=sent.sent,
        accepted=sent.accepted,
        pending=sent.pending,
        failed=sent.failed,
        refused=sent.refused,
        already_done=sent.already_done,
        errors=summary.errors,
    )


@router.post(
    "/reconcile",
    summary="Reconcile every iPad (or some) now: observe, plan, send",
    response_model=RunOut,
    responses={
        202: {"model": Started, "description": "The run started in the background"},
        **NOT_FOUND,
    },
)
async def post_reconcile(
    request: Request,
    caller: Runner,
    body: Annotated[ReconcileRequest | None, Body()] = None,
) -> Any:
    asked = body or ReconcileRequest()
    devices = sorted(set(asked.devices)) if asked.devices is not None else None

    def record(connection: Connection, trail: Audit) -> None:
        if devices is not None:
            known = set(
                connection.execute(select(DEVICES.c.id).where(DEVICES.c.id.in_(devices))).scalars()
            )
            unknown = [device for device in devices if device not in known]
            if unknown:
                listed = ", ".join(map(str, unknown[:10]))
                raise NotFound("devices", f"no iPad with id {listed}")
        target = "reconcile:all" if devices is None else f"reconcile:{len(devices)} devices"
        change: dict[str, Any] = {"devices": devices, "wait": asked.wait}
        trail.record("reconcile.run", target, reason=asked.reason, change=change)

    await write(request, caller, record)
    service = service_of(request)
    trigger = f"api: {caller.user}"
    run = reconciling(request).reconcile(trigger, devices)
    if asked.wait:
        return run_out(await run)
    service.spawn(run, name="reconcile-api")
    return JSONResponse(Started(status="started", devices=devices).model_dump(), status_code=202)
