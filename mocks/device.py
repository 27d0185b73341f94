"""One simulated iPad: identity, pupil assignment and the state an MDM can change.

``mocks.generate`` creates devices, ``mocks.fleet.Fleet`` owns and mutates them, and
``mocks.device_behaviour`` decides how a device answers each command. Devices use ``__slots__``
and lazily created containers so that 100,000 of them fit comfortably in memory. Times are epoch
seconds on the mock clock; a device's own clock is the mock clock plus ``clock_offset``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class LostModeState:
    message: str | None
    phone: str | None
    footnote: str | None
    since: float
    always_enforce: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class InstalledProfile:
    profile_id: int
    identifier: str
    version: int
    installed_at: float
    removes_at: float | None  # on the device clock; None when the profile never removes itself


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceNotice:
    """Something the pupil saw or that was recorded about the device (assertable by tests)."""

    kind: str  # "lost_mode_turned_off", "location_read", "device_lock_message"
    at: float
    detail: str = ""


class Device:
    """A simulated iPad. ``index`` is its position in the fleet; ``device_id`` its numeric id."""

    __slots__ = (
        "checkin_interval",
        "class_name",
        "clock_offset",
        "commands",
        "device_id",
        "enrolled",
        "fail_lost_mode_release",
        "group_ids",
        "has_passcode",
        "index",
        "installed",
        "last_checkin",
        "last_inventory_update",
        "lost_mode",
        "management_id",
        "model",
        "model_identifier",
        "name",
        "next_checkin",
        "notices",
        "offline_until",
        "os_version",
        "pending",
        "pupil_name",
        "pupil_ref",
        "push_delay",
        "screen_locked_until",
        "serial",
        "shared_ipad",
        "supervised",
        "time_zone",
        "udid",
        "wifi_mac",
        "year_group",
    )

    def __init__(
        self,
        *,
        index: int,
        serial: str,
        udid: str,
        management_id: str,
        name: str,
        model: str,
        model_identifier: str,
        os_version: str,
        wifi_mac: str,
        supervised: bool,
        has_passcode: bool,
        shared_ipad: bool,
        enrolled: bool,
        pupil_ref: str,
        pupil_name: str,
        year_group: str,
        class_name: str,
        checkin_interval: float,
        push_delay: float,
        next_checkin: float,
        last_checkin: float,
        offline_until: float | None,
        screen_locked_until: float | None,
        time_zone: str = "Europe/London",
    ) -> None:
        self.index = index
        self.device_id = index + 1
        self.serial = serial
        self.udid = udid
        self.management_id = management_id
        self.name = name
        self.model = model
        self.model_identifier = model_identifier
        self.os_version = os_version
        self.wifi_mac = wifi_mac
        self.supervised = supervised
        self.has_passcode = has_passcode
        self.shared_ipad = shared_ipad
        self.enrolled = enrolled
        self.pupil_ref = pupil_ref
        self.pupil_name = pupil_name
        self.year_group = year_group
        self.class_name = class_name
        self.checkin_interval = checkin_interval
        self.push_delay = push_delay
        self.next_checkin = next_checkin
        self.last_checkin = last_checkin
        self.last_inventory_update = last_checkin
        # None = online; math.inf = offline until someone brings it back.
        self.offline_until = offline_until
        # None = unlocked; a time = the pupil unlocks it then; math.inf = locked until told.
        self.screen_locked_until = screen_locked_until
        self.time_zone = time_zone
        self.clock_offset = 0.0
        self.fail_lost_mode_release = False
        self.lost_mode: LostModeState | None = None
        self.group_ids: set[int] | None = None
        self.installed: dict[int, InstalledProfile] | None = None
        self.commands: list[str] | None = None  # every command uuid ever queued, in order
        self.pending: list[str] | None = None  # uuids still PENDING, in queue order
        self.notices: list[DeviceNotice] | None = None

    def is_online(self, now: float) -> bool:
        return self.offline_until is None or self.offline_until <= now

    def is_screen_locked(self, now: float) -> bool:
        return self.screen_locked_until is not None and self.screen_locked_until > now

    def device_time(self, now: float) -> float:
        return now + self.clock_offset

    def in_group(self, group_id: int) -> bool:
        return self.group_ids is not None and group_id in self.group_ids

    def add_notice(self, notice: DeviceNotice) -> None:
        if self.notices is None:
            self.notices = []
        self.notices.append(notice)

    def __repr__(self) -> str:
        return f"Device(id={self.device_id}, serial={self.serial!r}, name={self.name!r})"
