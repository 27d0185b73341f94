"""Classic MDM command routes (the fallback API), command history and command flush.

``POST /JSSResource/mobiledevicecommands/command/{Command}/id/{ids}`` takes comma-separated ids;
which command names are accepted depends on the emulated Jamf Pro version (``DisableLostMode``
and others were removed in 11.28, ``DeviceLock`` left the list in 11.23). Each accepted command
becomes one fleet command per device.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from fastapi import APIRouter, Depends, Request, Response

from mocks.commands import Command, CommandState, RequestType
from mocks.device import Device
from mocks.jamf_pro.auth import check_classic_token, check_privilege, require_classic_token
from mocks.jamf_pro.errors import JamfProError, classic_page
from mocks.jamf_pro.privileges import command_privilege
from mocks.jamf_pro.state import ClassicCommandRecord, JamfProState, jamf_state
from mocks.jamf_pro.wire import jamf_time
from mocks.jamf_pro.xmlio import classic_answer, parse_xml, text_of, xml_answer

router = APIRouter(dependencies=[Depends(require_classic_token)])

SOURCE = "jamf-pro-classic"
_ALWAYS = {
    "EnableLostMode": RequestType.ENABLE_LOST_MODE,
    "UpdateInventory": RequestType.DEVICE_INFORMATION,
    "Wallpaper": RequestType.WALLPAPER,
    "PasscodeLockGracePeriod": RequestType.SETTINGS,
    "DeviceLocation": RequestType.DEVICE_LOCATION,
    "PlayLostModeSound": RequestType.PLAY_LOST_MODE_SOUND,
    "RefreshCellularPlans": RequestType.DEVICE_INFORMATION,
}
_REMOVED_IN_11_28 = {
    "DisableLostMode": RequestType.DISABLE_LOST_MODE,
    "ClearPasscode": RequestType.CLEAR_PASSCODE,
    "RestartDevice": RequestType.RESTART_DEVICE,
}
_DEPRECATED = frozenset({"UpdateInventory", "Wallpaper", "RefreshCellularPlans"})
_FLUSH_STATES = {
    "pending": (CommandState.PENDING,),
    "failed": (CommandState.ERROR, CommandState.NOT_NOW),
    "pending+failed": (CommandState.PENDING, CommandState.ERROR, CommandState.NOT_NOW),
}


def _accepted(state: JamfProState, name: str) -> RequestType | None:
    if name in _ALWAYS:
        return _ALWAYS[name]
    if name in _REMOVED_IN_11_28 and not state.version_at_least("11.28"):
        return _REMOVED_IN_11_28[name]
    if name == "DeviceLock" and (
        state.settings.classic_device_lock_accepted or not state.version_at_least("11.23")
    ):
        return RequestType.DEVICE_LOCK
    return None


def _devices(state: JamfProState, raw_ids: list[str]) -> list[Device]:
    devices = []
    for raw in raw_ids:
        device = state.fleet.device_by_id(int(raw)) if raw.strip().isdigit() else None
        if device is None:
            raise JamfProError(classic_page(404, f"Not Found: mobile device {raw}"))
        devices.append(device)
    return devices


def _lost_mode_params(general: Element | None) -> dict[str, Any]:
    enforce = text_of(general, "always_enforce_lost_mode")
    return {
        "message": text_of(general, "lost_mode_message"),
        "phone": text_of(general, "lost_mode_phone"),
        "footnote": text_of(general, "lost_mode_footnote"),
        # Jamf re-applies Lost Mode after a wipe unless told not to.
        "always_enforce": enforce is None or enforce.casefold() == "true",
    }


def _send(
    state: JamfProState, name: str, devices: list[Device], general: Element | None
) -> Response:
    if name == "BlankPush" and not state.version_at_least("11.28"):
        for device in devices:
            state.fleet.push(device)
        uuids: list[str] = []
    else:
        request_type = _accepted(state, name)
        if request_type is None:
            raise JamfProError(classic_page(400, f"Bad Request: command {name} is not available"))
        params = _lost_mode_params(general) if request_type is RequestType.ENABLE_LOST_MODE else {}
        if request_type is RequestType.ENABLE_LOST_MODE and not (
            params["message"] or params["phone"]
        ):
            raise JamfProError(classic_page(409, "Error: lost mode message or phone is required"))
        uuids = [
            state.fleet.enqueue(device, request_type, dict(params), source=SOURCE).uuid
            for device in devices
        ]
    record = ClassicCommandRecord(
        command_id=len(state.classic_commands) + 1, command=name, uuids=uuids
    )
    state.classic_commands.append(record)
    answer = xml_answer(
        "mobile_device_command",
        {
            "id": record.command_id,
            "uuid": uuids[0] if uuids else "",
            "command": name,
            "mobile_devices": [{"id": d.device_id, "status": "Command sent"} for d in devices],
        },
    )
    if name in _DEPRECATED:
        answer.headers["deprecation"] = "true"
    return answer


@router.post("/JSSResource/mobiledevicecommands/command/{name}/id/{ids}")
async def send_by_path(request: Request, name: str, ids: str) -> Response:
    check_privilege(request, check_classic_token(request), command_privilege(name))
    state = jamf_state(request)
    body = await request.body()
    general = parse_xml(body).find("general") if body.strip() else None
    return _send(state, name, _devices(state, ids.split(",")), general)


@router.post("/JSSResource/mobiledevicecommands/command")
async def send_by_body(request: Request) -> Response:
    state = jamf_state(request)
    root = parse_xml(await request.body())
    general = root.find("general")
    name = text_of(general, "command")
    if not name:
        raise JamfProError(classic_page(409, "Error: command is required"))
    check_privilege(request, check_classic_token(request), command_privilege(name))
    ids = [
        text
        for node in root.iterfind("mobile_devices/mobile_device")
        if (text := text_of(node, "id"))
    ]
    if not ids:
        raise JamfProError(classic_page(409, "Error: no mobile devices named"))
    return _send(state, name, _devices(state, ids), general)


_APNS_STATUS = {
    CommandState.PENDING: "",
    CommandState.ACKNOWLEDGED: "Acknowledged",
    CommandState.NOT_NOW: "NotNow",
    CommandState.ERROR: "Error",
}


def _history_entry(state: JamfProState, command: Command) -> dict[str, Any]:
    device = state.fleet.devices[command.device_index]
    return {
        "uuid": command.uuid,
        "command": str(command.request_type),
        "apns_result_status": _APNS_STATUS[command.state],
        "date_sent_epoch": int(command.queued_at * 1000),
        "date_sent_utc": jamf_time(command.queued_at),
        "date_completed_utc": jamf_time(command.completed_at) if command.completed_at else "",
        "mobile_devices": [{"id": device.device_id, "udid": device.udid}],
    }


@router.get("/JSSResource/mobiledevicecommands")
async def all_commands(request: Request) -> Response:
    state = jamf_state(request)
    entries = [_history_entry(state, c) for c in state.fleet.all_commands()]
    return classic_answer(request, "mobile_device_commands", entries)


@router.get("/JSSResource/mobiledevicecommands/uuid/{uuid}")
async def command_by_uuid(request: Request, uuid: str) -> Response:
    state = jamf_state(request)
    command = state.fleet.command(uuid.lower())
    if command is None:
        raise JamfProError(classic_page(404, "Not Found"))
    return classic_answer(request, "mobile_device_command", _history_entry(state, command))


@router.get("/JSSResource/mobiledevicecommands/command/{name}")
async def commands_by_name(request: Request, name: str) -> Response:
    state = jamf_state(request)
    entries = [
        _history_entry(state, c)
        for c in state.fleet.all_commands()
        if str(c.request_type).casefold() == name.casefold()
    ]
    return classic_answer(request, "mobile_device_commands", entries)


@router.get("/JSSResource/mobiledevicehistory/id/{device_id}/subset/ManagementCommands")
async def command_history(request: Request, device_id: str) -> Response:
    state = jamf_state(request)
    device = _devices(state, [device_id])[0]
    completed, pending, failed = [], [], []
    for command in state.fleet.commands_for(device):
        entry = {
            "name": str(command.request_type),
            "uuid": command.uuid,
            "date_time_issued_utc": jamf_time(command.queued_at),
        }
        if command.state is CommandState.PENDING:
            pending.append(entry)
        elif command.state is CommandState.ACKNOWLEDGED:
            completed.append(
                entry | {"date_time_completed_utc": jamf_time(command.completed_at or 0)}
            )
        else:
            error = command.error
            status = "NotNow" if command.state is CommandState.NOT_NOW else "Error"
            failed.append(entry | {"status": status, "error": error.description if error else ""})
    body = {
        "general": {"id": device.device_id, "name": device.name, "udid": device.udid},
        "management_commands": {"completed": completed, "pending": pending, "failed": failed},
    }
    return classic_answer(request, "mobile_device_history", body)


@router.delete("/JSSResource/commandflush/{target}/id/{ids}/status/{status}")
async def flush(request: Request, target: str, ids: str, status: str) -> Response:
    state = jamf_state(request)
    states = _FLUSH_STATES.get(status.replace(" ", "+").casefold())
    if states is None or target not in ("mobiledevices", "mobiledevicegroups"):
        raise JamfProError(classic_page(400, "Bad Request"))
    if target == "mobiledevices":
        devices = _devices(state, ids.split(","))
    else:
        devices = []
        for raw in ids.split(","):
            group = state.fleet.group(int(raw)) if raw.strip().isdigit() else None
            if group is None:
                raise JamfProError(classic_page(404, "Not Found"))
            devices.extend(state.fleet.group_members(group))
    for device in devices:
        state.fleet.flush(device, states)
    return xml_answer("commandflush", {"status": "+".join(s.value for s in states)}, status=200)
