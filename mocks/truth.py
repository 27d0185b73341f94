"""Ground truth: a device's real state rendered as JSON-ready dicts for the control API.

The control API (``mocks.control``) serves these so that tests can compare what a connector
believes with what the simulated iPad really is, without going through any vendor front.
"""

from __future__ import annotations

import math
from typing import Any

from mocks.clock import from_epoch
from mocks.commands import Command
from mocks.device import Device
from mocks.fleet import Fleet


def iso(seconds: float | None) -> str | None:
    if seconds is None or not math.isfinite(seconds):
        return None
    return from_epoch(seconds).isoformat().replace("+00:00", "Z")


def device_truth(fleet: Fleet, device: Device) -> dict[str, Any]:
    now = fleet.now()
    lost = device.lost_mode
    return {
        "deviceId": device.device_id,
        "serialNumber": device.serial,
        "udid": device.udid,
        "managementId": device.management_id,
        "name": device.name,
        "enrolled": device.enrolled,
        "supervised": device.supervised,
        "hasPasscode": device.has_passcode,
        "pupil": {
            "ref": device.pupil_ref,
            "name": device.pupil_name,
            "yearGroup": device.year_group,
            "className": device.class_name,
        },
        "online": device.is_online(now),
        "offlineUntil": _offline_until(device, now),
        "screenLocked": device.is_screen_locked(now),
        "lostMode": None
        if lost is None
        else {
            "message": lost.message,
            "phone": lost.phone,
            "footnote": lost.footnote,
            "since": iso(lost.since),
        },
        "profiles": [
            {
                "profileId": p.profile_id,
                "identifier": p.identifier,
                "version": p.version,
                "installedAt": iso(p.installed_at),
                "removesAt": iso(p.removes_at),
            }
            for p in sorted((device.installed or {}).values(), key=lambda p: p.profile_id)
        ],
        "groups": sorted(device.group_ids or ()),
        "pendingCommands": [command_truth(c) for c in fleet.pending_for(device)],
        "lastCheckIn": iso(device.last_checkin),
        "nextCheckIn": iso(device.next_checkin),
        "clockOffsetSeconds": device.clock_offset,
        "notices": [
            {"kind": n.kind, "at": iso(n.at), "detail": n.detail} for n in device.notices or ()
        ],
    }


def _offline_until(device: Device, now: float) -> str | None:
    if device.is_online(now):
        return None
    return iso(device.offline_until) or "indefinitely"


def command_truth(command: Command) -> dict[str, Any]:
    error = command.error
    return {
        "uuid": command.uuid,
        "requestType": str(command.request_type),
        "state": str(command.state),
        "source": command.source,
        "profileId": command.profile_id,
        "queuedAt": iso(command.queued_at),
        "completedAt": iso(command.completed_at),
        "result": command.result,
        "error": None
        if error is None
        else {"code": error.code, "domain": error.domain, "description": error.description},
    }
