"""Assembly of the fake Jamf School API as one FastAPI app.

The core composition (`mocks.cli` / the composition function) calls `create_app(fleet, clock,
options)`; tests call it directly through `httpx.ASGITransport`. Routes live under `/api` like
the real tenant (`https://<school>.jamfcloud.com/api`); the shared `/_mock/` plumbing and the
Jamf School controls sit beside them. Any path the real API lacks, lock and Lost Mode included,
is a plain-text 404, and every refusal is in Jamf School's own shape, never a framework error.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mocks.clock import Clock
from mocks.common.control import install_mock_plumbing
from mocks.common.faults import FaultInjector, FaultSettings
from mocks.common.vendor import MockVendor
from mocks.fleet import Fleet
from mocks.jamf_school import (
    console,
    control,
    routes_apps,
    routes_devices,
    routes_groups,
    routes_profiles,
)
from mocks.jamf_school.errors import JamfSchoolError
from mocks.jamf_school.state import JamfSchoolOptions, JamfSchoolState


def create_app(
    fleet: Fleet,
    clock: Clock | None = None,
    options: JamfSchoolOptions | None = None,
    *,
    faults: FaultSettings | None = None,
) -> FastAPI:
    """A fake Jamf School tenant over `fleet`; `clock` defaults to the fleet's own clock.

    Creates the fixture groups and profiles in the fleet (reusing groups of the same name).
    `faults` are the start-time settings of the shared fault knobs; the app's `MockVendor` is at
    `app.state.mock_vendor`.
    """
    clock = clock or fleet.clock
    app = FastAPI(title="Mock Jamf School API", docs_url=None, redoc_url=None)
    app.state.jamf_school = JamfSchoolState.build(fleet, clock, options or JamfSchoolOptions())
    # Group routes first: "/api/devices/groups" must not be read as a device UDID.
    app.include_router(routes_groups.router)
    app.include_router(routes_devices.router)
    app.include_router(routes_profiles.router)
    app.include_router(routes_apps.router)
    app.include_router(control.router)
    app.include_router(console.router)
    app.add_exception_handler(JamfSchoolError, _school_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    vendor = MockVendor(
        name="jamf_school",
        fleet=fleet,
        clock=clock,
        faults=FaultInjector(faults, seed=fleet.config.seed),
        error_response=_injected_error,
    )
    install_mock_plumbing(app, vendor)
    return app


def jamf_school_state_of(app: FastAPI) -> JamfSchoolState:
    """The state behind an app made by `create_app`, for tests and control plumbing."""
    state: JamfSchoolState = app.state.jamf_school
    return state


async def _school_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, JamfSchoolError)  # registered for JamfSchoolError only
    return error.to_response()


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code in (404, 405):
        # The real API has no method-not-allowed answer for its routes: a wrong method is a
        # route that does not exist (405 means a key's missing right there).
        return JamfSchoolError.no_such_route().to_response()
    return JamfSchoolError.coded(error.status_code, "Error").to_response()


async def _validation_error(request: Request, error: Exception) -> Response:
    return JamfSchoolError.coded(400, "InvalidRequest").to_response()


def _injected_error(status: int, path: str, message: str) -> Response:
    """The shared fault middleware's answers (5xx, 429 bursts) in Jamf School's shape."""
    return JSONResponse({"code": status, "message": message}, status_code=status)
