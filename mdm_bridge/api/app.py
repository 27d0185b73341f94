"""The FastAPI app factory.

`create_app(settings, clock=…)` wires the routers and a lifespan that builds the `Service`
(composition root), starts its components and stops them on shutdown. Tests enter the lifespan
with `app.router.lifespan_context(app)` and talk to the app through `httpx.ASGITransport`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI

from mdm_bridge import __version__
from mdm_bridge.api import (
    agreements,
    audit,
    bans,
    devices,
    exemptions,
    health,
    holds,
    mdm,
    metrics,
    plan,
    policy,
)
from mdm_bridge.api.problems import install_problem_handlers
from mdm_bridge.api.strict_query import reject_unknown_query
from mdm_bridge.clock import Clock, SystemClock
from mdm_bridge.connections import new_client
from mdm_bridge.service import Service
from mdm_bridge.settings import Settings

ROUTERS = (devices, policy, bans, holds, exemptions, agreements, audit, plan, mdm, metrics)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    client_factory: Callable[[], httpx.AsyncClient] | None = None,
) -> FastAPI:
    """The app; `client_factory` is the HTTP seam to the MDMs (tests pass the mock's ASGI app)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = Service.build(
            settings, clock or SystemClock(), client_factory=client_factory or new_client
        )
        await service.start()
        app.state.service = service
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="mdm-bridge",
        version=__version__,
        summary="School iPad curfews, restrictions and bans, enforced through the MDM.",
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query)],
    )
    install_problem_handlers(app)
    app.include_router(health.router)
    for module in ROUTERS:
        app.include_router(module.router)
    return app
