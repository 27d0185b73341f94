"""Errors as RFC 9457 problem+json, naming the field at fault.

Installed on the app by the factory. A teacher's browser gets a clear message and the field,
never a stack trace: unexpected errors are logged and answered with a plain 500 problem.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

from mdm_bridge.store.errors import FieldError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` names each field at fault."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None


def _described(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {PROBLEM_JSON: {}}}


# Answers every authenticated /api/v1 route may give, for the OpenAPI document.
AUTH_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _described("The body could not be read as JSON"),
    401: _described("No token, or a malformed, unknown, expired or revoked one"),
    403: _described("The token's role may not do this, or not to this pupil or iPad"),
    422: _described("The request is not valid; `errors` names each field"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _described("The thing named does not exist")}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _described("The thing is not in a state that allows this")
}


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[-1] if location else "request")


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"field": _field_name(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
        for e in error.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "Invalid request", detail, errors=errors)


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves on this path: Starlette's 405 names only those of the
    first route matching the path (e.g. GET where another route serves PUT)."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    title = str(error.detail) if error.detail else "Error"
    response = problem(error.status_code, title)
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    if error.status_code == 405:
        response.headers["Allow"] = _allowed_methods(request) or response.headers.get("Allow", "")
    return response


async def _field_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, FieldError)
    titles = {404: "Not found", 409: "Conflict"}
    return problem(
        error.status,
        titles.get(error.status, "Invalid request"),
        str(error),
        errors=[{"field": error.field, "message": error.message}],
    )


async def _unexpected_error(request: Request, _error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "The error has been logged.")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(FieldError, _field_error)
    app.add_exception_handler(Exception, _unexpected_error)
