"""Jamf Pro inventory routes: ``/api/v2/mobile-devices`` list, detail listing and single records.

Reads the fleet through ``mocks.jamf_pro.render``; filtering uses ``mocks.jamf_pro.rsql``.
Paging is 0-based with the page size silently capped at 2000, and ``totalCount`` always counts
every match so pages fetched in parallel agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mocks.device import Device
from mocks.fleet import Fleet
from mocks.jamf_pro.auth import require_api_token
from mocks.jamf_pro.errors import JamfProError, api_error
from mocks.jamf_pro.render import SECTIONS, detail_item, flat_detail, list_item
from mocks.jamf_pro.rsql import FieldSpec, Kind, RsqlError, compile_filter, equality_values, parse
from mocks.jamf_pro.state import JamfProState, jamf_state
from mocks.jamf_pro.wire import json_response, page_window

router = APIRouter(dependencies=[Depends(require_api_token)])


def _group_ids(device: Device) -> list[Any]:
    return sorted(device.group_ids or ())


def _detail_fields(fleet: Fleet) -> dict[str, FieldSpec[Device]]:
    def group_names(device: Device) -> list[Any]:
        return [g.name for i in sorted(device.group_ids or ()) if (g := fleet.group(i))]

    return {
        "mobileDeviceId": FieldSpec(kind=Kind.NUMBER, read=lambda d: d.device_id),
        "managementId": FieldSpec(kind=Kind.STRING, read=lambda d: d.management_id),
        "udid": FieldSpec(kind=Kind.STRING, read=lambda d: d.udid),
        "serialNumber": FieldSpec(kind=Kind.STRING, read=lambda d: d.serial),
        "displayName": FieldSpec(kind=Kind.STRING, read=lambda d: d.name),
        "lastInventoryUpdateDate": FieldSpec(
            kind=Kind.DATE, read=lambda d: d.last_inventory_update
        ),
        "lastContactDate": FieldSpec(kind=Kind.DATE, read=lambda d: d.last_checkin),
        "lostModeEnabled": FieldSpec(kind=Kind.BOOLEAN, read=lambda d: d.lost_mode is not None),
        "managed": FieldSpec(kind=Kind.BOOLEAN, read=lambda d: True),
        "supervised": FieldSpec(kind=Kind.BOOLEAN, read=lambda d: d.supervised),
        "sharedIpad": FieldSpec(kind=Kind.BOOLEAN, read=lambda d: d.shared_ipad),
        "username": FieldSpec(kind=Kind.STRING, read=lambda d: d.pupil_ref),
        "building": FieldSpec(kind=Kind.STRING, read=lambda d: None),
        "room": FieldSpec(kind=Kind.STRING, read=lambda d: d.class_name),
        "groupId": FieldSpec(kind=Kind.NUMBER, read=_group_ids),
        "groupName": FieldSpec(kind=Kind.STRING, read=group_names),
    }


# Sort keys that never change for a device, so a sorted order can be cached.
_STATIC_SORT_KEYS: dict[str, Callable[[Device], Any]] = {
    "displayname": lambda d: (d.name.casefold(), d.device_id),
    "name": lambda d: (d.name.casefold(), d.device_id),
    "id": lambda d: d.device_id,
    "mobiledeviceid": lambda d: d.device_id,
    "serialnumber": lambda d: d.serial,
    "udid": lambda d: d.udid,
    "managementid": lambda d: d.management_id,
    "username": lambda d: d.pupil_ref,
}
_DYNAMIC_SORT_KEYS: dict[str, Callable[[Device], Any]] = {
    "lastinventoryupdatedate": lambda d: d.last_inventory_update,
    "lastcontactdate": lambda d: d.last_checkin,
}


def _sorted_devices(state: JamfProState, sort: str) -> Sequence[Device]:
    devices = state.fleet.devices
    keys = [part.strip() for part in sort.split(",") if part.strip()]
    if len(keys) == 1 and keys[0].split(":")[0].casefold() in ("id", "mobiledeviceid"):
        return devices if not keys[0].casefold().endswith(":desc") else devices[::-1]
    ordered: list[Device] = list(devices)
    for key in reversed(keys):  # stable sorts applied from the last key to the first
        name, _, direction = key.partition(":")
        direction = direction.casefold() or "asc"
        if direction not in ("asc", "desc"):
            raise JamfProError(api_error(400, "INVALID_FIELD", f"bad sort {key!r}", field="sort"))
        read = _STATIC_SORT_KEYS.get(name.casefold()) or _DYNAMIC_SORT_KEYS.get(name.casefold())
        if read is None:
            raise JamfProError(api_error(400, "INVALID_FIELD", f"cannot sort on {name!r}"))
        cache_key = f"{name.casefold()}:{direction}"
        if len(keys) == 1 and name.casefold() in _STATIC_SORT_KEYS:
            cached = state.sorted_devices.get(cache_key)
            if cached is None or len(cached) != len(devices):
                cached = sorted(devices, key=read, reverse=direction == "desc")
                state.sorted_devices[cache_key] = cached
            return cached
        ordered.sort(key=read, reverse=direction == "desc")
    return ordered


def _filtered(state: JamfProState, devices: Sequence[Device], text: str) -> Sequence[Device]:
    try:
        predicate = compile_filter(text, _detail_fields(state.fleet))
        node = parse(text)
    except RsqlError as error:
        raise JamfProError(
            api_error(400, "INVALID_FIELD", f"Invalid filter: {error}", field="filter")
        ) from error
    fleet = state.fleet
    lookups: dict[str, Callable[[str], Device | None]] = {
        "udid": fleet.device_by_udid,
        "managementId": fleet.device_by_management_id,
        "serialNumber": fleet.device_by_serial,
        "mobileDeviceId": lambda v: fleet.device_by_id(int(v)) if v.isdigit() else None,
    }
    for selector, lookup in lookups.items():
        pinned = equality_values(node, selector)
        if pinned is not None:
            # String matching ignores case, so try the spellings identifiers come in.
            spellings = {form for v in pinned for form in (v, v.lower(), v.upper())}
            candidates = {d.device_id for v in spellings if (d := lookup(v)) is not None}
            return [d for d in devices if d.device_id in candidates and predicate(d)]
    return [device for device in devices if predicate(device)]


def _requested_sections(request: Request) -> tuple[str, ...]:
    sections: list[str] = []
    for raw in request.query_params.getlist("section"):
        for part in raw.split(","):  # the comma form is accepted as well as repeats
            name = part.strip().upper()
            if name and name not in SECTIONS:
                raise JamfProError(
                    api_error(400, "INVALID_FIELD", f"Unknown section {part!r}", field="section")
                )
            if name:
                sections.append(name)
    return tuple(sections) or ("GENERAL",)


@router.get("/api/v2/mobile-devices/detail")
async def detail_listing(request: Request) -> Response:
    state = jamf_state(request)
    page, size = page_window(request)
    sections = _requested_sections(request)
    handling = request.query_params.get("exception-handling", "STRICT").upper()
    if handling not in ("STRICT", "LENIENT"):
        raise JamfProError(api_error(400, "INVALID_FIELD", "exception-handling is invalid"))
    devices = _sorted_devices(state, request.query_params.get("sort", "displayName:asc"))
    text = request.query_params.get("filter")
    if text:
        devices = _filtered(state, devices, text)
    chosen = devices[page * size : (page + 1) * size]
    broken = state.settings.broken_device_ids
    if handling == "STRICT" and any(d.device_id in broken for d in chosen):
        # Jamf documents a 500 for a page holding a device whose record cannot be read.
        raise JamfProError(api_error(500))
    fleet = state.fleet
    results = [detail_item(fleet, d, sections, broken=d.device_id in broken) for d in chosen]
    return json_response({"totalCount": len(devices), "results": results})


@router.get("/api/v2/mobile-devices")
async def device_listing(request: Request) -> Response:
    state = jamf_state(request)
    page, size = page_window(request)
    # This route has no filter parameter; a filter sent anyway is ignored, as Jamf does.
    devices = _sorted_devices(state, request.query_params.get("sort", "id:asc"))
    chosen = devices[page * size : (page + 1) * size]
    return json_response({"totalCount": len(devices), "results": [list_item(d) for d in chosen]})


def device_or_404(state: JamfProState, raw_id: str) -> Device:
    device = state.fleet.device_by_id(int(raw_id)) if raw_id.isdigit() else None
    if device is None:
        raise JamfProError(api_error(404, "INVALID_ID", f"Mobile device {raw_id} not found"))
    return device


@router.get("/api/v2/mobile-devices/{device_id}")
async def one_device(request: Request, device_id: str) -> Response:
    device = device_or_404(jamf_state(request), device_id)
    return json_response(list_item(device))


@router.get("/api/v2/mobile-devices/{device_id}/detail")
async def one_device_detail(request: Request, device_id: str) -> Response:
    state = jamf_state(request)
    return json_response(flat_detail(state.fleet, device_or_404(state, device_id)))
