"""What the fleet tells its listeners: a device checked in, a command got its answer.

``Fleet.subscribe`` hands these to callbacks (the Jamf Pro webhooks, tests); they are emitted
synchronously from inside a check-in, so listeners must only record or queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from mocks.commands import Command


@dataclass(frozen=True, kw_only=True)
class CheckedIn:
    device_index: int
    at: float


@dataclass(frozen=True, kw_only=True)
class CommandCompleted:
    command: Command
    at: float


FleetEvent = CheckedIn | CommandCompleted
