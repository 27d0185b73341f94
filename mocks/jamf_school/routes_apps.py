"""App routes of the fake Jamf School, kept for one documented quirk: protocol versions.

Creating an app needs `X-Server-Protocol-Version: 4`; with the usual `3` the route does not exist
(plain 404). The fake stores what it is given and lists it back; the bridge itself manages no
apps, so nothing else here is modelled.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mocks.jamf_school.auth import Right
from mocks.jamf_school.requests import admitted, json_object_body

router = APIRouter(prefix="/api/apps")


@router.get("", response_model=None)
async def list_apps(request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.APPS)
    apps = [{"id": app_id, **fields} for app_id, fields in sorted(state.apps.items())]
    return JSONResponse({"code": 200, "count": len(apps), "apps": apps})


@router.post("", response_model=None)
async def create_app_entry(request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.APPS, minimum_version=4)
    body = await json_object_body(request)
    app_id = max(state.apps, default=0) + 1
    state.apps[app_id] = body
    return JSONResponse({"code": 200, "message": "AppCreated", "id": app_id})
