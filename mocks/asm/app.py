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
from mocks.common.control import install_mock_plumbing
from mocks.common.faults import FaultInjector, FaultSettings
from mocks.common.vendor import MockVendor
from mocks.fleet import Fleet


def create_app(
    fleet: Fleet,
    clock: Clock | None = None,
    options: AsmOptions | None = None,
    *,
    faults: FaultSettings | None = None,
) -> FastAPI:
    """A fake ASM over `fleet`; `clock` defaults to the fleet's own clock.

    `faults` are the start-time settings of the shared fault knobs (`/_mock/faults` changes them
    later); the app's `MockVendor` is at `app.state.mock_vendor`.
    """
    clock = clock or fleet.clock
    app = FastAPI(title="Mock Apple School Manager API", docs_url=None, redoc_url=None)
    state = AsmState.build(fleet, clock, options or AsmOptions())
    app.state.asm = state
    app.include_router(routes_token.router)
    app.include_router(routes_devices.router)
    app.include_router(routes_activities.router)
    app.include_router(control.router)
    app.add_exception_handler(AsmError, _asm_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    vendor = MockVendor(
        name="asm",
        fleet=fleet,
        clock=clock,
        faults=FaultInjector(faults, seed=fleet.config.seed),
        error_response=_injected_error,
        token_expirers=[state.expire_all_tokens],
    )
    install_mock_plumbing(app, vendor)
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


def _injected_error(status: int, path: str, message: str) -> Response:
    """The shared fault middleware's answers (5xx, 429 bursts), in ASM's error shape."""
    if path.startswith("/auth/"):
        return JSONResponse({"error": "server_error", "error_description": message}, status)
    title = "Too many requests" if status == 429 else "The server could not answer"
    return AsmError(status=status, code=f"HTTP_{status}", title=title, detail=message).to_response()


async def _validation_error(request: Request, error: Exception) -> Response:
    return AsmError.bad_parameter("", "the request could not be read").to_response()
