"""Classic static mobile-device groups: list, read, create (``/id/0``), edit, delete.

A PUT with ``<mobile_device_additions>`` / ``<mobile_device_deletions>`` edits membership
incrementally; ``<mobile_devices>`` replaces it. Membership changes go through the fleet, so
profiles scoped to the group follow at each device's next check-in.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from fastapi import APIRouter, Depends, Request, Response

from mocks.device import Device
from mocks.fleet import Fleet, GroupInUse
from mocks.groups import DuplicateGroupName, Group
from mocks.jamf_pro.auth import require_classic_token
from mocks.jamf_pro.errors import JamfProError, classic_page
from mocks.jamf_pro.state import JamfProState, jamf_state
from mocks.jamf_pro.xmlio import classic_answer, parse_xml, text_of, xml_answer

router = APIRouter(dependencies=[Depends(require_classic_token)])


def group_record(
    fleet: Fleet, group: Group, members: frozenset[int] | None = None
) -> dict[str, Any]:
    shown = sorted(group.members if members is None else members)
    return {
        "id": group.group_id,
        "name": group.name,
        "is_smart": False,
        "site": {"id": group.site_id, "name": "None"},
        "criteria": [],
        "mobile_devices": [
            {
                "id": d.device_id,
                "name": d.name,
                "mac_address": d.wifi_mac,
                "udid": d.udid,
                "wifi_mac_address": d.wifi_mac,
                "serial_number": d.serial,
            }
            for d in (fleet.devices[i - 1] for i in shown)
        ],
    }


def _find(fleet: Fleet, key: str, value: str) -> Group:
    if key == "id":
        group = fleet.group(int(value)) if value.isdigit() else None
    elif key == "name":
        group = fleet.group_by_name(value)
    else:
        group = None
    if group is None:
        raise JamfProError(classic_page(404, "Not Found"))
    return group


def devices_in(fleet: Fleet, container: Element | None, section: str) -> list[Device]:
    """Devices listed under ``section``, named by id, serial number or UDID."""
    if container is None:
        return []
    devices = []
    for node in container.iterfind("mobile_device"):
        device_id, serial, udid = (text_of(node, tag) for tag in ("id", "serial_number", "udid"))
        device = None
        if device_id and device_id.isdigit():
            device = fleet.device_by_id(int(device_id))
        elif serial:
            device = fleet.device_by_serial(serial)
        elif udid:
            device = fleet.device_by_udid(udid)
        if device is None:
            raise JamfProError(classic_page(409, f"Error: Problem with mobile device in {section}"))
        devices.append(device)
    return devices


def _apply(state: JamfProState, group: Group, root: Element) -> None:
    fleet = state.fleet
    if text_of(root, "is_smart") == "true":
        raise JamfProError(classic_page(409, "Error: smart groups are not simulated"))
    name = text_of(root, "name")
    if name is not None and name != group.name:
        try:
            fleet.rename_group(group, name)
        except DuplicateGroupName as error:
            raise JamfProError(classic_page(409, "Error: Duplicate name")) from error
    replacement = root.find("mobile_devices")
    additions = devices_in(fleet, root.find("mobile_device_additions"), "mobile_device_additions")
    deletions = devices_in(fleet, root.find("mobile_device_deletions"), "mobile_device_deletions")
    state.cluster.before_write(group, state.now())
    if replacement is not None:
        fleet.set_group_members(group, devices_in(fleet, replacement, "mobile_devices"))
    fleet.add_to_group(group, additions)
    fleet.remove_from_group(group, deletions)


@router.get("/JSSResource/mobiledevicegroups")
async def list_groups(request: Request) -> Response:
    fleet = jamf_state(request).fleet
    items = [{"id": g.group_id, "name": g.name, "is_smart": False} for g in fleet.groups()]
    return classic_answer(request, "mobile_device_groups", items)


@router.get("/JSSResource/mobiledevicegroups/{key}/{value}")
async def get_group(request: Request, key: str, value: str) -> Response:
    state = jamf_state(request)
    group = _find(state.fleet, key, value)
    members = state.cluster.members_seen(group, request, state.now())
    return classic_answer(request, "mobile_device_group", group_record(state.fleet, group, members))


@router.post("/JSSResource/mobiledevicegroups/id/{value}")
async def create_group(request: Request, value: str) -> Response:
    fleet = jamf_state(request).fleet
    root = parse_xml(await request.body())
    name = text_of(root, "name")
    if not name:
        raise JamfProError(classic_page(409, "Error: name is required"))
    try:
        group = fleet.create_group(name=name)
    except DuplicateGroupName as error:
        raise JamfProError(classic_page(409, "Error: Duplicate name")) from error
    try:
        _apply(jamf_state(request), group, root)
    except JamfProError:
        fleet.delete_group(group.group_id)  # nothing half-written
        raise
    return xml_answer("mobile_device_group", {"id": group.group_id})


@router.put("/JSSResource/mobiledevicegroups/{key}/{value}")
async def update_group(request: Request, key: str, value: str) -> Response:
    fleet = jamf_state(request).fleet
    group = _find(fleet, key, value)
    root = parse_xml(await request.body())
    # Check every device reference before changing anything.
    for section in ("mobile_devices", "mobile_device_additions", "mobile_device_deletions"):
        devices_in(fleet, root.find(section), section)
    _apply(jamf_state(request), group, root)
    return xml_answer("mobile_device_group", {"id": group.group_id})


@router.delete("/JSSResource/mobiledevicegroups/{key}/{value}")
async def delete_group(request: Request, key: str, value: str) -> Response:
    fleet = jamf_state(request).fleet
    group = _find(fleet, key, value)
    try:
        fleet.delete_group(group.group_id)
    except GroupInUse as error:
        raise JamfProError(classic_page(409, f"Error: {error}")) from error
    return xml_answer("mobile_device_group", {"id": group.group_id}, status=200)
