"""How a simulated iPad answers one command at check-in.

Called by ``Fleet.check_in`` for each pending command in queue order. It applies Apple's
documented device rules (supervision gate, NotNow while passcode-locked, Lost Mode refusals with
12078/12067/12069, DeviceLock message results) and changes the device's state only when the
command is acknowledged.
"""

from __future__ import annotations

from collections.abc import Mapping

from mocks.commands import (
    ALLOWED_IN_LOST_MODE,
    DEFERRED_WHILE_LOCKED,
    ERROR_LOST_MODE_RELEASE_FAILED,
    ERROR_NOT_ALLOWED_IN_LOST_MODE,
    ERROR_NOT_IN_LOST_MODE,
    ERROR_NOT_SUPERVISED,
    NEEDS_SUPERVISION,
    Command,
    CommandError,
    CommandState,
    RequestType,
)
from mocks.device import Device, DeviceNotice, InstalledProfile, LostModeState
from mocks.profiles import Profile, removal_time

# How long a passcode-protected iPad stays locked after DeviceLock before its pupil unlocks it.
PUPIL_UNLOCKS_AFTER_SECONDS = 300.0


def answer_command(
    device: Device, command: Command, now: float, profiles: Mapping[int, Profile]
) -> None:
    """Settle ``command`` on ``device`` at ``now``: ACKNOWLEDGED, NOT_NOW or ERROR."""
    kind = command.request_type
    if device.lost_mode is not None and kind not in ALLOWED_IN_LOST_MODE:
        _fail(command, now, ERROR_NOT_ALLOWED_IN_LOST_MODE, "Not allowed while in Lost Mode")
        return
    if kind in NEEDS_SUPERVISION and not device.supervised:
        _fail(command, now, ERROR_NOT_SUPERVISED, "The device is not supervised")
        return
    if kind in DEFERRED_WHILE_LOCKED and device.is_screen_locked(now):
        command.state = CommandState.NOT_NOW
        command.completed_at = now
        return
    handler = _HANDLERS.get(kind, _acknowledge_only)
    handler(device, command, now, profiles)


def _fail(command: Command, now: float, code: int, description: str) -> None:
    command.state = CommandState.ERROR
    command.completed_at = now
    command.error = CommandError(code=code, description=description)


def _ack(command: Command, now: float, result: dict[str, object] | None = None) -> None:
    command.state = CommandState.ACKNOWLEDGED
    command.completed_at = now
    command.result = result


def _acknowledge_only(
    device: Device, command: Command, now: float, profiles: Mapping[int, Profile]
) -> None:
    _ack(command, now)


def _enable_lost_mode(
    device: Device, command: Command, now: float, profiles: Mapping[int, Profile]
) -> None:
    message, phone = command.param("message"), command.param("phone")
    if not message and not phone:
        _fail(command, now, 12066, "Lost Mode needs a message or a phone number")
        return
    enforce = command.param("always_enforce")
    device.lost_mode = LostModeState(
        message=message,
        phone=phone,
        footnote=command.param("footnote"),
        since=now,
        always_enforce=True if enforce is None else bool(enforce),
    )
    _ack(command, now)


def _disable_lost_mode(
    device: Device, command: Command, now: float, profiles: Mapping[int, Profile]
) -> None:
    if device.lost_mode is None:
        _fail(command, now, ERROR_NOT_IN_LOST_MODE, "The device is not in Lost Mode")
        return
    if device.fail_lost_mode_release:
        _fail(command, now, ERROR_LOST_MODE_RELEASE_FAILED, "Could not turn off Lost Mode")
        return
    device.lost_mode = None
    device.add_notice(DeviceNotice(kind="lost_mode_turned_off", at=now))
    _ack(command, now)


def _device_location(
    device: Device, command: Command, now: float, profiles: Mapping[int, Profile]
) -> None:
    if device.lost_mode is None:
        _fail(command, now, ERROR_NOT_IN_LOST_MODE, "Location is only available in Lost Mode")
        return
    device.add_notice(DeviceNotice(kind="location_read", at=now))
    _ack(command, now, {"Latitude": 51.5, "Longitude": -0.12, "HorizontalAccuracy": 20.0})


def _device_lock(
    device: Device, command: Command, now: float, profiles: Mapping[int, Profile]
) -> None:
    if device.lost_mode is not None:
        _ack(command, now, {"MessageResult": "DeviceInLostMode"})
        return
    if not device.has_passcode:
        # Without a passcode the pupil swipes straight back in; nothing stays locked.
        _ack(command, now, {"MessageResult": "NoPasscodeSet"})
        return
    device.screen_locked_until = max(
        device.screen_locked_until or now, now + PUPIL_UNLOCKS_AFTER_SECONDS
    )
    _ack(command, now, {"MessageResult": "Success"})


def _install_profile(
    device: Device, command: Command, now: float, profiles: Mapping[int, Profile]
) -> None:
    profile = profiles.get(command.profile_id) if command.profile_id is not None else None
    if profile is None:
        _fail(command, now, 4001, "The profile payload is no longer available")
        return
    device_now = device.device_time(now)
    removes_at = removal_time(profile.content, device_now)
    _ack(command, now)
    if device.installed is None:
        device.installed = {}
    if removes_at is not None and removes_at <= device_now:
        # The device accepts it and deletes it at once: its removal date has already passed.
        device.installed.pop(profile.profile_id, None)
        return
    device.installed[profile.profile_id] = InstalledProfile(
        profile_id=profile.profile_id,
        identifier=profile.content.identifier,
        version=profile.version,
        installed_at=now,
        removes_at=removes_at,
    )


def _remove_profile(
    device: Device, command: Command, now: float, profiles: Mapping[int, Profile]
) -> None:
    if device.installed is not None and command.profile_id is not None:
        device.installed.pop(command.profile_id, None)
    _ack(command, now)


def _erase(device: Device, command: Command, now: float, profiles: Mapping[int, Profile]) -> None:
    enforced = device.lost_mode if device.lost_mode and device.lost_mode.always_enforce else None
    device.installed = None
    device.lost_mode = None
    _ack(command, now)
    # The MDM re-applies enforced Lost Mode as soon as the wiped iPad enrols again.
    device.lost_mode = enforced


def _security_info(
    device: Device, command: Command, now: float, profiles: Mapping[int, Profile]
) -> None:
    _ack(command, now, {"PasscodePresent": device.has_passcode})


def _device_information(
    device: Device, command: Command, now: float, profiles: Mapping[int, Profile]
) -> None:
    _ack(
        command,
        now,
        {
            "IsMDMLostModeEnabled": device.lost_mode is not None,
            "IsSupervised": device.supervised,
            "SerialNumber": device.serial,
            "TimeZone": device.time_zone,
        },
    )


_HANDLERS = {
    RequestType.ENABLE_LOST_MODE: _enable_lost_mode,
    RequestType.DISABLE_LOST_MODE: _disable_lost_mode,
    RequestType.DEVICE_LOCATION: _device_location,
    RequestType.DEVICE_LOCK: _device_lock,
    RequestType.INSTALL_PROFILE: _install_profile,
    RequestType.REMOVE_PROFILE: _remove_profile,
    RequestType.ERASE_DEVICE: _erase,
    RequestType.SECURITY_INFO: _security_info,
    RequestType.DEVICE_INFORMATION: _device_information,
}
