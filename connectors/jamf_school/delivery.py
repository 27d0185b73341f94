"""Which group moves have not reached their iPad yet, so observation never claims them done.

Jamf School shows a device's groups but not the profiles on it, and a device only picks up a
group's profile at its next check-in, which for an iPad at home may be hours after the move.
`JamfSchoolConnector.apply` records each move Jamf School accepted here; `observe` asks
`delivered_view` how to describe a device: a profile whose group the device joined counts as
present only once the device has checked in after the move (until then it shows as a pending
install), and a profile it left counts as present until that check-in.

The record lives in memory: after a restart, membership alone decides (the best Jamf School can
say). What the device answered at that check-in (say NotNow while its screen is locked) is not
visible through the API either; Jamf School keeps offering the profile at later check-ins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connectors.jamf_school.api import Direction
from connectors.jamf_school.mapping import GroupMap
from connectors.jamf_school.wire import JamfDevice
from mdm_bridge.model import PendingCommand

KIND = {Direction.ADD: "install_profile", Direction.REMOVE: "remove_profile"}


@dataclass(frozen=True, kw_only=True, slots=True)
class _Move:
    direction: Direction
    at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveredView:
    profiles: frozenset[str]
    pending: tuple[PendingCommand, ...]


class DeliveryTracker:
    def __init__(self) -> None:
        self._moves: dict[tuple[str, int], _Move] = {}

    def record(self, udid: str, group_id: int, direction: Direction, at: datetime) -> None:
        """A move Jamf School accepted at `at` (by our clock)."""
        key = (udid, group_id)
        earlier = self._moves.get(key)
        # Repeating a move changes nothing in Jamf School; delivery still dates from the first.
        if earlier is None or earlier.direction is not direction:
            self._moves[key] = _Move(direction=direction, at=at)

    def delivered_view(self, device: JamfDevice, group_map: GroupMap) -> DeliveredView:
        """The bridge profiles on `device` as far as can be known, and moves still on the way."""
        profiles = set(group_map.profiles_in(device.group_ids))
        pending: list[PendingCommand] = []
        for mapped in group_map.by_profile.values():
            key = (device.udid, mapped.group_id)
            move = self._moves.get(key)
            if move is None:
                continue
            if device.last_check_in is not None and device.last_check_in > move.at:
                del self._moves[key]  # the device has been told; membership speaks from now on
                continue
            if move.direction is Direction.ADD:
                profiles.discard(mapped.profile_identifier)
            else:
                profiles.add(mapped.profile_identifier)
            pending.append(
                PendingCommand(
                    command_id=f"group-{move.direction.value}:{mapped.group_id}:{device.udid}",
                    kind=KIND[move.direction],
                    queued_at=move.at,
                )
            )
        return DeliveredView(profiles=frozenset(profiles), pending=tuple(pending))
