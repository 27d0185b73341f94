"""Liveness and readiness probes, for load balancers, Docker's HEALTHCHECK and operators.

`/healthz` says the process answers; `/readyz` asks every component (the database today, the
connectors later) and answers 503 with the failing ones named. Both are open, for probes;
`/status` (figures about the school's iPads) needs a token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from mdm_bridge.api.auth import require
from mdm_bridge.api.problems import AUTH_PROBLEMS, problem
from mdm_bridge.permissions import Permission, Principal
from mdm_bridge.service import Service

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Every component can do its job",
    responses={503: {"description": "A component is not ready"}},
)
async def readyz(request: Request) -> Any:
    service: Service = request.app.state.service
    checks = await service.readiness()
    if all(checks.values()):
        return {"status": "ready", "checks": dict.fromkeys(checks, "ok")}
    failing = sorted(name for name, ok in checks.items() if not ok)
    return problem(
        503,
        "Not ready",
        f"not reachable: {', '.join(failing)}",
        checks={name: "ok" if ok else "failing" for name, ok in checks.items()},
    )


@router.get(
    "/status",
    summary="The last reconcile run, the latest curfew night, the outbox",
    responses={401: AUTH_PROBLEMS[401], 403: AUTH_PROBLEMS[403]},
)
async def status_(
    request: Request, caller: Annotated[Principal, Depends(require(Permission.STATUS_READ))]
) -> dict[str, Any]:
    service: Service = request.app.state.service
    figures = await service.status()
    return figures
