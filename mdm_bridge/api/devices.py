"""The iPads over HTTP: a filtered list, and one iPad's desired versus observed state and history.

For staff, auditors and the service token (`Permission.DEVICES_READ`); a teacher sees only the
iPads of pupils in their classes (others answer 403). The rows come from
`store.devices_view`; whether an iPad has drifted (a run would send it something now) comes
from the reconciler's preview over the stored observations, for the page's iPads only: the MDM
is never asked by a read.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from mdm_bridge.api.auth import forbidden, require, service_of
from mdm_bridge.api.context import read
from mdm_bridge.api.problems import AUTH_PROBLEMS, NOT_FOUND
from mdm_bridge.api.types import MAX_ROW_ID
from mdm_bridge.model import Action
from mdm_bridge.permissions import Permission, Principal
from mdm_bridge.reconcile.run import DeviceOutcome
from mdm_bridge.service import Reconciling
from mdm_bridge.store import devices_view
from mdm_bridge.store.bans import ban_from_row
from policies import academic_year_of, ban_status

router = APIRouter(prefix="/api/v1/devices", tags=["devices"], responses=AUTH_PROBLEMS)
Reader = Annotated[Principal, Depends(require(Permission.DEVICES_READ))]
MAX_ID = MAX_ROW_ID
CurfewOutcome = Literal["on_time", "late", "never", "not_applicable"]
# With the drift filter, a request looks at this many iPads at most (in batches), so its cost
# is bounded whatever the fleet: a page may then hold fewer than `limit`; follow `next_after`.
DRIFT_BATCH = 500
DRIFT_SCAN = 5000


class PupilOut(BaseModel):
    reference: str
    name: str
    classes: list[str]


class DeviceItem(BaseModel):
    id: int
    serial: str
    name: str
    mdm: str = Field(description="The MDM connection that manages it")
    pupil: PupilOut | None
    takes_home: bool = Field(description="The school lets this iPad go home")
    home_use: bool = Field(
        description="Takes home and both parts of this academic year's agreement are on record"
    )
    supervised: bool
    last_check_in: datetime | None
    observed_at: datetime | None
    lock: str | None = Field(description="As last observed; null when never observed")
    curfew_night: date | None = Field(description="The latest curfew night begun")
    curfew_outcome: CurfewOutcome | None = Field(description="This iPad's outcome that night")
    curfew_reason: str
    drift: bool | None = Field(
        description="A run now would send it something; null when its MDM is not connected"
    )
    planned_actions: int | None


class DevicePage(BaseModel):
    devices: list[DeviceItem]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null when no iPad is left"
    )


class LockOut(BaseModel):
    cause: str
    message: str
    until: datetime | None


class ProfileOut(BaseModel):
    identifier: str
    content_hash: str
    removal_date: datetime | None


class ActionOut(BaseModel):
    kind: str
    reason: str
    profile: str | None
    lock_cause: str | None


class DesiredOut(BaseModel):
    lock: LockOut | None
    profiles: list[ProfileOut]
    home_use: bool
    curfew: str = Field(description="not_home_use, exempt, in_curfew or out_of_curfew")
    reasons: list[str]
    next_change_at: datetime | None


class PendingOut(BaseModel):
    kind: str
    queued_at: datetime


class ObservedOut(BaseModel):
    observed_at: datetime
    supervised: bool
    lock: str
    profiles: list[str]
    groups: list[str]
    last_check_in: datetime | None
    pending_commands: list[PendingOut]


class PlanOut(BaseModel):
    converged: bool
    actions: list[ActionOut] = Field(description="What a run would send it now, in order")
    blocked: list[str] = Field(description="What cannot be done for it, in words")


class SentOut(BaseModel):
    id: int
    kind: str
    profile: str | None
    reason: str
    status: str
    outcome: str | None
    detail: str
    attempts: int
    run_id: int | None
    created_at: datetime
    finished_at: datetime | None


class NightOut(BaseModel):
    night: date
    starts_at: datetime
    ends_at: datetime
    outcome: str
    reason: str
    locked_seen_at: datetime | None


class HoldOut(BaseModel):
    id: int
    kind: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None


class BanOut(BaseModel):
    id: int
    level: int
    category: str
    status: str
    starts_at: datetime
    ends_at: datetime
    issued_by: str
    approved_by: str | None
    lifted_at: datetime | None


class HistoryOut(BaseModel):
    actions: list[SentOut] = Field(description="Recent outbox actions, newest first")
    nights: list[NightOut] = Field(description="Recent curfew nights, newest first")
    holds: list[HoldOut]
    bans: list[BanOut] = Field(description="The pupil's bans (a summary), newest first")


class DeviceDetail(BaseModel):
    device: DeviceItem
    desired: DesiredOut | None = Field(description="Null when its MDM is not connected")
    observed: ObservedOut | None = Field(description="Null until the MDM has been asked")
    plan: PlanOut | None
    history: HistoryOut


def reconciling(request: Request) -> Reconciling:
    service = service_of(request)
    assert service.reconciling is not None, "the service builds its reconciler"
    return service.reconciling


def today_of(request: Request, connection: Connection) -> devices_view.Today:
    now = service_of(request).clock.now()
    policy = reconciling(request).current_policy()
    day = policy.schedule.local_day(now)
    return devices_view.Today(
        academic_year=academic_year_of(day, policy.academic_year_starts_month),
        day=day,
        night=devices_view.last_night(connection, now),
    )


async def preview_of(request: Request, device_ids: list[int]) -> dict[int, DeviceOutcome]:
    """What a run now would do to these iPads (stored observations; the MDM is not asked)."""
    if not device_ids:
        return {}
    now = service_of(request).clock.now()
    preview = await asyncio.to_thread(reconciling(request).preview, now, device_ids)
    return {outcome.record.device_id: outcome for outcome in preview.devices}


def action_out(action: Action) -> ActionOut:
    return ActionOut(
        kind=action.kind.value,
        reason=action.reason,
        profile=action.profile.identifier if action.profile else None,
        lock_cause=action.lock.cause.value if action.lock else None,
    )


async def _page(
    request: Request, filters: devices_view.DeviceFilter, today: devices_view.Today, size: int
) -> list[devices_view.DeviceSummary]:
    return await read(request, lambda c: devices_view.list_devices(c, filters, today, limit=size))


def _item(summary: devices_view.DeviceSummary, outcome: DeviceOutcome | None) -> DeviceItem:
    pupil = summary.pupil
    return DeviceItem(
        id=summary.id,
        serial=summary.serial,
        name=summary.name,
        mdm=summary.mdm,
        pupil=None
        if pupil is None
        else PupilOut(reference=pupil.reference, name=pupil.name, classes=sorted(pupil.classes)),
        takes_home=summary.takes_home,
        home_use=summary.home_use,
        supervised=summary.supervised,
        last_check_in=summary.last_check_in,
        observed_at=summary.observed_at,
        lock=summary.lock,
        curfew_night=summary.night,
        curfew_outcome=summary.curfew,
        curfew_reason=summary.curfew_reason,
        drift=None if outcome is None else bool(outcome.plan.actions),
        planned_actions=None if outcome is None else len(outcome.plan.actions),
    )


@router.get("", summary="iPads, filtered, a page at a time in id order")
async def list_devices(
    request: Request,
    caller: Reader,
    class_name: Annotated[
        str | None, Query(alias="class", min_length=1, max_length=100, description="A class")
    ] = None,
    home_use: Annotated[bool | None, Query(description="See `home_use` on each iPad")] = None,
    curfew: Annotated[CurfewOutcome | None, Query(description="Last night's outcome")] = None,
    drift: Annotated[
        bool | None,
        Query(
            description=f"Only iPads a run would (true) or would not (false) change now. "
            f"Looks at {DRIFT_SCAN} iPads at most per request: a page may hold fewer than "
            f"`limit` while `next_after` is not null"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="Only iPads after this id")] = 0,
) -> DevicePage:
    reach = frozenset(caller.classes) if caller.scoped else None

    today = await read(request, lambda c: today_of(request, c))
    filters = devices_view.DeviceFilter(
        class_name=class_name, home_use=home_use, curfew=curfew, reach=reach, after=after
    )
    if drift is None:
        rows = await _page(request, filters, today, limit)
        outcomes = await preview_of(request, [row.id for row in rows])
        items = [_item(row, outcomes.get(row.id)) for row in rows]
        following = rows[-1].id if len(rows) == limit else None
        return DevicePage(devices=items, next_after=following)
    return await _drifted(request, today, filters, drift, limit)


async def _drifted(
    request: Request,
    today: devices_view.Today,
    filters: devices_view.DeviceFilter,
    drift: bool,
    limit: int,
) -> DevicePage:
    """Scan from `filters.after` in batches, keeping the iPads whose drift is `drift`."""
    kept: list[DeviceItem] = []
    cursor, scanned = filters.after, 0
    while scanned < DRIFT_SCAN:
        batch = replace(filters, after=cursor)
        rows = await _page(request, batch, today, DRIFT_BATCH)
        outcomes = await preview_of(request, [row.id for row in rows])
        for row in rows:
            item = _item(row, outcomes.get(row.id))
            if item.drift is drift:
                kept.append(item)
                if len(kept) == limit:
                    return DevicePage(devices=kept, next_after=item.id)
        if len(rows) < DRIFT_BATCH:
            return DevicePage(devices=kept, next_after=None)
        cursor, scanned = rows[-1].id, scanned + len(rows)
    return DevicePage(devices=kept, next_after=cursor)


@router.get(
    "/{device_id}",
    summary="One iPad: desired versus observed state, what a run would do, and its history",
    responses=NOT_FOUND,
)
async def get_device(
    request: Request,
    caller: Reader,
    device_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> DeviceDetail:
    def look(connection: Connection) -> tuple[devices_view.DeviceSummary, devices_view.History]:
        summary = devices_view.device_summary(connection, device_id, today_of(request, connection))
        if not caller.reaches(summary.classes):
            raise forbidden(f"iPad {device_id} is not in one of your classes")
        pupil_id = summary.pupil.id if summary.pupil else None
        return summary, devices_view.history(connection, device_id, pupil_id)

    summary, history = await read(request, look)
    outcome = (await preview_of(request, [device_id])).get(device_id)
    return DeviceDetail(
        device=_item(summary, outcome),
        desired=_desired(outcome),
        observed=_observed(outcome),
        plan=None
        if outcome is None
        else PlanOut(
            converged=outcome.plan.converged,
            actions=[action_out(action) for action in outcome.plan.actions],
            blocked=list(outcome.plan.blocked),
        ),
        history=_history(request, summary, history),
    )


def _desired(outcome: DeviceOutcome | None) -> DesiredOut | None:
    if outcome is None:
        return None
    decision = outcome.decision
    lock = decision.desired.lock
    return DesiredOut(
        lock=None
        if lock is None
        else LockOut(cause=lock.cause.value, message=lock.message, until=lock.until),
        profiles=[
            ProfileOut(
                identifier=p.identifier, content_hash=p.content_hash, removal_date=p.removal_date
            )
            for p in sorted(decision.desired.profiles, key=lambda p: p.identifier)
        ],
        home_use=decision.home_use,
        curfew=decision.curfew.value,
        reasons=list(decision.reasons),
        next_change_at=decision.desired.next_change_at,
    )


def _observed(outcome: DeviceOutcome | None) -> ObservedOut | None:
    observed = outcome.observed if outcome is not None else None
    if observed is None:
        return None
    return ObservedOut(
        observed_at=observed.observed_at,
        supervised=observed.supervised,
        lock=observed.lock.value,
        profiles=sorted(observed.profiles),
        groups=sorted(observed.groups),
        last_check_in=observed.last_check_in,
        pending_commands=[
            PendingOut(kind=c.kind, queued_at=c.queued_at) for c in observed.pending_commands
        ],
    )


def _history(
    request: Request, summary: devices_view.DeviceSummary, history: devices_view.History
) -> HistoryOut:
    now = service_of(request).clock.now()
    ladder = reconciling(request).current_policy().ladder
    reference = summary.pupil.reference if summary.pupil else ""
    bans = []
    for row in history.bans:
        ban = ban_from_row(_Row(row), reference)
        bans.append(
            BanOut(
                id=row["id"],
                level=ban.level,
                category=ban.category,
                status=ban_status(ban, ladder, now).value,
                starts_at=ban.starts_at,
                ends_at=ban.ends_at,
                issued_by=ban.issued_by,
                approved_by=ban.approved_by,
                lifted_at=ban.lifted_at,
            )
        )
    return HistoryOut(
        actions=[
            SentOut(profile=row["profile_identifier"], **_without(row, "profile_identifier"))
            for row in history.actions
        ],
        nights=[NightOut(**row) for row in history.nights],
        holds=[HoldOut(**_without(row, "device_id")) for row in history.holds],
        bans=bans,
    )


class _Row:
    """A mapping read as attributes (what `ban_from_row` expects of a result row)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _without(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in names}
