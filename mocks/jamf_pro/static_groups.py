"""Pro API v2 mobile-device groups: listing, static-group CRUD and membership.

``PATCH /api/v2/mobile-device-groups/static-groups/{id}`` takes ``assignments`` with
``selected`` true (add) or false (remove); fields left out stay as they are. Errors: 400 for bad
device ids, 404 for unknown groups, 422 for a duplicate name or a group other objects depend on.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mocks.device import Device
from mocks.fleet import Fleet, GroupInUse
from mocks.groups import DuplicateGroupName, Group
from mocks.jamf_pro.auth import require_api_token
from mocks.jamf_pro.errors import JamfProError, api_error
from mocks.jamf_pro.rsql import FieldSpec, Kind, RsqlError, compile_filter
from mocks.jamf_pro.state import jamf_state
from mocks.jamf_pro.wire import json_response, page_window, read_json

router = APIRouter(dependencies=[Depends(require_api_token)])
BASE = "/api/v2/mobile-device-groups"

_GROUP_FIELDS: dict[str, FieldSpec[Group]] = {
    "groupId": FieldSpec(kind=Kind.NUMBER, read=lambda g: g.group_id),
    "groupName": FieldSpec(kind=Kind.STRING, read=lambda g: g.name),
    "siteId": FieldSpec(kind=Kind.NUMBER, read=lambda g: g.site_id),
}


def _static_group(group: Group) -> dict[str, Any]:
    return {
        "groupId": str(group.group_id),
        "groupName": group.name,
        "groupDescription": group.description,
        "siteId": str(group.site_id),
        "count": len(group.members),
    }


def _group_or_404(fleet: Fleet, raw_id: str) -> Group:
    group = fleet.group(int(raw_id)) if raw_id.isdigit() else None
    if group is None:
        raise JamfProError(api_error(404, "INVALID_ID", f"Group {raw_id} not found"))
    return group


def _assignments(fleet: Fleet, body: dict[str, Any]) -> tuple[list[Device], list[Device]]:
    raw = body.get("assignments", [])
    if not isinstance(raw, list):
        raise JamfProError(api_error(400, "INVALID_FIELD", "assignments must be a list"))
    selected: list[Device] = []
    deselected: list[Device] = []
    for position, item in enumerate(raw):
        field = f"assignments[{position}].mobileDeviceId"
        device_id = item.get("mobileDeviceId") if isinstance(item, dict) else None
        raw_id = str(device_id)
        device = fleet.device_by_id(int(raw_id)) if raw_id.isdigit() else None
        if device is None:
            raise JamfProError(
                api_error(400, "INVALID_ID", f"No device {device_id!r}", field=field)
            )
        (selected if item.get("selected", True) is not False else deselected).append(device)
    return selected, deselected


def _body_object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise JamfProError(api_error(400, "INVALID_FIELD", "Body must be a JSON object"))
    return raw


def _checked_name(body: dict[str, Any], *, required: bool) -> str | None:
    name = body.get("groupName")
    if name is None and not required:
        return None
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise JamfProError(
            api_error(
                400, "INVALID_FIELD", "groupName is required (1-255 characters)", field="groupName"
            )
        )
    return name


@router.get(BASE)
async def all_groups(request: Request) -> Response:
    fleet = jamf_state(request).fleet
    return json_response(
        [
            {
                "id": str(g.group_id),
                "name": g.name,
                "description": g.description,
                "isSmartGroup": False,
            }
            for g in fleet.groups()
        ]
    )


@router.get(f"{BASE}/static-groups")
async def static_groups(request: Request) -> Response:
    fleet = jamf_state(request).fleet
    page, size = page_window(request)
    groups = fleet.groups()
    text = request.query_params.get("filter")
    if text:
        try:
            predicate = compile_filter(text, _GROUP_FIELDS)
        except RsqlError as error:
            raise JamfProError(
                api_error(400, "INVALID_FIELD", f"Invalid filter: {error}")
            ) from error
        groups = [g for g in groups if predicate(g)]
    chosen = groups[page * size : (page + 1) * size]
    return json_response({"totalCount": len(groups), "results": [_static_group(g) for g in chosen]})


@router.get(f"{BASE}/static-groups/{{group_id}}")
async def one_static_group(request: Request, group_id: str) -> Response:
    return json_response(_static_group(_group_or_404(jamf_state(request).fleet, group_id)))


@router.post(f"{BASE}/static-groups")
async def create_static_group(request: Request) -> Response:
    fleet = jamf_state(request).fleet
    body = _body_object(await read_json(request))
    name = _checked_name(body, required=True)
    assert name is not None
    selected, _ = _assignments(fleet, body)
    try:
        group = fleet.create_group(
            name=name,
            description=str(body.get("groupDescription") or ""),
            site_id=int(body.get("siteId") or -1),
        )
    except DuplicateGroupName as error:
        raise JamfProError(
            api_error(422, "DUPLICATE_FIELD", "groupName is taken", field="groupName")
        ) from error
    except (TypeError, ValueError) as error:
        raise JamfProError(api_error(400, "INVALID_FIELD", "siteId must be a number")) from error
    fleet.add_to_group(group, selected)
    href = f"{str(request.base_url).rstrip('/')}{BASE}/static-groups/{group.group_id}"
    return json_response({"id": str(group.group_id), "href": href}, status=201)


@router.patch(f"{BASE}/static-groups/{{group_id}}")
async def patch_static_group(request: Request, group_id: str) -> Response:
    fleet = jamf_state(request).fleet
    group = _group_or_404(fleet, group_id)
    body = _body_object(await read_json(request))
    name = _checked_name(body, required=True)
    selected, deselected = _assignments(fleet, body)
    if name is not None and name != group.name:
        try:
            fleet.rename_group(group, name)
        except DuplicateGroupName as error:
            raise JamfProError(
                api_error(422, "DUPLICATE_FIELD", "groupName is taken", field="groupName")
            ) from error
    if "groupDescription" in body and body["groupDescription"] is not None:
        group.description = str(body["groupDescription"])
    state = jamf_state(request)
    state.cluster.before_write(group, state.now())
    fleet.add_to_group(group, selected)
    fleet.remove_from_group(group, deselected)
    return json_response(_static_group(group))


@router.delete(f"{BASE}/static-groups/{{group_id}}")
async def delete_static_group(request: Request, group_id: str) -> Response:
    fleet = jamf_state(request).fleet
    group = _group_or_404(fleet, group_id)
    try:
        fleet.delete_group(group.group_id)
    except GroupInUse as error:
        raise JamfProError(api_error(422, "GROUP_IN_USE", str(error))) from error
    return Response(status_code=204)


@router.get(f"{BASE}/static-group-membership/{{group_id}}")
async def membership(request: Request, group_id: str) -> Response:
    fleet = jamf_state(request).fleet
    group = _group_or_404(fleet, group_id)
    page, size = page_window(request)
    state = jamf_state(request)
    seen = state.cluster.members_seen(group, request, state.now())
    members = [fleet.devices[i - 1] for i in sorted(seen)]
    chosen = members[page * size : (page + 1) * size]
    results = [
        {
            "mobileDeviceId": str(d.device_id),
            "udid": d.udid,
            "displayName": d.name,
            "serialNumber": d.serial,
            "managementId": d.management_id,
            "supervised": d.supervised,
            "lostModeEnabled": d.lost_mode is not None,
            "username": d.pupil_ref,
        }
        for d in chosen
    ]
    return json_response({"totalCount": len(members), "results": results})
