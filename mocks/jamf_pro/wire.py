"""Wire details shared by the Jamf Pro routes: timestamps, paging, JSON bodies in and out.

Route modules use ``read_json`` so that malformed bodies get an ApiError (never FastAPI's 422),
``page_window`` for Jamf's 0-based, 2000-capped paging, and ``json_response`` to skip FastAPI's
slow generic encoder on large inventory pages.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mocks.clock import from_epoch
from mocks.jamf_pro.errors import JamfProError, api_error

MAX_PAGE_SIZE = 2000
DEFAULT_PAGE_SIZE = 100


def jamf_time(seconds: float) -> str:
    """ISO-8601 UTC with milliseconds, as Jamf writes it: 2022-10-17T11:48:56.307Z."""
    instant = from_epoch(seconds)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def read_json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise JamfProError(
            api_error(400, "INVALID_FIELD", f"Malformed JSON body: {error}")
        ) from error


def page_window(request: Request) -> tuple[int, int]:
    """(page, page size) from the query; the size is silently capped, as Jamf does."""
    params = request.query_params
    page = _int_param(params.get("page"), "page", default=0)
    raw_size = params.get("page-size", params.get("pagesize"))
    size = _int_param(raw_size, "page-size", default=DEFAULT_PAGE_SIZE)
    if page < 0 or size < 1:
        raise JamfProError(api_error(400, "INVALID_FIELD", "page must be >= 0, page-size >= 1"))
    return page, min(size, MAX_PAGE_SIZE)


def _int_param(raw: str | None, name: str, *, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise JamfProError(
            api_error(400, "INVALID_FIELD", f"{name} must be an integer", field=name)
        ) from error
