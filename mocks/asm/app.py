"""Assembly of the fake Apple School Manager API as one FastAPI app.

The core composition (`mocks.cli` / the composition function) calls `create_app(fleet, clock,
options)`; tests call it directly and talk to the app through `httpx.ASGITransport`. The app
serves the token endpoint, the `/v1` read and activity routes, and its own `/_mock/asm/`
controls; every refusal is answered in the vendor's shape, never as a framework error page.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mocks.asm import control, routes_activities, routes_devices, routes_token
from mocks.asm.errors import AsmError
from mocks.asm.state import AsmOptions, AsmState
from mocks.clock import Clock
from mocks.fleet import Fleet


def create_app(
    fleet: Fleet, clock: Clock | None = None, options: AsmOptions | None = None
) -> FastAPI:
    """A fake ASM over `fleet`; `clock` defaults to the fleet's own clock."""
    app = FastAPI(title="Mock Apple School Manager API", docs_url=None, redoc_url=None)
    app.state.asm = AsmState.build(fleet, clock or fleet.clock, options or AsmOptions())
    app.include_router(routes_token.router)
    app.include_router(routes_devices.router)
    app.include_router(routes_activities.router)
    app.include_router(control.router)
    app.add_exception_handler(AsmError, _asm_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    return app


def asm_state_of(app: FastAPI) -> AsmState:
    """The state behind an app made by `create_app`, for tests and control plumbing."""
    state: AsmState = app.state.asm
    return state


async def _asm_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, AsmError)  # registered for AsmError only
    return error.to_response()


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 405:
        return AsmError(
            status=405,
            code="METHOD_NOT_ALLOWED",
            title="The method is not allowed for this resource",
            detail=f"{request.method} is not allowed on {request.url.path}",
        ).to_response()
    if error.status_code == 404:
        return AsmError.not_found(f"The path {request.url.path} does not exist").to_response()
    return JSONResponse({"errors": [{"status": str(error.status_code)}]}, error.status_code)


async def _validation_error(request: Request, error: Exception) -> Response:
    return AsmError.bad_parameter("", "the request could not be read").to_response()
