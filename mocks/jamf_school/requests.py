"""Per-request helpers shared by the Jamf School routes: admission and body reading.

`admitted` runs the tenant checks of `mocks.jamf_school.auth` (protocol version, Basic
credentials, the key's right) and then lets due devices check in, so every route sees the fleet
as it is now. `json_object_body` reads a body by hand: a malformed one gets Jamf School's
`{code, message}` 400, never a framework validation error.
"""

from __future__ import annotations

import json

from fastapi import Request

from mocks.jamf_school.auth import ApiKey, Right, admit
from mocks.jamf_school.errors import JamfSchoolError
from mocks.jamf_school.state import JamfSchoolState, school_state


def admitted(
    request: Request, right: Right, *, minimum_version: int | None = None
) -> tuple[JamfSchoolState, ApiKey]:
    state = school_state(request)
    api_key = admit(
        request.method, request.headers, state.tenant, right, minimum_version=minimum_version
    )
    state.settle()
    return state, api_key


async def json_object_body(request: Request, *, optional: bool = False) -> dict[str, object]:
    raw = await request.body()
    if optional and not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise JamfSchoolError.coded(400, "InvalidJSON") from None
    if not isinstance(body, dict):
        raise JamfSchoolError.coded(400, "InvalidJSON")
    return body
