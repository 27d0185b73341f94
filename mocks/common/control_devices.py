"""Control API, device side: ground truth per device and levers on the simulated iPads.

Mounted under ``/_mock/`` on every vendor app by ``mocks.common.control``. A device key may be
its numeric id, serial number, UDID or management id.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from mocks.commands import CommandState
from mocks.common.vendor import MockVendor
from mocks.device import Device
from mocks.fleet import ClockLocked, Fleet
from mocks.truth import command_truth, device_truth

router = APIRouter(prefix="/_mock", tags=["mock control"])


class OfflineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hours: float | None = Field(default=None, gt=0, description="omit to stay offline until told")


class ScreenLockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    locked: bool
    minutes: float | None = Field(default=None, gt=0, description="omit to stay locked")


class DevicePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    supervised: bool | None = None
    has_passcode: bool | None = Field(default=None, alias="hasPasscode")
    clock_offset_seconds: float | None = Field(default=None, alias="clockOffsetSeconds")
    fail_lost_mode_release: bool | None = Field(default=None, alias="failLostModeRelease")


def vendor_of(request: Request) -> MockVendor:
    vendor: MockVendor = request.app.state.mock_vendor
    return vendor


def find_device(fleet: Fleet, key: str) -> Device:
    device = (
        (fleet.device_by_id(int(key)) if key.isdigit() else None)
        or fleet.device_by_serial(key, include_unenrolled=True)
        or fleet.device_by_udid(key)
        or fleet.device_by_management_id(key)
    )
    if device is None:
        raise HTTPException(status_code=404, detail=f"no device {key!r}")
    return device


@router.get("/devices")
async def list_devices(
    request: Request,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=5000),
    lost_mode: bool | None = Query(None, alias="lostMode"),
    online: bool | None = None,
    group: int | None = None,
    has_pending: bool | None = Query(None, alias="hasPending"),
    profile: int | None = Query(None, description="devices with this profile installed"),
) -> dict[str, Any]:
    """Ground truth for many devices; the filters narrow it before paging."""
    fleet = vendor_of(request).fleet
    now = fleet.now()
    devices = [
        device
        for device in fleet.devices
        if (lost_mode is None or (device.lost_mode is not None) == lost_mode)
        and (online is None or device.is_online(now) == online)
        and (group is None or device.in_group(group))
        and (has_pending is None or bool(device.pending) == has_pending)
        and (profile is None or (device.installed is not None and profile in device.installed))
    ]
    chosen = devices[offset : offset + limit]
    return {"total": len(devices), "devices": [device_truth(fleet, d) for d in chosen]}


@router.get("/summary")
async def summary(request: Request) -> dict[str, Any]:
    """Counts over the whole fleet, for asserting convergence of thousands of devices at once."""
    fleet = vendor_of(request).fleet
    now = fleet.now()
    profiles: Counter[int] = Counter()
    for device in fleet.devices:
        profiles.update(device.installed or ())
    states = Counter(str(command.state) for command in fleet.all_commands())
    return {
        "devices": len(fleet.devices),
        "unenrolled": len(fleet.unenrolled),
        "online": sum(device.is_online(now) for device in fleet.devices),
        "screenLocked": sum(device.is_screen_locked(now) for device in fleet.devices),
        "lostMode": sum(device.lost_mode is not None for device in fleet.devices),
        "supervised": sum(device.supervised for device in fleet.devices),
        "withPendingCommands": sum(bool(device.pending) for device in fleet.devices),
        "commandsByState": {state.value: states.get(state.value, 0) for state in CommandState},
        "profilesInstalled": {str(key): profiles[key] for key in sorted(profiles)},
    }


@router.get("/devices/{key}")
async def get_device(request: Request, key: str) -> dict[str, Any]:
    fleet = vendor_of(request).fleet
    return device_truth(fleet, find_device(fleet, key))


@router.patch("/devices/{key}")
async def patch_device(request: Request, key: str, body: DevicePatch) -> dict[str, Any]:
    fleet = vendor_of(request).fleet
    device = find_device(fleet, key)
    if body.supervised is not None:
        device.supervised = body.supervised
    if body.has_passcode is not None:
        device.has_passcode = body.has_passcode
    if body.clock_offset_seconds is not None:
        try:
            fleet.set_clock_offset(device, body.clock_offset_seconds)
        except ClockLocked as error:
            raise HTTPException(status_code=409, detail=str(error)) from error
    if body.fail_lost_mode_release is not None:
        device.fail_lost_mode_release = body.fail_lost_mode_release
    return device_truth(fleet, device)


@router.post("/devices/{key}/offline")
async def take_offline(request: Request, key: str, body: OfflineRequest) -> dict[str, Any]:
    fleet = vendor_of(request).fleet
    device = find_device(fleet, key)
    until = None if body.hours is None else fleet.now() + body.hours * 3600.0
    fleet.set_offline(device, until)
    return device_truth(fleet, device)


@router.post("/devices/{key}/online")
async def bring_online(request: Request, key: str) -> dict[str, Any]:
    fleet = vendor_of(request).fleet
    device = find_device(fleet, key)
    fleet.set_online(device)
    return device_truth(fleet, device)


@router.post("/devices/{key}/screen-lock")
async def screen_lock(request: Request, key: str, body: ScreenLockRequest) -> dict[str, Any]:
    fleet = vendor_of(request).fleet
    device = find_device(fleet, key)
    if not body.locked:
        fleet.set_screen_locked(device, None)
    else:
        minutes = body.minutes
        fleet.set_screen_locked(
            device, float("inf") if minutes is None else fleet.now() + minutes * 60.0
        )
    return device_truth(fleet, device)


@router.post("/devices/{key}/check-in")
async def check_in(request: Request, key: str) -> dict[str, Any]:
    fleet = vendor_of(request).fleet
    device = find_device(fleet, key)
    checked_in = fleet.check_in(device)
    return {"checkedIn": checked_in, "device": device_truth(fleet, device)}


@router.get("/commands")
async def list_commands(
    request: Request,
    device: str | None = None,
    state: CommandState | None = None,
    limit: int = Query(1000, ge=1, le=100_000),
) -> dict[str, Any]:
    fleet = vendor_of(request).fleet
    commands = (
        fleet.commands_for(find_device(fleet, device))
        if device is not None
        else list(fleet.all_commands())
    )
    if state is not None:
        commands = [c for c in commands if c.state is state]
    return {"total": len(commands), "commands": [command_truth(c) for c in commands[:limit]]}


@router.get("/groups")
async def list_groups(request: Request) -> list[dict[str, Any]]:
    fleet = vendor_of(request).fleet
    return [
        {"id": g.group_id, "name": g.name, "members": sorted(g.members)} for g in fleet.groups()
    ]


@router.get("/profiles")
async def list_profiles(request: Request) -> list[dict[str, Any]]:
    fleet = vendor_of(request).fleet
    return [
        {
            "id": p.profile_id,
            "name": p.name,
            "identifier": p.content.identifier,
            "version": p.version,
            "scope": {
                "allDevices": p.scope.all_devices,
                "deviceIds": sorted(p.scope.device_ids),
                "groupIds": sorted(p.scope.group_ids),
                "excludedDeviceIds": sorted(p.scope.excluded_device_ids),
                "excludedGroupIds": sorted(p.scope.excluded_group_ids),
            },
        }
        for p in fleet.profiles()
    ]
