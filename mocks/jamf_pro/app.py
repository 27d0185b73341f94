"""Assembles the Jamf Pro mock app: routes, vendor error shapes, shared plumbing.

``build_jamf_pro_app(fleet, ...)`` is the entry point used by the composition in
``mocks.serve`` and by tests (with ``httpx.ASGITransport``). The app keeps its state on
``app.state.jamf_pro`` and its shared mock context on ``app.state.mock_vendor``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict

from mocks.common.control import install_mock_plumbing
from mocks.common.faults import FaultInjector, FaultSettings
from mocks.common.vendor import MockVendor, Sleep, WriteKey
from mocks.fleet import Fleet
from mocks.jamf_pro import (
    auth,
    classic_commands,
    classic_devices,
    classic_groups,
    classic_profiles,
    inventory,
    mdm_commands,
    static_groups,
    webhook_routes,
)
from mocks.jamf_pro.cluster import ClusterLag, StickyCookieMiddleware
from mocks.jamf_pro.errors import JamfProError, api_error, install_error_handlers, vendor_error
from mocks.jamf_pro.state import JamfProSettings, JamfProState, jamf_state
from mocks.jamf_pro.webhooks import WebhookDispatcher
from mocks.jamf_pro.wire import json_response

VENDOR = "jamf-pro"

misc = APIRouter()


@misc.get("/api/v1/jamf-pro-version")
async def version(request: Request) -> Response:
    auth.check_api_token(request)
    return json_response({"version": jamf_state(request).settings.version})


@misc.get("/api/v1/health-check")
async def health_check() -> Response:
    return Response(status_code=204)


@misc.get("/api/v1/health-status")
async def health_status(request: Request) -> Response:
    """Acceptance ratios per traffic kind; injected 5xx and 429s lower the API's share."""
    auth.check_api_token(request)
    state = jamf_state(request)
    if not state.settings.health_status_enabled:
        raise JamfProError(api_error(404, "NOT_FOUND", "Health status is a Jamf Cloud feature"))
    faults = state.vendor.faults.settings
    api_ratio = round(max(0.0, 1.0 - faults.error_share - faults.rate_limit_share), 3)
    windows = ("thirtySeconds", "oneMinute", "fiveMinutes", "fifteenMinutes", "thirtyMinutes")
    kinds = {"api": api_ratio, "ui": 1.0, "enrollment": 1.0, "device": 1.0, "default": 1.0}
    return json_response({kind: dict.fromkeys(windows, ratio) for kind, ratio in kinds.items()})


class ClientSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool


@misc.patch("/_mock/jamf-pro/clients/{client_id}")
async def switch_client(request: Request, client_id: str, body: ClientSwitch) -> Response:
    """Disable or enable an API client: new tokens stop, issued ones live on until expiry."""
    state = jamf_state(request)
    if client_id not in state.settings.api_clients:
        raise JamfProError(api_error(404, "INVALID_ID", f"No API client {client_id!r}"))
    if body.enabled:
        state.disabled_clients.discard(client_id)
    else:
        state.disabled_clients.add(client_id)
    return json_response({"clientId": client_id, "enabled": body.enabled})


_GROUP_WRITE = re.compile(
    r"^(?:/JSSResource/mobiledevicegroups/(id|name)/([^/]+)"
    r"|/api/v2/mobile-device-groups/static-groups(?:/(\d+))?)$"
)
_PROFILE_WRITE = re.compile(r"^/JSSResource/mobiledeviceconfigurationprofiles/(id|name)/([^/]+)$")


def jamf_write_key(fleet: Fleet) -> WriteKey:
    """Names the object a write touches, so overlapping writes to it can be answered 409."""

    def write_key(method: str, path: str) -> str | None:
        group = _GROUP_WRITE.match(path)
        if group is not None:
            kind, value, v2_id = group.groups()
            if v2_id is None and kind is None:
                return "group:create"
            if kind == "name":
                found = fleet.group_by_name(value)
                return f"group:{found.group_id}" if found else f"group-name:{value}"
            key = v2_id or value
            return "group:create" if key == "0" else f"group:{key}"
        profile = _PROFILE_WRITE.match(path)
        if profile is not None:
            kind, value = profile.groups()
            if kind == "id":
                return "profile:create" if value == "0" else f"profile:{value}"
            return f"profile-name:{value}"
        return None

    return write_key


def build_jamf_pro_app(
    fleet: Fleet,
    *,
    settings: JamfProSettings | None = None,
    faults: FaultSettings | None = None,
    sleep: Sleep | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """A Jamf Pro mock over ``fleet``.

    ``sleep`` replaces asyncio.sleep for injected latency; ``webhook_transport`` carries webhook
    deliveries (tests hand in an ``httpx.MockTransport``; by default they go out over HTTP).
    """
    vendor = MockVendor(
        name=VENDOR,
        fleet=fleet,
        clock=fleet.clock,
        faults=FaultInjector(faults, seed=fleet.config.seed),
        error_response=vendor_error,
    )
    vendor.write_key = jamf_write_key(fleet)
    if sleep is not None:
        vendor.sleep = sleep
    settings = settings or JamfProSettings()
    state = JamfProState(
        settings=settings,
        vendor=vendor,
        cluster=ClusterLag(seconds=settings.cluster_lag_seconds),
    )
    vendor.token_expirers.append(state.tokens.expire_all)
    dispatcher = WebhookDispatcher(fleet, transport=webhook_transport)

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        dispatcher.start()
        try:
            yield
        finally:
            await dispatcher.stop()

    app = FastAPI(
        title="Jamf Pro (mock)",
        docs_url="/_mock/docs",
        openapi_url="/_mock/openapi.json",
        lifespan=lifespan,
    )
    app.state.jamf_pro = state
    app.state.jamf_pro_webhooks = dispatcher
    install_error_handlers(app)
    for module in (
        auth,
        inventory,
        mdm_commands,
        static_groups,
        classic_devices,
        classic_commands,
        classic_groups,
        classic_profiles,
        webhook_routes,
    ):
        app.include_router(module.router)
    app.include_router(misc)
    app.include_router(webhook_routes.control)
    if state.cluster.enabled:
        app.add_middleware(StickyCookieMiddleware)
    install_mock_plumbing(app, vendor)
    return app
