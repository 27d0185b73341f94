"""Control API, device side: ground truth per device and levers on the simulated iPads.

Mounted under ``/_mock/`` on every vendor app by ``mocks.common.control``. A device key may be
its numeric id, serial number, UDID or management id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from mocks.commands import CommandState
from mocks.common.vendor import MockVendor
from mocks.device import Device
from mocks.fleet import Fleet
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
) -> dict[str, Any]:
    fleet = vendor_of(request).fleet
    chosen = fleet.devices[offset : offset + limit]
    return {"total": len(fleet.devices), "devices": [device_truth(fleet, d) for d in chosen]}


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
        device.clock_offset = body.clock_offset_seconds
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
