"""Jamf Pro v2 MDM command routes: send (``POST /api/v2/mdm/commands``), status, blank push.

Commands target ``managementId`` and go into each device's queue in the fleet as Apple request
types; their state stays PENDING until the device checks in. The status listing needs a filter,
as on the real server, and always fills ``dateCompleted`` (Jamf's Python SDK requires it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mocks.commands import Command, CommandState, RequestType
from mocks.device import Device
from mocks.jamf_pro.auth import check_api_token, check_privilege, require_api_token
from mocks.jamf_pro.errors import JamfProError, api_error
from mocks.jamf_pro.privileges import command_privilege
from mocks.jamf_pro.rsql import FieldSpec, Kind, RsqlError, compile_filter, equality_values, parse
from mocks.jamf_pro.state import JamfProState, jamf_state
from mocks.jamf_pro.wire import jamf_time, json_response, page_window, read_json

router = APIRouter(dependencies=[Depends(require_api_token)])

SOURCE = "jamf-pro"

# v2 commandType -> (Apple request type, {commandData key: fleet parameter}).
V2_COMMANDS: dict[str, tuple[RequestType, dict[str, str]]] = {
    "ENABLE_LOST_MODE": (
        RequestType.ENABLE_LOST_MODE,
        {"lostModeMessage": "message", "lostModePhone": "phone", "lostModeFootnote": "footnote"},
    ),
    "DISABLE_LOST_MODE": (RequestType.DISABLE_LOST_MODE, {}),
    "DEVICE_LOCK": (RequestType.DEVICE_LOCK, {"message": "message", "phoneNumber": "phone"}),
    "PLAY_LOST_MODE_SOUND": (RequestType.PLAY_LOST_MODE_SOUND, {}),
    "DEVICE_LOCATION": (RequestType.DEVICE_LOCATION, {}),
    "DEVICE_INFORMATION": (RequestType.DEVICE_INFORMATION, {"queries": "queries"}),
    "CLEAR_PASSCODE": (RequestType.CLEAR_PASSCODE, {"unlockToken": "unlock_token"}),
    "RESTART_DEVICE": (RequestType.RESTART_DEVICE, {}),
    "SHUT_DOWN_DEVICE": (RequestType.SHUT_DOWN_DEVICE, {}),
    "SETTINGS": (RequestType.SETTINGS, {"timeZone": "time_zone", "deviceName": "device_name"}),
    "ERASE_DEVICE": (RequestType.ERASE_DEVICE, {}),
}

# How command records name request types that only the server itself queues (profiles).
_LISTED_TYPES = {request: name for name, (request, _) in V2_COMMANDS.items()} | {
    RequestType.INSTALL_PROFILE: "INSTALL_PROFILE",
    RequestType.REMOVE_PROFILE: "REMOVE_PROFILE",
    RequestType.SECURITY_INFO: "SECURITY_INFO",
    RequestType.WALLPAPER: "WALLPAPER",
}


def _invalid(description: str, field: str | None = None) -> JamfProError:
    return JamfProError(api_error(400, "INVALID_FIELD", description, field=field))


@router.post("/api/v2/mdm/commands")
async def send_commands(request: Request) -> Response:
    state = jamf_state(request)
    body = await read_json(request)
    if body == {}:
        # Jamf cannot queue an empty request and says so with a bare 500.
        raise JamfProError(api_error(500))
    if not isinstance(body, dict):
        raise _invalid("Body must be a JSON object")
    client_data, command_data = body.get("clientData"), body.get("commandData")
    if not isinstance(client_data, list) or not client_data:
        raise _invalid("clientData must list at least one client", "clientData")
    if not isinstance(command_data, dict) or not command_data:
        raise _invalid("commandData is required", "commandData")
    kind = command_data.get("commandType")
    if kind not in V2_COMMANDS:
        # Jamf turns an unknown enum into null, so the request fails as if it were missing.
        raise _invalid("commandType is required", "commandData.commandType")
    check_privilege(request, check_api_token(request), command_privilege(kind))
    request_type, field_map = V2_COMMANDS[kind]
    params = {
        ours: command_data[theirs] for theirs, ours in field_map.items() if theirs in command_data
    }
    devices = _targets(state, client_data)
    if request_type is RequestType.ENABLE_LOST_MODE:
        if not params.get("message") and not params.get("phone"):
            raise _invalid("lostModeMessage or lostModePhone is required", "commandData")
        if state.settings.refuse_unsupervised_lost_mode_at_post:
            unsupervised = [d for d in devices if not d.supervised]
            if unsupervised:
                raise _invalid("Lost Mode needs supervised devices", "clientData")
    base = str(request.base_url).rstrip("/")
    answer = []
    for device in devices:
        command = state.fleet.enqueue(device, request_type, dict(params), source=SOURCE)
        answer.append(
            {"id": command.uuid, "href": f"{base}/api/v2/mdm/commands?filter=uuid=={command.uuid}"}
        )
    return json_response(answer, status=201)


def _targets(state: JamfProState, client_data: list[Any]) -> list[Device]:
    devices = []
    for position, client in enumerate(client_data):
        management_id = client.get("managementId") if isinstance(client, dict) else None
        device = (
            state.fleet.device_by_management_id(management_id)
            if isinstance(management_id, str)
            else None
        )
        if device is None:
            # Refuse the whole call: nothing is queued when one target is unknown.
            raise JamfProError(
                api_error(
                    400,
                    "INVALID_ID",
                    f"No managed client with managementId {management_id!r}",
                    field=f"clientData[{position}].managementId",
                )
            )
        devices.append(device)
    return devices


def _command_fields(state: JamfProState) -> dict[str, FieldSpec[Command]]:
    fleet = state.fleet

    def profile_identifier(command: Command) -> str | None:
        profile = fleet.profile(command.profile_id) if command.profile_id else None
        return profile.content.identifier if profile else None

    return {
        "uuid": FieldSpec(kind=Kind.STRING, read=lambda c: c.uuid),
        "clientManagementId": FieldSpec(
            kind=Kind.STRING, read=lambda c: fleet.devices[c.device_index].management_id
        ),
        "command": FieldSpec(kind=Kind.STRING, read=lambda c: _LISTED_TYPES.get(c.request_type)),
        "status": FieldSpec(kind=Kind.STRING, read=lambda c: str(c.state)),
        "clientType": FieldSpec(kind=Kind.STRING, read=lambda c: "MOBILE_DEVICE"),
        "dateSent": FieldSpec(kind=Kind.DATE, read=lambda c: c.queued_at),
        "validAfter": FieldSpec(kind=Kind.DATE, read=lambda c: c.queued_at),
        "dateCompleted": FieldSpec(kind=Kind.DATE, read=lambda c: c.completed_at),
        "profileId": FieldSpec(kind=Kind.NUMBER, read=lambda c: c.profile_id),
        "profileIdentifier": FieldSpec(kind=Kind.STRING, read=profile_identifier),
        "active": FieldSpec(kind=Kind.BOOLEAN, read=lambda c: c.state is CommandState.PENDING),
    }


def _candidates(state: JamfProState, text: str) -> Iterable[Command]:
    node = parse(text)
    fleet = state.fleet
    uuids = equality_values(node, "uuid")
    if uuids is not None:
        return [c for u in {u.lower() for u in uuids} if (c := fleet.command(u)) is not None]
    clients = equality_values(node, "clientManagementId")
    if clients is not None:
        spellings = {form for m in clients for form in (m, m.lower())}
        devices = [d for m in spellings if (d := fleet.device_by_management_id(m)) is not None]
        return [c for d in devices for c in fleet.commands_for(d)]
    return fleet.all_commands()


@router.get("/api/v2/mdm/commands")
async def command_status(request: Request) -> Response:
    state = jamf_state(request)
    text = request.query_params.get("filter")
    if not text:
        raise JamfProError(api_error(400))
    page, size = page_window(request)
    try:
        predicate = compile_filter(text, _command_fields(state))
        candidates = _candidates(state, text)
    except RsqlError as error:
        raise _invalid(f"Invalid filter: {error}", "filter") from error
    matches = [c for c in candidates if predicate(c)]
    sort = request.query_params.get("sort", "dateSent:asc")
    matches.sort(key=_sort_key(sort), reverse=sort.casefold().endswith(":desc"))
    chosen = matches[page * size : (page + 1) * size]
    results = [_command_record(state, c) for c in chosen]
    return json_response({"totalCount": len(matches), "results": results})


def _sort_key(sort: str) -> Callable[[Command], Any]:
    name = sort.split(",")[0].split(":")[0].casefold()
    if name == "datecompleted":
        return lambda c: (c.completed_at or 0.0, c.queued_at)
    if name in ("datesent", "validafter"):
        return lambda c: c.queued_at
    if name == "uuid":
        return lambda c: c.uuid
    raise _invalid(f"cannot sort on {name!r}", "sort")


def _command_record(state: JamfProState, command: Command) -> dict[str, Any]:
    error = command.error
    device = state.fleet.devices[command.device_index]
    sent = jamf_time(command.queued_at)
    return {
        "uuid": command.uuid,
        "dateSent": sent,
        # Never null: a still-pending command repeats dateSent here.
        "dateCompleted": jamf_time(command.completed_at) if command.completed_at else sent,
        "client": {"managementId": device.management_id, "clientType": "MOBILE_DEVICE"},
        "commandState": str(command.state),
        "commandType": _LISTED_TYPES.get(command.request_type, "UNKNOWN"),
        "commandError": None
        if error is None
        else {
            "errorCode": error.code,
            "errorDomain": error.domain,
            "errorLocalizedDescription": error.description,
            "errorEnglishDescription": error.description,
        },
        "profileId": command.profile_id,
    }


@router.post("/api/v2/mdm/blank-push")
async def blank_push(request: Request) -> Response:
    state = jamf_state(request)
    body = await read_json(request)
    ids = body.get("clientManagementIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids:
        raise _invalid("clientManagementIds must list at least one id", "clientManagementIds")
    unknown = []
    for management_id in ids:
        device = (
            state.fleet.device_by_management_id(management_id)
            if isinstance(management_id, str)
            else None
        )
        if device is None:
            unknown.append(management_id)
        else:
            state.fleet.push(device)
    return json_response({"errorUuids": unknown})
