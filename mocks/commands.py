"""MDM commands as the simulated iPads see them (vendor-neutral).

Vendor fronts translate their own command names into Apple ``RequestType`` values, hand them to
``Fleet.enqueue`` and read back ``Command`` records; the fleet's check-in runs each pending command
through ``mocks.device_behaviour`` which decides ACKNOWLEDGED, NOT_NOW or ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class RequestType(StrEnum):
    """Apple MDM request types the simulated iPad understands."""

    ENABLE_LOST_MODE = "EnableLostMode"
    DISABLE_LOST_MODE = "DisableLostMode"
    PLAY_LOST_MODE_SOUND = "PlayLostModeSound"
    DEVICE_LOCATION = "DeviceLocation"
    DEVICE_LOCK = "DeviceLock"
    DEVICE_INFORMATION = "DeviceInformation"
    SECURITY_INFO = "SecurityInfo"
    INSTALL_PROFILE = "InstallProfile"
    REMOVE_PROFILE = "RemoveProfile"
    RESTART_DEVICE = "RestartDevice"
    SHUT_DOWN_DEVICE = "ShutDownDevice"
    CLEAR_PASSCODE = "ClearPasscode"
    SETTINGS = "Settings"
    ERASE_DEVICE = "EraseDevice"
    WALLPAPER = "Wallpaper"


class CommandState(StrEnum):
    PENDING = "PENDING"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    NOT_NOW = "NOT_NOW"
    ERROR = "ERROR"


# Apple's documented Lost Mode error codes (MCMDMErrorDomain).
ERROR_NOT_IN_LOST_MODE = 12067
ERROR_LOST_MODE_RELEASE_FAILED = 12069
ERROR_NOT_ALLOWED_IN_LOST_MODE = 12078
# Apple names no code for "needs supervision" in our references; this one is the mock's choice.
ERROR_NOT_SUPERVISED = 12021

MDM_ERROR_DOMAIN = "MCMDMErrorDomain"

# Commands an iPad still answers while in Lost Mode; everything else fails with 12078.
ALLOWED_IN_LOST_MODE = frozenset(
    {
        RequestType.ENABLE_LOST_MODE,
        RequestType.DISABLE_LOST_MODE,
        RequestType.PLAY_LOST_MODE_SOUND,
        RequestType.DEVICE_LOCATION,
        RequestType.DEVICE_INFORMATION,
        RequestType.DEVICE_LOCK,
    }
)

# Apple gates these behind supervision; an unsupervised iPad refuses them.
NEEDS_SUPERVISION = frozenset(
    {
        RequestType.ENABLE_LOST_MODE,
        RequestType.DISABLE_LOST_MODE,
        RequestType.PLAY_LOST_MODE_SOUND,
        RequestType.DEVICE_LOCATION,
        RequestType.SETTINGS,
    }
)

# A passcode-locked iPad defers these: it answers NotNow and forgets them.
DEFERRED_WHILE_LOCKED = frozenset({RequestType.INSTALL_PROFILE, RequestType.SECURITY_INFO})


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandError:
    code: int
    domain: str = MDM_ERROR_DOMAIN
    description: str


class Command:
    """One command queued for one device, with its life cycle.

    ``state`` starts PENDING and changes once, at the device's check-in. ``source`` names who
    queued it (a vendor front, or ``"scope"`` for profile installs the fleet derives from scope).
    """

    __slots__ = (
        "completed_at",
        "device_index",
        "error",
        "params",
        "profile_id",
        "queued_at",
        "request_type",
        "result",
        "source",
        "state",
        "uuid",
    )

    def __init__(
        self,
        *,
        uuid: str,
        device_index: int,
        request_type: RequestType,
        params: dict[str, Any] | None,
        queued_at: float,
        source: str,
        profile_id: int | None = None,
    ) -> None:
        self.uuid = uuid
        self.device_index = device_index
        self.request_type = request_type
        self.params = params
        self.queued_at = queued_at
        self.source = source
        self.profile_id = profile_id
        self.state = CommandState.PENDING
        self.completed_at: float | None = None
        self.error: CommandError | None = None
        self.result: dict[str, Any] | None = None

    def param(self, key: str) -> Any:
        return None if self.params is None else self.params.get(key)

    def __repr__(self) -> str:
        return f"Command({self.request_type}, device={self.device_index}, {self.state})"
