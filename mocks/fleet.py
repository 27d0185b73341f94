"""The simulated fleet of iPads behind every vendor front of the mock MDM.

Vendor fronts (``mocks.jamf_pro``, ``mocks.jamf_school``, ``mocks.asm``) translate HTTP calls into
calls on one ``Fleet``; the control API reads its ground truth; a ticker (or a test with a
``ManualClock``) calls ``tick`` to let due devices check in. Public surface, kept stable:

Building
    ``Fleet.build(FleetConfig(devices=N, seed=S), clock)``: deterministic for (config, start time).
    ``fleet.clock``, ``fleet.config``, ``fleet.now()`` (epoch seconds on the mock clock).

Devices (``mocks.device.Device``; ``device_id`` = index + 1, numeric)
    ``fleet.devices``: enrolled devices, in id order. ``fleet.unenrolled``: serials Apple School
    Manager knows that never enrolled. Lookups return enrolled devices only, except
    ``device_by_serial(serial, include_unenrolled=True)``: ``device_by_id``, ``device_by_udid``,
    ``device_by_management_id``.

Groups (``mocks.groups.Group``, ids shared by every front)
    ``create_group``, ``rename_group``, ``delete_group`` (``GroupInUse`` when a profile scopes
    it), ``group``, ``group_by_name``, ``groups()``, ``add_to_group``, ``remove_from_group``,
    ``set_group_members``; membership changes wake affected devices so profiles follow.

Profiles (``mocks.profiles.Profile``)
    ``next_profile_id()``, ``put_profile(profile)`` (create or replace; bumps ``version`` when
    the content changes), ``profile``, ``profiles()``, ``delete_profile``. Installation and removal
    happen at each device's next check-in: the device's scope decides; a passcode-locked device
    answers NotNow and the install is sent again at a later check-in.

Commands (``mocks.commands.Command``, Apple request types)
    ``enqueue(device, RequestType.X, params, source=...)`` queues a PENDING command and pushes
    the device; ``command(uuid)``, ``commands_for(device)``, ``all_commands()``,
    ``flush(device, states)``.

Time and connectivity
    ``tick(now=None) -> int`` runs every check-in and self-removal that is due (returns the
    number of check-ins); ``check_in(device)`` forces one now; ``push(device)`` wakes an online
    device soon; ``set_offline(device, until=None)``, ``set_online(device)``,
    ``set_screen_locked(device, until)``, ``set_clock_offset(device, seconds)`` (``ClockLocked``
    while a profile forces automatic time); ``checkin_slowdown`` stretches every rhythm.

Observation
    ``subscribe(callback)`` receives ``CheckedIn`` and ``CommandCompleted`` events.
    ``mocks.truth.device_truth(fleet, device)`` renders a device's real state for the control API.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from mocks.checkin import CheckInEngine
from mocks.clock import Clock, to_epoch
from mocks.command_book import CommandBook
from mocks.commands import Command, CommandState, RequestType
from mocks.device import Device
from mocks.events import CheckedIn, CommandCompleted, FleetEvent
from mocks.generate import FleetConfig, generate_devices
from mocks.groups import Group, GroupBook
from mocks.profiles import Profile

__all__ = [
    "CheckedIn",
    "ClockLocked",
    "CommandCompleted",
    "Fleet",
    "FleetEvent",
    "GroupInUse",
    "clock_now",
]


class ClockLocked(ValueError):
    """An installed profile forces automatic date and time, so the device clock cannot move."""


class GroupInUse(ValueError):
    """A profile is scoped to (or excludes) the group, so it cannot be deleted."""


class Fleet:
    """All simulated devices plus the server-side state (groups, profiles, command queues)."""

    def __init__(self, *, config: FleetConfig, clock: Clock, devices: list[Device]) -> None:
        self.config = config
        self.clock = clock
        self.devices = [device for device in devices if device.enrolled]
        self.unenrolled = [device for device in devices if not device.enrolled]
        self._by_udid = {device.udid: device for device in self.devices}
        self._by_management_id = {device.management_id: device for device in self.devices}
        self._by_serial = {device.serial: device for device in devices}
        self._groups = GroupBook()
        self._profiles: dict[int, Profile] = {}
        self._next_profile_id = 1
        self._commands = CommandBook(config.seed)
        self._engine = CheckInEngine(
            devices=self.devices,
            commands=self._commands,
            profiles=self._profiles,
            desired_profiles=self.desired_profiles,
        )

    @classmethod
    def build(cls, config: FleetConfig, clock: Clock) -> Fleet:
        return cls(config=config, clock=clock, devices=generate_devices(config, clock_now(clock)))

    def now(self) -> float:
        return clock_now(self.clock)

    @property
    def checkin_slowdown(self) -> float:
        """Factor stretching every check-in interval and push delay (the slow check-ins knob)."""
        return self._engine.slowdown

    @checkin_slowdown.setter
    def checkin_slowdown(self, factor: float) -> None:
        self._engine.slowdown = factor

    @property
    def requeue_not_now(self) -> bool:
        """Whether a NotNow leaves the command queued for a later poll (undocumented upstream)."""
        return self._engine.requeue_not_now

    @requeue_not_now.setter
    def requeue_not_now(self, requeue: bool) -> None:
        self._engine.requeue_not_now = requeue

    # ---- devices -------------------------------------------------------------------------

    def device_by_id(self, device_id: int) -> Device | None:
        if 1 <= device_id <= len(self.devices):
            return self.devices[device_id - 1]
        return None

    def device_by_udid(self, udid: str) -> Device | None:
        return self._by_udid.get(udid)

    def device_by_management_id(self, management_id: str) -> Device | None:
        return self._by_management_id.get(management_id)

    def device_by_serial(self, serial: str, *, include_unenrolled: bool = False) -> Device | None:
        device = self._by_serial.get(serial)
        if device is None or (not device.enrolled and not include_unenrolled):
            return None
        return device

    # ---- groups --------------------------------------------------------------------------

    def create_group(self, *, name: str, description: str = "", site_id: int = -1) -> Group:
        return self._groups.create(name=name, description=description, site_id=site_id)

    def rename_group(self, group: Group, name: str) -> None:
        self._groups.rename(group, name)

    def group(self, group_id: int) -> Group | None:
        return self._groups.get(group_id)

    def group_by_name(self, name: str) -> Group | None:
        return self._groups.by_name(name)

    def groups(self) -> list[Group]:
        return self._groups.all()

    def delete_group(self, group_id: int) -> Group | None:
        group = self._groups.get(group_id)
        if group is None:
            return None
        for profile in self._profiles.values():
            scope = profile.scope
            if group_id in scope.group_ids or group_id in scope.excluded_group_ids:
                raise GroupInUse(f"profile {profile.profile_id} is scoped to group {group_id}")
        self.set_group_members(group, ())
        self._groups.remove(group_id)
        return group

    def add_to_group(self, group: Group, devices: Iterable[Device]) -> None:
        for device in devices:
            if device.device_id not in group.members:
                group.members.add(device.device_id)
                if device.group_ids is None:
                    device.group_ids = set()
                device.group_ids.add(group.group_id)
                self._membership_changed(group, device)

    def remove_from_group(self, group: Group, devices: Iterable[Device]) -> None:
        for device in devices:
            if device.device_id in group.members:
                group.members.discard(device.device_id)
                if device.group_ids is not None:
                    device.group_ids.discard(group.group_id)
                self._membership_changed(group, device)

    def set_group_members(self, group: Group, devices: Iterable[Device]) -> None:
        wanted = {device.device_id: device for device in devices}
        leaving = [self.devices[i - 1] for i in group.members if i not in wanted]
        self.remove_from_group(group, leaving)
        self.add_to_group(group, wanted.values())

    def group_members(self, group: Group) -> list[Device]:
        return [self.devices[device_id - 1] for device_id in sorted(group.members)]

    def _membership_changed(self, group: Group, device: Device) -> None:
        if any(self._profile_mentions_group(p, group.group_id) for p in self._profiles.values()):
            self.push(device)

    @staticmethod
    def _profile_mentions_group(profile: Profile, group_id: int) -> bool:
        return group_id in profile.scope.group_ids or group_id in profile.scope.excluded_group_ids

    # ---- profiles ------------------------------------------------------------------------

    def next_profile_id(self) -> int:
        profile_id = self._next_profile_id
        self._next_profile_id += 1
        return profile_id

    def put_profile(self, profile: Profile) -> Profile:
        """Create or replace a profile; wakes every device whose profile set may change."""
        previous = self._profiles.get(profile.profile_id)
        if previous is not None:
            changed = previous.payload != profile.payload
            profile = replace(profile, version=previous.version + (1 if changed else 0))
        self._next_profile_id = max(self._next_profile_id, profile.profile_id + 1)
        self._profiles[profile.profile_id] = profile
        self._wake_scope(profile, previous)
        return profile

    def profile(self, profile_id: int) -> Profile | None:
        return self._profiles.get(profile_id)

    def profiles(self) -> list[Profile]:
        return [self._profiles[key] for key in sorted(self._profiles)]

    def delete_profile(self, profile_id: int) -> Profile | None:
        profile = self._profiles.pop(profile_id, None)
        if profile is not None:
            for device in self.devices:
                if device.installed and profile_id in device.installed:
                    self.push(device)
        return profile

    def _wake_scope(self, profile: Profile, previous: Profile | None) -> None:
        for device in self.devices:
            in_new = profile.scope.includes(device.device_id, device.group_ids)
            in_old = previous is not None and previous.scope.includes(
                device.device_id, device.group_ids
            )
            has_it = device.installed is not None and profile.profile_id in device.installed
            if in_new or in_old or has_it:
                self.push(device)

    def desired_profiles(self, device: Device) -> list[Profile]:
        return [
            profile
            for profile in self._profiles.values()
            if profile.scope.includes(device.device_id, device.group_ids)
        ]

    # ---- commands ------------------------------------------------------------------------

    def enqueue(
        self,
        device: Device,
        request_type: RequestType,
        params: dict[str, Any] | None = None,
        *,
        source: str,
        profile_id: int | None = None,
    ) -> Command:
        command = self._commands.create(
            device, request_type, params, source=source, profile_id=profile_id, at=self.now()
        )
        self._commands.queue(device, command)
        self.push(device)
        return command

    def command(self, command_uuid: str) -> Command | None:
        return self._commands.get(command_uuid)

    def commands_for(self, device: Device) -> list[Command]:
        return self._commands.history(device)

    def pending_for(self, device: Device) -> list[Command]:
        return self._commands.pending(device)

    def all_commands(self) -> Iterator[Command]:
        return iter(self._commands)

    def flush(self, device: Device, states: Iterable[CommandState]) -> int:
        """Forget the device's commands in ``states`` (what an MDM's 'flush' does)."""
        return self._commands.flush(device, states)

    # ---- time and connectivity -----------------------------------------------------------

    def push(self, device: Device) -> None:
        """An APNs wake-up: an online device checks in after its push delay."""
        self._engine.push(device, self.now())

    def set_offline(self, device: Device, until: float | None = None) -> None:
        device.offline_until = math.inf if until is None else until
        if until is not None:
            self._engine.reschedule(device, max(device.next_checkin, until))

    def set_online(self, device: Device) -> None:
        device.offline_until = None
        self.push(device)

    def set_screen_locked(self, device: Device, until: float | None) -> None:
        device.screen_locked_until = until

    def set_clock_offset(self, device: Device, seconds: float) -> None:
        """Move the device's own clock (a pupil dodging a curfew), unless a profile forbids it."""
        for installed in (device.installed or {}).values():
            profile = self._profiles.get(installed.profile_id)
            if profile is not None and profile.content.forces_automatic_time:
                raise ClockLocked(f"profile {profile.profile_id} forces automatic date and time")
        device.clock_offset = seconds
        for profile_id in device.installed or ():
            self._engine.schedule_self_removal(device, profile_id)

    def tick(self, now: float | None = None) -> int:
        """Run every check-in and self-removal due by ``now`` (default: the clock), in order."""
        return self._engine.tick(self.now() if now is None else now)

    def check_in(self, device: Device) -> bool:
        """Make the device check in now (if it is online); True when it did."""
        return self._engine.run(device, self.now())

    def subscribe(self, callback: Callable[[FleetEvent], None]) -> None:
        self._engine.subscribers.append(callback)


def clock_now(clock: Clock) -> float:
    return to_epoch(clock.now())
