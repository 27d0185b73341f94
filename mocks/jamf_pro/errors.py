"""Jamf Pro's three error shapes and the exception that carries them out of a handler.

Pro API (``/api``) errors are ``ApiError`` JSON, the OAuth token endpoint answers in RFC 6749
shape, and the Classic API answers with an HTML status page. Handlers raise ``JamfProError``
with a ready response; ``install_error_handlers`` also turns FastAPI's own 404/405/422 answers
into the vendor's shapes so a client never sees a FastAPI-specific body.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

CLASSIC_PREFIX = "/JSSResource"
OAUTH_ERROR_URI = "https://datatracker.ietf.org/doc/html/rfc6749#section-5.2"

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class JamfProError(Exception):
    """Raised inside a handler; the app answers with ``response`` as it is."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def api_error(
    status: int,
    code: str | None = None,
    description: str = "",
    *,
    field: str | None = None,
    pretty: bool | None = None,
) -> Response:
    """ApiError JSON; ``code=None`` gives the empty ``errors`` list Jamf sometimes sends.

    Not-found and unauthorised answers come pretty-printed unless told otherwise, as some of
    Jamf's do, so clients that match raw text instead of parsing JSON fail here first.
    """
    if pretty is None:
        pretty = status in (401, 404)
    errors: list[dict[str, Any]] = []
    if code is not None:
        errors.append({"code": code, "field": field, "description": description, "id": "0"})
    body = {"httpStatus": status, "errors": errors}
    # Jamf pretty-prints some answers ("code" : "..."); clients must parse, not match text.
    text = json.dumps(body, indent=2, separators=(",", " : ")) if pretty else json.dumps(body)
    return Response(text, status_code=status, media_type="application/json")


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description, "error_uri": OAUTH_ERROR_URI},
        status_code=status,
    )


def classic_page(status: int, message: str | None = None) -> HTMLResponse:
    """Classic API's HTML status page; only the status code is meant to be machine-read."""
    reason = _REASONS.get(status, "Error")
    detail = message or reason
    body = (
        "<html>\n<head>\n   <title>Status page</title>\n</head>\n"
        '<body style="font-family:sans-serif;">\n'
        f'<p style="font-size:1.2em;font-weight:bold;margin:1em 0px;">{escape(reason)}</p>\n'
        f"<p>{escape(detail)}</p>\n"
        '<p>You can get technical details <a href="https://datatracker.ietf.org/doc/html/'
        f'rfc9110">here</a>.<br>\nPlease continue your visit at our <a href="/">home page</a>.'
        "\n</p>\n</body>\n</html>\n"
    )
    return HTMLResponse(body, status_code=status)


def vendor_error(status: int, path: str, message: str) -> Response:
    """The error a Jamf Pro server would send at ``path`` (used for injected faults too)."""
    if path.startswith(CLASSIC_PREFIX):
        return classic_page(status, message)
    if status >= 500:
        return api_error(status)
    return api_error(status, _REASONS.get(status, "ERROR").upper().replace(" ", "_"), message)


def install_error_handlers(app: FastAPI) -> None:
    async def on_jamf_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, JamfProError)
        return error.response

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if request.url.path.startswith("/_mock"):
            return JSONResponse({"detail": error.detail}, status_code=error.status_code)
        return vendor_error(error.status_code, request.url.path, str(error.detail))

    async def on_validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        if request.url.path.startswith("/_mock"):
            return JSONResponse({"detail": error.errors()}, status_code=422)
        first = error.errors()[0] if error.errors() else {}
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
        if request.url.path.startswith(CLASSIC_PREFIX):
            return classic_page(400, f"Invalid value for {field}")
        return api_error(400, "INVALID_FIELD", str(first.get("msg", "Invalid")), field=field)

    app.add_exception_handler(JamfProError, on_jamf_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
