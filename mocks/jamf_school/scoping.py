"""How a Jamf School profile's time filter reaches the fleet's check-in.

The fleet installs a profile on a device when the profile's `Scope.includes` the device, at the
device's next check-in. Jamf School profiles add a time filter, so the fake gives them a
`TimeFilteredScope`: the group scope of `mocks.profiles.Scope`, narrowed by
`mocks.jamf_school.time_filter` on the mock clock. The shared `TimeFilterSettings` object lets the
control API change the school's reading of time filters (time zone, midnight crossing, holidays)
while the app runs, without rebuilding any profile.

`WindowEdgeWatcher` is the optional alternative to waiting for routine check-ins: it wakes a
profile's devices as soon as its window opens or closes.

Limitation: the fleet asks `includes` without saying when the check-in happens, so the filter is
read at the clock's current instant. After a long jump of a manual clock, devices catching up on
check-ins all see the filter as it is at the end of the jump; step the clock in small increments
when a test cares about the exact minute a window opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mocks.clock import Clock
from mocks.fleet import CheckedIn, Fleet, FleetEvent
from mocks.jamf_school.time_filter import TimeFilter, TimeFilterRules, filter_allows
from mocks.profiles import Scope


@dataclass(kw_only=True)
class TimeFilterSettings:
    """The clock and the school-wide rules every time-filtered scope reads (mutable on purpose)."""

    clock: Clock
    rules: TimeFilterRules


@dataclass(frozen=True, kw_only=True)
class TimeFilteredScope(Scope):
    """A group scope that only includes its devices while the profile's time filter allows."""

    time_filter: TimeFilter = field(default_factory=TimeFilter)
    settings: TimeFilterSettings | None = field(default=None, compare=False)

    def includes(self, device_id: int, device_groups: set[int] | None) -> bool:
        return super().includes(device_id, device_groups) and self.window_open()

    def window_open(self) -> bool:
        """Whether the time filter lets the profile be on devices right now."""
        if self.settings is None:
            return True
        return filter_allows(self.time_filter, self.settings.clock.now(), self.settings.rules)


@dataclass(kw_only=True)
class WindowEdgeWatcher:
    """Optional: wake a profile's devices when its time window opens or closes.

    Whether Jamf School pushes devices at a window edge is not documented; by default the fake
    waits for each device's next routine check-in. With this watcher subscribed to the fleet,
    the first check-in (or API request) after an edge wakes every device in the profile's
    groups, so they switch within their push delay instead.
    """

    fleet: Fleet
    profile_ids: tuple[int, ...]
    _last_open: dict[int, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for profile_id, scope in self._scopes():
            self._last_open[profile_id] = scope.window_open()

    def on_fleet_event(self, event: FleetEvent) -> None:
        if isinstance(event, CheckedIn):
            self.check()

    def check(self) -> None:
        for profile_id, scope in self._scopes():
            open_now = scope.window_open()
            if self._last_open.get(profile_id) == open_now:
                continue
            self._last_open[profile_id] = open_now
            for device in self.fleet.devices:
                if device.group_ids and not scope.group_ids.isdisjoint(device.group_ids):
                    self.fleet.push(device)

    def _scopes(self) -> list[tuple[int, TimeFilteredScope]]:
        found = []
        for profile_id in self.profile_ids:
            profile = self.fleet.profile(profile_id)
            if profile is not None and isinstance(profile.scope, TimeFilteredScope):
                found.append((profile_id, profile.scope))
        return found
