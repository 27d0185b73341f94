"""Device routes of the fake Jamf School: the inventory and the two harmless device actions.

The inventory has no paging (every list returns all devices) and a handful of query filters.
Of the device actions only restart (the one way to clear a passcode) and refresh are served;
there is deliberately no lock or Lost Mode route, so such paths fall through to a plain 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams

from mocks.commands import RequestType
from mocks.device import Device
from mocks.jamf_school.auth import Right, is_whole_number
from mocks.jamf_school.errors import JamfSchoolError
from mocks.jamf_school.requests import admitted, json_object_body
from mocks.jamf_school.shapes import device_alone, device_in_list
from mocks.jamf_school.state import JamfSchoolState

router = APIRouter(prefix="/api/devices")
_SOURCE = "jamf_school"


@router.get("", response_model=None)
async def list_devices(request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.DEVICES_READ)
    query = request.query_params
    devices = [d for d in state.fleet.devices if _matches(d, query)]
    with_apps = "includeApps" in query
    rules = state.time_filters.rules
    shapes = [
        device_in_list(
            device,
            state.fleet,
            time_zone=rules.time_zone,
            location_id=state.options.location_id,
            with_apps=with_apps,
        )
        for device in devices
    ]
    return JSONResponse({"code": 200, "count": len(shapes), "devices": shapes})


@router.get("/{udid}", response_model=None)
async def get_device(udid: str, request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.DEVICES_READ)
    device = _find_device(state, udid)
    shape = device_alone(
        device,
        state.fleet,
        time_zone=state.time_filters.rules.time_zone,
        location_id=state.options.location_id,
        with_apps="includeApps" in request.query_params,
    )
    return JSONResponse({"code": 200, "device": shape})


@router.post("/{udid}/restart", response_model=None)
async def restart_device(udid: str, request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.DEVICE_ACTIONS)
    body = await json_object_body(request, optional=True)
    device = _find_device(state, udid)
    # Jamf School takes the flag as the string "true"; a JSON true is not the same thing.
    if body.get("clearPasscode") == "true":
        state.fleet.enqueue(device, RequestType.CLEAR_PASSCODE, source=_SOURCE)
    command = state.fleet.enqueue(device, RequestType.RESTART_DEVICE, source=_SOURCE)
    return JSONResponse({"code": 200, "message": "CommandScheduled", "UUID": command.uuid})


@router.post("/{udid}/refresh", response_model=None)
async def refresh_device(udid: str, request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.DEVICE_ACTIONS)
    await json_object_body(request, optional=True)
    device = _find_device(state, udid)
    command = state.fleet.enqueue(device, RequestType.DEVICE_INFORMATION, source=_SOURCE)
    return JSONResponse({"code": 200, "message": "CommandScheduled", "UUID": command.uuid})


def _find_device(state: JamfSchoolState, udid: str) -> Device:
    device = state.fleet.device_by_udid(udid)
    if device is None:
        raise JamfSchoolError.coded(404, "DeviceNotFound")
    return device


def _matches(device: Device, query: QueryParams) -> bool:
    groups = query.get("groups")
    if groups:
        wanted = {int(part) for part in groups.split(",") if is_whole_number(part.strip())}
        if not wanted or not wanted & (device.group_ids or set()):
            return False
    serial = query.get("serialnumber")
    if serial and serial.casefold() != device.serial.casefold():
        return False
    name = query.get("name")
    if name and name.casefold() not in device.name.casefold():
        return False
    supervised = query.get("supervised")
    if supervised in ("true", "1") and not device.supervised:
        return False
    if supervised in ("false", "0") and device.supervised:
        return False
    # No device is ever in the trash in the fake, so asking for trashed ones finds none.
    return query.get("inTrash") not in ("true", "1")
