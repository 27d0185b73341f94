"""Turning a batch of actions into the fewest Jamf Pro requests, with one result per action.

`JamfProConnector.apply` hands over the actions its capabilities allow. Locks are grouped by
message and unlocks together, each group sent as Lost Mode commands for many devices per
request; profile actions are grouped by profile: the profile is made current once, then its
group's membership changes in one edit. The groups of work run concurrently (the HTTP layer
keeps to five connections); a failure in one becomes the result of its own actions only,
translated to our failure kinds, and never stops the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ActionResult, ConnectorError, FailureKind, Outcome, TemporaryError
from connectors.http import VendorHttp
from connectors.jamf_pro.commands import LostModeCommand, LostModeText, send_lost_mode
from connectors.jamf_pro.groups import StaticGroups
from connectors.jamf_pro.inventory import Ownership
from connectors.jamf_pro.profiles import ConfigurationProfiles
from mdm_bridge.model import Action, ActionKind, ProfileDocument

Results = dict[int, ActionResult]
Job = Coroutine[Any, Any, Results]


def failed(
    action: Action, detail: str, kind: FailureKind, retry_after: float | None = None
) -> ActionResult:
    return ActionResult(
        action=action, outcome=Outcome.FAILED, detail=detail, failure=kind, retry_after=retry_after
    )


def accepted(action: Action, detail: str) -> ActionResult:
    return ActionResult(action=action, outcome=Outcome.ACCEPTED, detail=detail)


@dataclass(kw_only=True)
class ProfileWork:
    """Everything a batch asks of one profile: its content and who joins or leaves."""

    identifier: str
    document: ProfileDocument | None = None
    joining: list[int] = field(default_factory=list)  # indexes into the batch
    leaving: list[int] = field(default_factory=list)


class BatchApplier:
    def __init__(
        self,
        *,
        http: VendorHttp,
        base_url: str,
        groups: StaticGroups,
        profiles: ConfigurationProfiles,
        ownership: Ownership,
        text: LostModeText,
        batch_size: int,
    ) -> None:
        self._http = http
        self._base = base_url
        self._groups = groups
        self._profiles = profiles
        self._ownership = ownership
        self._text = text
        self._batch_size = max(1, batch_size)

    async def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        results: Results = {}
        locks: dict[str, list[int]] = {}
        unlocks: list[int] = []
        work: dict[str, ProfileWork] = {}
        # Runs over the whole batch before the first request can leave (10,000 actions at a
        # curfew edge), so the common case costs a few attribute reads per action.
        for index, action in enumerate(actions):
            problem = _unusable(action)
            if problem:
                results[index] = failed(action, problem, FailureKind.PERMANENT)
            elif action.kind is ActionKind.LOCK:
                assert action.lock is not None
                message = action.lock.message
                same_message = locks.get(message)
                if same_message is None:
                    same_message = locks[message] = []
                same_message.append(index)
            elif action.kind is ActionKind.UNLOCK:
                unlocks.append(index)
            else:
                self._plan_profile(work, index, action, results)
        jobs: list[Callable[[], Job]] = []
        for message, indexes in locks.items():
            for chunk in self._chunks(indexes):
                jobs.append(self._lost_mode_job(actions, chunk, LostModeCommand.ENABLE, message))
        for chunk in self._chunks(unlocks):
            jobs.append(self._lost_mode_job(actions, chunk, LostModeCommand.DISABLE, ""))
        for profile in work.values():
            jobs.append(self._profile_job(actions, profile))
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(job()) for job in jobs]
        for task in tasks:
            results.update(task.result())
        return [results[index] for index in range(len(actions))]

    def _chunks(self, indexes: list[int]) -> list[list[int]]:
        size = self._batch_size
        return [indexes[start : start + size] for start in range(0, len(indexes), size)]

    def _plan_profile(
        self, work: dict[str, ProfileWork], index: int, action: Action, results: Results
    ) -> None:
        assert action.profile is not None
        profile = work.setdefault(
            action.profile.identifier, ProfileWork(identifier=action.profile.identifier)
        )
        if action.kind is ActionKind.REMOVE_PROFILE:
            profile.leaving.append(index)
            return
        document = action.document
        if document is None:
            detail = "Jamf Pro needs the profile's content (document) to install it"
            results[index] = failed(action, detail, FailureKind.PERMANENT)
            return
        if profile.document is not None and profile.document != document:
            detail = "two versions of one profile in a batch; plan again"
            results[index] = failed(action, detail, FailureKind.PERMANENT)
            return
        profile.document = document
        profile.joining.append(index)

    def _lost_mode_job(
        self, actions: Sequence[Action], chunk: list[int], command: LostModeCommand, message: str
    ) -> Callable[[], Job]:
        async def job() -> Results:
            batch = [actions[index] for index in chunk]
            try:
                sent = await send_lost_mode(
                    self._http, self._base, command, batch, message=message, text=self._text
                )
            except ConnectorError as error:
                return {index: _from_error(actions[index], error) for index in chunk}
            return dict(zip(chunk, sent, strict=True))

        return job

    def _profile_job(self, actions: Sequence[Action], work: ProfileWork) -> Callable[[], Job]:
        async def job() -> Results:
            name = self._ownership.group_name(work.identifier)
            device = {
                index: actions[index].device.vendor_id for index in work.joining + work.leaving
            }
            leaving = [
                i for i in work.leaving if device[i] not in {device[j] for j in work.joining}
            ]
            contradictory = [i for i in work.leaving if i not in leaving]
            try:
                if work.document is not None and work.joining:
                    group_id = await self._groups.ensure(name)
                    await self._profiles.ensure(name, work.document, group_id)
                change = await self._groups.change(
                    name,
                    add=[device[i] for i in work.joining],
                    remove=[device[i] for i in leaving],
                )
            except ConnectorError as error:
                return {i: _from_error(actions[i], error) for i in work.joining + work.leaving}
            results: Results = {
                i: failed(actions[i], "installed and removed in one batch", FailureKind.PERMANENT)
                for i in contradictory
            }
            for i in work.joining:
                done = "added to" if device[i] in change.added else "already in"
                results[i] = accepted(
                    actions[i], f"{done} the profile's group; installs at check-in"
                )
            for i in leaving:
                done = "removed from" if device[i] in change.removed else "was not in"
                results[i] = accepted(actions[i], f"{done} the profile's group")
            return results

        return job


def _unusable(action: Action) -> str:
    """Why Jamf Pro cannot be asked to do this at all, or '' when it can."""
    kind = action.kind
    if kind is ActionKind.LOCK or kind is ActionKind.UNLOCK:
        if not action.device.management_id:
            return "the device has no managementId; list the inventory again"
        lock = action.lock
        if kind is ActionKind.LOCK and lock is not None and not lock.message:
            return "Lost Mode needs a message"
        return ""
    if not action.device.vendor_id.isdigit():  # a profile action: Jamf names devices by id
        return f"{action.device.vendor_id!r} is not a Jamf Pro mobile device id"
    return ""


def _from_error(action: Action, error: ConnectorError) -> ActionResult:
    retry_after = error.retry_after if isinstance(error, TemporaryError) else None
    return failed(action, error.message, error.kind, retry_after)
