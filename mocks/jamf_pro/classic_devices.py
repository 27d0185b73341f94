"""Classic inventory: ``GET /JSSResource/mobiledevices`` (no paging) and ``/id/{id}``.

Shapes follow Jamf's Classic records (snake_case, XML by default, JSON on request). One knob
reproduces Jamf's own sample where ``lost_mode_enabled`` holds a sentence instead of a boolean.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mocks.device import Device
from mocks.jamf_pro.auth import require_classic_token
from mocks.jamf_pro.errors import JamfProError, classic_page
from mocks.jamf_pro.state import JamfProState, jamf_state
from mocks.jamf_pro.wire import jamf_time
from mocks.jamf_pro.xmlio import classic_answer

router = APIRouter(dependencies=[Depends(require_classic_token)])

UNSUPPORTED_LOST_MODE_TEXT = "Unsupported OS Version or Device Type"


def summary(device: Device) -> dict[str, Any]:
    return {
        "id": device.device_id,
        "name": device.name,
        "device_name": device.name,
        "udid": device.udid,
        "serial_number": device.serial,
        "phone_number": "",
        "wifi_mac_address": device.wifi_mac,
        "managed": True,
        "supervised": device.supervised,
        "model": device.model,
        "model_identifier": device.model_identifier,
        "model_display": device.model,
        "username": device.pupil_ref,
    }


def full_record(state: JamfProState, device: Device) -> dict[str, Any]:
    lost = device.lost_mode
    lost_enabled: bool | str = lost is not None
    if device.device_id in state.settings.text_lost_mode_device_ids:
        lost_enabled = UNSUPPORTED_LOST_MODE_TEXT
    inventory_ms = int(device.last_inventory_update * 1000)
    groups = [
        {"id": g.group_id, "name": g.name}
        for i in sorted(device.group_ids or ())
        if (g := state.fleet.group(i)) is not None
    ]
    return {
        "general": {
            "id": device.device_id,
            "display_name": device.name,
            "device_name": device.name,
            "name": device.name,
            "asset_tag": f"ASSET-{device.device_id:06d}",
            "last_inventory_update_epoch": inventory_ms,
            "last_inventory_update_utc": jamf_time(device.last_inventory_update),
            "os_type": "iOS",
            "os_version": device.os_version,
            "serial_number": device.serial,
            "udid": device.udid,
            "wifi_mac_address": device.wifi_mac,
            "managed": True,
            "supervised": device.supervised,
            "shared": device.shared_ipad,
            "device_ownership_level": "Institutional",
            "site": {"id": -1, "name": "None"},
        },
        "location": {
            "username": device.pupil_ref,
            "realname": device.pupil_name,
            "position": device.year_group,
            "room": device.class_name,
        },
        "security": {
            "data_protection": device.has_passcode,
            "passcode_present": device.has_passcode,
            "passcode_compliant": device.has_passcode,
            "lost_mode_enabled": lost_enabled,
            "lost_mode_enforced": bool(lost and lost.always_enforce),
            "lost_mode_message": lost.message if lost else "",
            "lost_mode_phone": lost.phone if lost else "",
            "lost_mode_footnote": lost.footnote if lost else "",
        },
        "mobile_device_groups": groups,
        "configuration_profiles": [
            {"display_name": i.identifier, "version": i.version, "identifier": i.identifier}
            for i in sorted((device.installed or {}).values(), key=lambda i: i.profile_id)
        ],
    }


def classic_device(state: JamfProState, raw_id: str) -> Device:
    device = state.fleet.device_by_id(int(raw_id)) if raw_id.isdigit() else None
    if device is None:
        raise JamfProError(classic_page(404, "Not Found"))
    return device


@router.get("/JSSResource/mobiledevices")
async def all_devices(request: Request) -> Response:
    devices = jamf_state(request).fleet.devices
    return classic_answer(request, "mobile_devices", [summary(d) for d in devices])


@router.get("/JSSResource/mobiledevices/id/{device_id}")
async def one_device(request: Request, device_id: str) -> Response:
    state = jamf_state(request)
    return classic_answer(
        request, "mobile_device", full_record(state, classic_device(state, device_id))
    )
