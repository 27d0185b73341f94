"""Exemptions over HTTP (R34): a teacher asks for extra sites for a class they teach, or for a
pupil's iPad to stay usable through the curfew, with a reason and an end; a technician or the
DSL approves (never the person who asked); it expires on its own at its end.

`EXEMPTION_REQUEST` asks (a teacher only for their own classes and pupils), `EXEMPTION_APPROVE`
approves, `EXEMPTIONS_READ` lists. The rules live in `mdm_bridge.store.exemptions`; each change
is audited in its transaction, and an approval reconciles the iPads it reaches at once. Expiry
needs nobody: `desired_state` ignores an exemption past its end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Connection

from mdm_bridge.api.auth import forbidden, require, service_of
from mdm_bridge.api.bans import AfterQuery, LimitQuery, reconcile_soon, require_reach
from mdm_bridge.api.context import Audit, read, write
from mdm_bridge.api.problems import AUTH_PROBLEMS, CONFLICT, NOT_FOUND
from mdm_bridge.api.types import ROW_ID, ClassName, Instant, Reason, Reference
from mdm_bridge.permissions import Permission, Principal
from mdm_bridge.store import exemptions, pupils
from mdm_bridge.store.exemptions import ExemptionStatus
from policies import ExemptionKind

router = APIRouter(prefix="/api/v1/exemptions", tags=["exemptions"], responses=AUTH_PROBLEMS)
Requester = Annotated[Principal, Depends(require(Permission.EXEMPTION_REQUEST))]
Approver = Annotated[Principal, Depends(require(Permission.EXEMPTION_APPROVE))]
Reader = Annotated[Principal, Depends(require(Permission.EXEMPTIONS_READ))]
ExemptionId = Annotated[int, Path(ge=1, le=ROW_ID)]
Site = Annotated[str, StringConstraints(min_length=1, max_length=253)]


class ExemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ExemptionKind = Field(
        description="web_allow: extra sites for a class; curfew: one pupil's iPad stays usable"
    )
    group: ClassName | None = Field(default=None, description="web_allow: the class")
    pupil: Reference | None = Field(default=None, description="curfew: the pupil's reference")
    domains: list[Site] = Field(
        default_factory=list,
        max_length=exemptions.MOST_DOMAINS,
        description="web_allow: sites to allow, e.g. www.bbc.co.uk/bitesize (no https://)",
    )
    reason: Reason = Field(description="What it is for, e.g. topic: the Romans")
    starts_at: Instant | None = Field(default=None, description="Default: now")
    ends_at: Instant = Field(description="When it ends by itself (at most 90 days)")


class ExemptionOut(BaseModel):
    id: int
    kind: ExemptionKind
    status: ExemptionStatus
    group: str | None
    pupil: str | None
    domains: list[str]
    reason: str
    requested_by: str
    requested_at: datetime
    starts_at: datetime
    ends_at: datetime
    approved_by: str | None
    approved_at: datetime | None


class ExemptionPage(BaseModel):
    exemptions: list[ExemptionOut]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )


def exemption_out(view: exemptions.ExemptionView) -> ExemptionOut:
    return ExemptionOut(
        id=view.id,
        kind=view.kind,
        status=view.status,
        group=view.group,
        pupil=view.pupil,
        domains=list(view.domains),
        reason=view.reason,
        requested_by=view.requested_by,
        requested_at=view.requested_at,
        starts_at=view.starts_at,
        ends_at=view.ends_at,
        approved_by=view.approved_by,
        approved_at=view.approved_at,
    )


def _target(view: exemptions.ExemptionView) -> str:
    whom = f"class:{view.group}" if view.group else f"pupil:{view.pupil}"
    return f"exemption:{view.id} {view.kind.value} {whom}"


@router.post("", status_code=201, summary="Ask for a time-limited exemption (awaits approval)")
async def request_exemption(request: Request, caller: Requester, body: ExemptionIn) -> ExemptionOut:
    def work(connection: Connection, trail: Audit) -> exemptions.ExemptionView:
        web = body.kind is ExemptionKind.WEB_ALLOW
        if web and body.group and caller.scoped and body.group not in caller.classes:
            raise forbidden(f"exemptions: class {body.group} is not one of yours")
        if body.kind is ExemptionKind.CURFEW and body.pupil:
            require_reach(caller, pupils.find(connection, body.pupil), "exemptions")
        view = exemptions.request(
            connection,
            kind=body.kind,
            group=body.group,
            pupil=body.pupil,
            domains=body.domains,
            reason=body.reason,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            requested_by=caller.user,
            now=trail.now,
        )
        trail.record(
            "exemption.request",
            _target(view),
            reason=view.reason,
            change={
                "kind": view.kind.value,
                "domains": list(view.domains),
                "starts_at": view.starts_at.isoformat(),
                "ends_at": view.ends_at.isoformat(),
            },
        )
        return view

    return exemption_out(await write(request, caller, work))


@router.post(
    "/{exemption_id}/approve",
    summary="Approve an exemption someone else asked for; it applies at once",
    responses={**NOT_FOUND, **CONFLICT},
)
async def approve_exemption(
    request: Request, caller: Approver, exemption_id: ExemptionId
) -> ExemptionOut:
    def work(connection: Connection, trail: Audit) -> tuple[exemptions.ExemptionView, list[int]]:
        view = exemptions.approve(
            connection, exemption_id=exemption_id, approved_by=caller.user, now=trail.now
        )
        trail.record(
            "exemption.approve",
            _target(view),
            change={
                "status": {"before": "awaiting_approval", "after": view.status.value},
                "requested_by": view.requested_by,
                "ends_at": view.ends_at.isoformat(),
            },
        )
        return view, exemptions.devices_reached(connection, view)

    view, devices = await write(request, caller, work)
    reconcile_soon(request, f"exemption {exemption_id} approved", devices)
    return exemption_out(view)


@router.get("", summary="Exemptions, by status, a page at a time")
async def list_exemptions(
    request: Request,
    caller: Reader,
    status: Annotated[ExemptionStatus | None, Query()] = None,
    after: AfterQuery = 0,
    limit: LimitQuery = 100,
) -> ExemptionPage:
    now = service_of(request).clock.now()

    def work(connection: Connection) -> list[exemptions.ExemptionView]:
        return exemptions.search(
            connection,
            now,
            status=status,
            classes=caller.classes if caller.scoped else None,
            after_id=after,
            limit=limit,
        )

    views = await read(request, work)
    following = views[-1].id if len(views) == limit else None
    return ExemptionPage(exemptions=[exemption_out(view) for view in views], next_after=following)
