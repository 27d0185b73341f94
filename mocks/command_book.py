"""Every command the simulated MDM server has queued, by UUID and per device.

``Fleet`` owns one ``CommandBook``: it creates commands here (deterministic UUIDs from the fleet's
seed), keeps each device's ordered pending queue, and forgets commands on a flush.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from mocks.commands import Command, CommandState, RequestType
from mocks.device import Device


class CommandBook:
    def __init__(self, seed: int) -> None:
        self._commands: dict[str, Command] = {}
        # Deterministic ids for a simulation, not secrets.
        self._rng = random.Random(f"commands-{seed}")  # noqa: S311

    def create(
        self,
        device: Device,
        request_type: RequestType,
        params: dict[str, Any] | None,
        *,
        source: str,
        profile_id: int | None,
        at: float,
    ) -> Command:
        """Record a new command in the device's history (not yet in its pending queue)."""
        command = Command(
            uuid=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            device_index=device.index,
            request_type=request_type,
            params=params,
            queued_at=at,
            source=source,
            profile_id=profile_id,
        )
        self._commands[command.uuid] = command
        if device.commands is None:
            device.commands = []
        device.commands.append(command.uuid)
        return command

    def queue(self, device: Device, command: Command) -> None:
        if device.pending is None:
            device.pending = []
        device.pending.append(command.uuid)

    def settle(self, device: Device, command: Command) -> None:
        """Take a command that got its answer out of the device's pending queue."""
        if device.pending is not None and command.uuid in device.pending:
            device.pending.remove(command.uuid)
            if not device.pending:
                device.pending = None

    def get(self, command_uuid: str) -> Command | None:
        return self._commands.get(command_uuid)

    def history(self, device: Device) -> list[Command]:
        return [self._commands[key] for key in device.commands or ()]

    def pending(self, device: Device) -> list[Command]:
        return [self._commands[key] for key in device.pending or ()]

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

    def __len__(self) -> int:
        return len(self._commands)

    def flush(self, device: Device, states: Iterable[CommandState]) -> int:
        """Forget the device's commands in ``states`` (what an MDM's 'flush' does)."""
        doomed = set(states)
        kept: list[str] = []
        removed = 0
        for key in device.commands or ():
            if self._commands[key].state in doomed:
                del self._commands[key]
                removed += 1
            else:
                kept.append(key)
        device.commands = kept or None
        if device.pending is not None:
            device.pending = [key for key in device.pending if key in self._commands] or None
        return removed
