"""Profile actions as group moves: one request per group and direction, a result per device.

`JamfSchoolConnector.apply` hands its installable and removable actions here. INSTALL_PROFILE
adds the device to the group its bridge profile is scoped to, REMOVE_PROFILE takes it out; the
actions of a batch are gathered into one `POST /devices/groups/add|remove` per group, sent
concurrently under the shared connection cap.

A move Jamf School took is ACCEPTED, never "done": the device installs or drops the profile at
its next check-in, which for an iPad at home may be hours away; observation decides.
Jamf School refuses a whole move with 404 when one UDID is unknown, so on a 404 the inventory is
read once to set the unknown devices apart (each fails on its own) and the rest are sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from connectors.base import (
    ActionResult,
    ConnectorError,
    FailureKind,
    Outcome,
    TemporaryError,
)
from connectors.jamf_school.api import Direction, JamfSchoolApi, NotFoundOnMove
from connectors.jamf_school.mapping import GroupMap, MappedGroup
from mdm_bridge.model import Action, ActionKind

DIRECTION = {ActionKind.INSTALL_PROFILE: Direction.ADD, ActionKind.REMOVE_PROFILE: Direction.REMOVE}


@dataclass(frozen=True, kw_only=True, slots=True)
class _Move:
    index: int
    action: Action
    udid: str


@dataclass(frozen=True, kw_only=True, slots=True)
class _Request:
    direction: Direction
    group: MappedGroup


def _failed(
    action: Action, kind: FailureKind, detail: str, retry: float | None = None
) -> ActionResult:
    return ActionResult(
        action=action, outcome=Outcome.FAILED, failure=kind, detail=detail, retry_after=retry
    )


def _accepted(action: Action, request: _Request) -> ActionResult:
    verb = "added to" if request.direction is Direction.ADD else "removed from"
    return ActionResult(
        action=action,
        outcome=Outcome.ACCEPTED,
        detail=f"Jamf School {verb} {request.group.describe()}; "
        "the device changes the profile at its next check-in",
    )


class _KnownDevices:
    """The tenant's UDIDs, read at most once per batch, and only when a move hit a 404."""

    def __init__(self, api: JamfSchoolApi) -> None:
        self._api = api
        self._lock = asyncio.Lock()
        self._udids: frozenset[str] | None = None

    async def udids(self) -> frozenset[str]:
        async with self._lock:
            if self._udids is None:
                self._udids = frozenset(device.udid for device in await self._api.devices())
            return self._udids


async def apply_moves(
    api: JamfSchoolApi, group_map: GroupMap, actions: Sequence[Action]
) -> list[ActionResult]:
    """One result per action, in order; `actions` are all profile installs and removals."""
    results: dict[int, ActionResult] = {}
    batches: dict[_Request, list[_Move]] = {}
    for index, action in enumerate(actions):
        assert action.profile is not None  # the model requires it for profile actions
        group = group_map.group_for(action.profile.identifier)
        if group is None:
            results[index] = _failed(
                action,
                FailureKind.AUTH,
                f"no Jamf School group is mapped to profile {action.profile.identifier!r}; "
                "add it to profile_groups",
            )
            continue
        move = _Move(index=index, action=action, udid=action.device.udid or action.device.vendor_id)
        request = _Request(direction=DIRECTION[action.kind], group=group)
        batches.setdefault(request, []).append(move)
    _fail_contradictions(batches, results)
    known = _KnownDevices(api)
    sent = [_send(api, request, moves, known) for request, moves in batches.items() if moves]
    # Each send returns its own failures as results, so gather never leaves a sibling running.
    for answered in await asyncio.gather(*sent):
        results.update(answered)
    return [results[index] for index in range(len(actions))]


def _fail_contradictions(
    batches: dict[_Request, list[_Move]], results: dict[int, ActionResult]
) -> None:
    """A device both added to and removed from one group in a batch gets neither move."""
    seen: dict[tuple[int, str], set[Direction]] = {}
    for request, moves in batches.items():
        for move in moves:
            seen.setdefault((request.group.group_id, move.udid), set()).add(request.direction)
    torn = {key for key, directions in seen.items() if len(directions) > 1}
    if not torn:
        return
    for request, moves in batches.items():
        keep = []
        for move in moves:
            if (request.group.group_id, move.udid) in torn:
                results[move.index] = _failed(
                    move.action,
                    FailureKind.PERMANENT,
                    f"the batch both adds and removes it ({request.group.describe()})",
                )
            else:
                keep.append(move)
        moves[:] = keep


async def _send(
    api: JamfSchoolApi, request: _Request, moves: list[_Move], known: _KnownDevices
) -> dict[int, ActionResult]:
    udids = list(dict.fromkeys(move.udid for move in moves))  # once each, in batch order
    try:
        await api.move(request.direction, request.group.group_id, udids)
    except NotFoundOnMove:
        return await _resend_without_unknown(api, request, moves, known)
    except ConnectorError as error:
        return {move.index: _from_error(move.action, error) for move in moves}
    return {move.index: _accepted(move.action, request) for move in moves}


async def _resend_without_unknown(
    api: JamfSchoolApi, request: _Request, moves: list[_Move], known: _KnownDevices
) -> dict[int, ActionResult]:
    try:
        udids = await known.udids()
    except ConnectorError as error:
        return {move.index: _from_error(move.action, error) for move in moves}
    results = {
        move.index: _failed(
            move.action, FailureKind.PERMANENT, "Jamf School does not know this device"
        )
        for move in moves
        if move.udid not in udids
    }
    rest = [move for move in moves if move.udid in udids]
    if not rest:
        return results
    if len(rest) == len(moves):
        # Every device is known, so the 404 was about the group itself.
        results.update({move.index: _group_gone(move.action, request) for move in rest})
        return results
    try:
        await api.move(request.direction, request.group.group_id, [move.udid for move in rest])
    except NotFoundOnMove:
        results.update({move.index: _group_gone(move.action, request) for move in rest})
    except ConnectorError as error:
        results.update({move.index: _from_error(move.action, error) for move in rest})
    else:
        results.update({move.index: _accepted(move.action, request) for move in rest})
    return results


def _group_gone(action: Action, request: _Request) -> ActionResult:
    return _failed(
        action,
        FailureKind.AUTH,
        f"{request.group.describe()}, mapped to profile {request.group.profile_identifier!r}, "
        "is not in Jamf School any more; fix profile_groups",
    )


def _from_error(action: Action, error: ConnectorError) -> ActionResult:
    retry = error.retry_after if isinstance(error, TemporaryError) else None
    return _failed(action, error.kind, error.message, retry)
