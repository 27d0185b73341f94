"""How a Jamf School profile's time filter reaches the fleet's check-in.

The fleet installs a profile on a device when the profile's `Scope.includes` the device, at the
device's next check-in. Jamf School profiles add a time filter, so the fake gives them a
`TimeFilteredScope`: the group scope of `mocks.profiles.Scope`, narrowed by
`mocks.jamf_school.time_filter` on the mock clock. The shared `TimeFilterSettings` object lets the
control API change the school's reading of time filters (time zone, midnight crossing, holidays)
while the app runs, without rebuilding any profile.

Limitation: the fleet asks `includes` without saying when the check-in happens, so the filter is
read at the clock's current instant. After a long jump of a manual clock, devices catching up on
check-ins all see the filter as it is at the end of the jump; step the clock in small increments
when a test cares about the exact minute a window opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mocks.clock import Clock
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
