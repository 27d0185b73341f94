"""The device side of time: when each iPad checks in, and what happens when it does.

``Fleet`` owns one ``CheckInEngine`` and forwards ``tick``, ``check_in`` and ``push`` to it. A
check-in expires self-removing profiles, answers the pending commands in queue order, then makes
installed profiles match scope (InstallProfile / RemoveProfile commands answered on the spot,
NotNow while passcode-locked), and schedules the next check-in on the device's rhythm.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from mocks.command_book import CommandBook
from mocks.commands import Command, CommandState, RequestType
from mocks.device import Device
from mocks.device_behaviour import answer_command
from mocks.events import CheckedIn, CommandCompleted, FleetEvent
from mocks.profiles import Profile
from mocks.timetable import Timetable


class CheckInEngine:
    def __init__(
        self,
        *,
        devices: list[Device],
        commands: CommandBook,
        profiles: Mapping[int, Profile],
        desired_profiles: Callable[[Device], list[Profile]],
    ) -> None:
        self.devices = devices
        self.commands = commands
        self.profiles = profiles
        self.desired_profiles = desired_profiles
        self.timetable = Timetable()
        self.subscribers: list[Callable[[FleetEvent], None]] = []
        self.slowdown = 1.0
        # Whether a NotNow leaves the command queued for a later poll (vendor behaviour unknown).
        self.requeue_not_now = False
        for device in devices:
            self.timetable.schedule_checkin(device.next_checkin, device.index)

    def push(self, device: Device, now: float) -> None:
        """An APNs wake-up: an online device checks in after its push delay."""
        if not device.is_online(now):
            return  # APNs holds the latest push; the device checks in when it reconnects
        when = now + device.push_delay * self.slowdown
        if when < device.next_checkin:
            self.reschedule(device, when)

    def reschedule(self, device: Device, when: float) -> None:
        device.next_checkin = when
        if math.isfinite(when):
            self.timetable.schedule_checkin(when, device.index)

    def tick(self, limit: float) -> int:
        """Run every check-in and self-removal due by ``limit``, in time order."""
        check_ins = 0
        for when, kind, index in self.timetable.due(limit):
            device = self.devices[index]
            if kind == Timetable.REMOVAL:
                self._expire_profiles(device, when)
            elif device.next_checkin == when and self.run(device, when):
                check_ins += 1
        return check_ins

    def run(self, device: Device, at: float) -> bool:
        """One check-in at ``at``; False (and a later appointment) when the device is offline."""
        if not device.is_online(at):
            # Offline: the device reconnects at offline_until (if ever) and checks in then.
            self.reschedule(device, device.offline_until or math.inf)
            return False
        self._expire_profiles(device, at)
        for command in self.commands.pending(device):
            self._answer(device, command, at)
        self._converge_profiles(device, at)
        device.last_checkin = at
        device.last_inventory_update = at
        self.reschedule(device, at + device.checkin_interval * self.slowdown)
        self._emit(CheckedIn(device_index=device.index, at=at))
        return True

    def schedule_self_removal(self, device: Device, profile_id: int | None) -> None:
        installed = device.installed.get(profile_id) if device.installed and profile_id else None
        if installed is not None and installed.removes_at is not None:
            # removes_at is on the device clock; the timetable runs on the mock clock.
            self.timetable.schedule_removal(
                installed.removes_at - device.clock_offset, device.index
            )

    def _answer(self, device: Device, command: Command, at: float) -> None:
        answer_command(device, command, at, self.profiles)
        if command.state is CommandState.NOT_NOW and self.requeue_not_now:
            command.state = CommandState.PENDING
            command.completed_at = None
            return
        self.commands.settle(device, command)
        if command.request_type is RequestType.INSTALL_PROFILE:
            self.schedule_self_removal(device, command.profile_id)
        self._emit(CommandCompleted(command=command, at=at))

    def _converge_profiles(self, device: Device, at: float) -> None:
        wanted = {profile.profile_id: profile for profile in self.desired_profiles(device)}
        for profile_id in list(device.installed or ()):
            if profile_id not in wanted:
                self._answer(device, self._scope_command(device, False, profile_id, at), at)
        for profile in wanted.values():
            have = device.installed.get(profile.profile_id) if device.installed else None
            if have is not None and (
                have.version == profile.version or not profile.redeploy_to_all
            ):
                continue
            if self._install_keeps_failing(device, profile.profile_id):
                continue
            self._answer(device, self._scope_command(device, True, profile.profile_id, at), at)

    def _scope_command(self, device: Device, install: bool, profile_id: int, at: float) -> Command:
        kind = RequestType.INSTALL_PROFILE if install else RequestType.REMOVE_PROFILE
        return self.commands.create(
            device, kind, None, source="scope", profile_id=profile_id, at=at
        )

    def _install_keeps_failing(self, device: Device, profile_id: int) -> bool:
        """Lost Mode refuses installs; re-sending at every check-in would only pile up errors."""
        if device.lost_mode is None:
            return False
        for command in reversed(self.commands.history(device)):
            if command.profile_id == profile_id:
                return command.state is CommandState.ERROR
        return False

    def _expire_profiles(self, device: Device, at: float) -> None:
        if not device.installed:
            return
        device_now = device.device_time(at)
        for profile_id, installed in list(device.installed.items()):
            if installed.removes_at is not None and installed.removes_at <= device_now:
                del device.installed[profile_id]

    def _emit(self, event: FleetEvent) -> None:
        for callback in self.subscribers:
            callback(event)
