"""Device-activity routes of the fake ASM: submit an assign/unassign job, then poll it.

`POST /v1/orgDeviceActivities` validates the JSON:API body by hand (errors point at the field),
records the job with `mocks.asm.activities` and answers 201 IN_PROGRESS; the job finishes on the
mock clock and `GET /v1/orgDeviceActivities/{id}` shows COMPLETED or FAILED.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mocks.asm.activities import Activity, ActivityType
from mocks.asm.catalog import iso_millis
from mocks.asm.errors import AsmError
from mocks.asm.guards import api_guard, asm_state

router = APIRouter(prefix="/v1", dependencies=[Depends(api_guard)])
_TYPE = "orgDeviceActivities"


@router.post("/orgDeviceActivities", response_model=None)
async def submit_activity(request: Request) -> JSONResponse:
    state = asm_state(request)
    activity_type, server_id, serials = _read_activity_body(await request.body())
    if server_id not in state.catalog.servers:
        raise AsmError.unprocessable(
            "/data/relationships/mdmServer/data/id", f"there is no MDM server '{server_id}'"
        )
    activity = state.activities.submit(
        activity_type=activity_type, server_id=server_id, serials=serials, now=state.now()
    )
    return JSONResponse(_document(activity, _base_url(request)), status_code=201)


@router.get("/orgDeviceActivities/{activity_id}", response_model=None)
async def get_activity(activity_id: str, request: Request) -> JSONResponse:
    state = asm_state(request)
    activity = state.activities.get(activity_id, state.now())
    if activity is None:
        raise AsmError.not_found(f"There is no {_TYPE} resource with id '{activity_id}'")
    return JSONResponse(_document(activity, _base_url(request)))


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _document(activity: Activity, base_url: str) -> dict[str, object]:
    outcome = activity.outcome
    self_url = f"{base_url}/v1/{_TYPE}/{activity.activity_id}"
    attributes: dict[str, object] = {
        "status": "IN_PROGRESS" if outcome is None else outcome.status,
        "subStatus": "SUBMITTED" if outcome is None else outcome.sub_status,
        "createdDateTime": iso_millis(activity.created_at),
        "completedDateTime": None
        if activity.completed_at is None
        else iso_millis(activity.completed_at),
        "downloadUrl": None
        if outcome is None
        else f"{base_url}/_mock/asm/activityLogs/{activity.activity_id}.csv",
    }
    return {
        "data": {
            "type": _TYPE,
            "id": activity.activity_id,
            "attributes": attributes,
            "links": {"self": self_url},
        },
        "links": {"self": self_url},
    }


def _read_activity_body(body: bytes) -> tuple[ActivityType, str, tuple[str, ...]]:
    """Pull (activity type, server id, serials) out of the body or say which field is wrong."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AsmError.bad_body("", "the request body is not valid JSON") from None
    data = _object_at(document, "data", "/data")
    if data.get("type") != _TYPE:
        error = AsmError.bad_body("/data/type", f"type must be '{_TYPE}'")
        error.status, error.code = 409, "ENTITY_ERROR.TYPE_MISMATCH"
        raise error
    attributes = _object_at(data, "attributes", "/data/attributes")
    try:
        activity_type = ActivityType(str(attributes.get("activityType")))
    except ValueError:
        raise AsmError.bad_body(
            "/data/attributes/activityType",
            "activityType must be ASSIGN_DEVICES or UNASSIGN_DEVICES",
        ) from None
    relationships = _object_at(data, "relationships", "/data/relationships")
    server = _object_at(
        _object_at(relationships, "mdmServer", "/data/relationships/mdmServer"),
        "data",
        "/data/relationships/mdmServer/data",
    )
    server_id = server.get("id")
    if server.get("type") != "mdmServers" or not isinstance(server_id, str):
        raise AsmError.bad_body(
            "/data/relationships/mdmServer/data", "expected {type: mdmServers, id: <server id>}"
        )
    linkage = _object_at(relationships, "devices", "/data/relationships/devices").get("data")
    if not isinstance(linkage, list) or not linkage:
        raise AsmError.bad_body(
            "/data/relationships/devices/data", "devices must be a non-empty list"
        )
    serials: list[str] = []
    for position, item in enumerate(linkage):
        if not (
            isinstance(item, dict)
            and item.get("type") == "orgDevices"
            and isinstance(item.get("id"), str)
        ):
            raise AsmError.bad_body(
                f"/data/relationships/devices/data/{position}",
                "expected {type: orgDevices, id: <serial>}",
            )
        serials.append(item["id"])
    return activity_type, server_id, tuple(serials)


def _object_at(container: object, key: str, pointer: str) -> dict[str, object]:
    value = container.get(key) if isinstance(container, dict) else None
    if not isinstance(value, dict):
        raise AsmError.bad_body(pointer, f"{pointer} must be an object")
    return value
