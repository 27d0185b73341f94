"""Control API, server side: clock, ticks, fault knobs, token expiry, request log, connections.

``install_mock_plumbing(app, vendor)`` is what every vendor front calls: it stores the vendor
context on the app, wraps the app in ``MockMiddleware`` and mounts both control routers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from mocks.clock import ManualClock
from mocks.common import control_devices
from mocks.common.control_devices import vendor_of
from mocks.common.faults import OverCapBehaviour
from mocks.common.middleware import MockMiddleware
from mocks.common.vendor import MockVendor
from mocks.truth import iso

router = APIRouter(prefix="/_mock", tags=["mock control"])


class FaultPatch(BaseModel):
    """Only the fields sent change; names match ``GET /_mock/faults``."""

    model_config = ConfigDict(extra="forbid")
    latencyMs: float | None = Field(default=None, ge=0)
    jitterMs: float | None = Field(default=None, ge=0)
    errorShare: float | None = Field(default=None, ge=0, le=1)
    errorStatuses: list[int] | None = None
    rateLimitShare: float | None = Field(default=None, ge=0, le=1)
    rateLimitBurst: int | None = Field(default=None, ge=1)
    retryAfterSeconds: int | None = Field(default=None, ge=1)
    connectionCap: int | None = Field(default=None, ge=1)
    overCap: OverCapBehaviour | None = None
    overCapDelayMs: float | None = Field(default=None, ge=0)
    conflictOnOverlap: bool | None = None
    dropShare: float | None = Field(default=None, ge=0, le=1)
    checkinSlowdown: float | None = Field(default=None, ge=1)


_SETTING_NAMES = {
    "latencyMs": "latency_ms",
    "jitterMs": "jitter_ms",
    "errorShare": "error_share",
    "errorStatuses": "error_statuses",
    "rateLimitShare": "rate_limit_share",
    "rateLimitBurst": "rate_limit_burst",
    "retryAfterSeconds": "retry_after_seconds",
    "connectionCap": "connection_cap",
    "overCap": "over_cap",
    "overCapDelayMs": "over_cap_delay_ms",
    "conflictOnOverlap": "conflict_on_overlap",
    "dropShare": "drop_share",
}


class FleetPatch(BaseModel):
    """Fleet behaviours the vendors leave undocumented, switchable at run time."""

    model_config = ConfigDict(extra="forbid")
    requeueNotNow: bool | None = None
    checkinSlowdown: float | None = Field(default=None, ge=1)


class BurstRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(ge=1)
    retryAfterSeconds: int = Field(default=2, ge=1)


class AdvanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(gt=0)


def describe_faults(vendor: MockVendor) -> dict[str, Any]:
    return vendor.faults.describe() | {"checkinSlowdown": vendor.fleet.checkin_slowdown}


@router.get("/faults")
async def get_faults(request: Request) -> dict[str, Any]:
    return describe_faults(vendor_of(request))


@router.patch("/faults")
async def patch_faults(request: Request, body: FaultPatch) -> dict[str, Any]:
    vendor = vendor_of(request)
    sent = body.model_dump(exclude_none=True)
    if "checkinSlowdown" in sent:
        vendor.fleet.checkin_slowdown = float(sent.pop("checkinSlowdown"))
    changes = {_SETTING_NAMES[key]: value for key, value in sent.items()}
    if "error_statuses" in changes:
        statuses = tuple(changes["error_statuses"])
        if not statuses or any(not 500 <= s <= 599 for s in statuses):
            raise HTTPException(status_code=400, detail="errorStatuses must be 5xx codes")
        changes["error_statuses"] = statuses
    vendor.faults.settings = vendor.faults.settings.updated(changes)
    return describe_faults(vendor)


def describe_fleet(vendor: MockVendor) -> dict[str, Any]:
    fleet = vendor.fleet
    return {"requeueNotNow": fleet.requeue_not_now, "checkinSlowdown": fleet.checkin_slowdown}


@router.get("/fleet")
async def get_fleet(request: Request) -> dict[str, Any]:
    return describe_fleet(vendor_of(request))


@router.patch("/fleet")
async def patch_fleet(request: Request, body: FleetPatch) -> dict[str, Any]:
    vendor = vendor_of(request)
    if body.requeueNotNow is not None:
        vendor.fleet.requeue_not_now = body.requeueNotNow
    if body.checkinSlowdown is not None:
        vendor.fleet.checkin_slowdown = body.checkinSlowdown
    return describe_fleet(vendor)


@router.post("/faults/rate-limit-burst")
async def rate_limit_burst(request: Request, body: BurstRequest) -> dict[str, Any]:
    vendor = vendor_of(request)
    vendor.faults.start_rate_limit_burst(
        vendor.fleet.now(), count=body.count, retry_after=body.retryAfterSeconds
    )
    return describe_faults(vendor)


@router.post("/tokens/expire")
async def expire_tokens(request: Request) -> dict[str, int]:
    return {"expired": vendor_of(request).expire_all_tokens()}


@router.get("/clock")
async def get_clock(request: Request) -> dict[str, Any]:
    vendor = vendor_of(request)
    return {"now": iso(vendor.fleet.now()), "manual": isinstance(vendor.clock, ManualClock)}


@router.post("/clock/advance")
async def advance_clock(request: Request, body: AdvanceRequest) -> dict[str, Any]:
    vendor = vendor_of(request)
    if not isinstance(vendor.clock, ManualClock):
        raise HTTPException(status_code=409, detail="the mock runs on the real clock")
    vendor.clock.advance(body.seconds)
    check_ins = vendor.fleet.tick()
    return {"now": iso(vendor.fleet.now()), "checkIns": check_ins}


@router.post("/tick")
async def tick(request: Request) -> dict[str, Any]:
    vendor = vendor_of(request)
    return {"now": iso(vendor.fleet.now()), "checkIns": vendor.fleet.tick()}


@router.get("/requests")
async def get_requests(
    request: Request,
    since: int = Query(0, ge=0),
    limit: int = Query(1000, ge=1, le=20_000),
) -> dict[str, Any]:
    log = vendor_of(request).log
    return {"total": log.total, "requests": [r.as_json() for r in log.since(since, limit)]}


@router.delete("/requests", status_code=204)
async def clear_requests(request: Request) -> None:
    vendor_of(request).log.clear()


@router.get("/connections")
async def get_connections(request: Request) -> dict[str, Any]:
    vendor = vendor_of(request)
    gauge = vendor.gauge
    return {
        "inFlight": gauge.in_flight,
        "peak": gauge.peak,
        "cap": vendor.faults.settings.connection_cap,
        "overCap": gauge.over_cap,
    }


@router.post("/connections/reset")
async def reset_connections(request: Request) -> dict[str, Any]:
    vendor_of(request).gauge.reset()
    return await get_connections(request)


@router.get("")
async def overview(request: Request) -> dict[str, Any]:
    vendor = vendor_of(request)
    return {
        "vendor": vendor.name,
        "devices": len(vendor.fleet.devices),
        "unenrolled": len(vendor.fleet.unenrolled),
        "now": iso(vendor.fleet.now()),
    }


def install_mock_plumbing(app: FastAPI, vendor: MockVendor) -> None:
    """Give a vendor app the fault/log middleware and the ``/_mock/`` control API."""
    app.state.mock_vendor = vendor
    app.include_router(router)
    app.include_router(control_devices.router)
    app.add_middleware(MockMiddleware, vendor=vendor)
