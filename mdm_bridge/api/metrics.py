"""`GET /metrics`: the service's figures in the Prometheus text format (0.0.4).

For Prometheus (the service token) and technicians (`Permission.METRICS_READ`). The figures,
and where each comes from, are in `mdm_bridge.metrics`; rendering queries the database, so it
runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from mdm_bridge.api.auth import require, service_of
from mdm_bridge.api.problems import AUTH_PROBLEMS
from mdm_bridge.metrics import CONTENT_TYPE
from mdm_bridge.permissions import Permission, Principal

router = APIRouter(tags=["metrics"], responses=AUTH_PROBLEMS)
Scraper = Annotated[Principal, Depends(require(Permission.METRICS_READ))]


@router.get(
    "/metrics",
    summary="Reconcile durations, actions by outcome, curfew outcomes, connector errors",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
            "description": "The Prometheus text exposition format, version 0.0.4",
        }
    },
)
async def metrics(request: Request, caller: Scraper) -> Response:
    figures = service_of(request).metrics
    assert figures is not None, "the service builds its metrics"
    body = await asyncio.to_thread(figures.render)
    return Response(content=body, media_type=CONTENT_TYPE)
