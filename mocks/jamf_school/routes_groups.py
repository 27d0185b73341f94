"""Device-group routes of the fake Jamf School: list, read, and move devices in and out.

Adding a device to a group a profile is scoped to is how the bridge applies a curfew or a ban on
Jamf School: `mocks.fleet.Fleet.add_to_group` wakes the device, and its next check-in installs
the group's profiles (subject to their time filter). Smart groups fill themselves, so adding to
or removing from one is refused. Unknown UDIDs refuse the whole call: nothing half-applied.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mocks.device import Device
from mocks.groups import Group
from mocks.jamf_school.auth import Right, is_whole_number
from mocks.jamf_school.errors import JamfSchoolError
from mocks.jamf_school.requests import admitted, json_object_body
from mocks.jamf_school.shapes import group_shape
from mocks.jamf_school.state import JamfSchoolState

router = APIRouter(prefix="/api/devices/groups")


@router.get("", response_model=None)
async def list_groups(request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.GROUPS_READ)
    groups = [_shape(state, group) for group in state.fleet.groups()]
    key = state.options.group_list_key
    return JSONResponse({"code": 200, "count": len(groups), key: groups})


@router.get("/{group_id}", response_model=None)
async def get_group(group_id: str, request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.GROUPS_READ)
    group = _find_group(state, group_id)
    return JSONResponse({"code": 200, "deviceGroup": _shape(state, group)})


@router.post("/add", response_model=None)
async def add_devices(request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.GROUPS_WRITE)
    group, devices = await _membership_change(request, state)
    state.fleet.add_to_group(group, devices)
    return JSONResponse({"code": 200, "message": "DevicesAddedToGroup", "count": len(devices)})


@router.post("/remove", response_model=None)
async def remove_devices(request: Request) -> JSONResponse:
    state, _ = admitted(request, Right.GROUPS_WRITE)
    group, devices = await _membership_change(request, state)
    state.fleet.remove_from_group(group, devices)
    return JSONResponse({"code": 200, "message": "DevicesRemovedFromGroup", "count": len(devices)})


def _shape(state: JamfSchoolState, group: Group) -> dict[str, object]:
    return group_shape(
        group,
        location_id=state.options.location_id,
        smart=group.group_id in state.smart_group_ids,
    )


def _find_group(state: JamfSchoolState, raw_id: object) -> Group:
    group_id = _whole_number(raw_id)
    group = None if group_id is None else state.fleet.group(group_id)
    if group is None:
        raise JamfSchoolError.coded(404, "GroupNotFound")
    return group


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and is_whole_number(value):
        return int(value)
    return None


async def _membership_change(
    request: Request, state: JamfSchoolState
) -> tuple[Group, list[Device]]:
    body = await json_object_body(request)
    if _whole_number(body.get("groupId")) is None:
        raise JamfSchoolError.coded(400, "MissingGroupId")
    udids = body.get("udids")
    if not isinstance(udids, list) or not all(isinstance(udid, str) for udid in udids):
        raise JamfSchoolError.coded(400, "MissingUdids")
    group = _find_group(state, body["groupId"])
    if group.group_id in state.smart_group_ids:
        raise JamfSchoolError.coded(400, "SmartGroupMembershipIsAutomatic")
    devices: list[Device] = []
    for udid in udids:
        device = state.fleet.device_by_udid(str(udid))
        if device is None:
            raise JamfSchoolError.coded(404, "DeviceNotFound")
        devices.append(device)
    return group, devices
