"""The planner: what to send one iPad so it becomes what it should be. Pure and total.

`plan_device(desired, observed, ...)` compares the desired state with the last observation and
the outbox rows not sent yet, and answers with the actions to queue, the unsent rows that no
longer serve the desired state (to cancel before they go out), and what cannot be done at all.

Rules:
- Converged gives no actions; the same input gives the same actions in the same order.
- Where the device is heading counts, not only where it is: a lock command the MDM still holds
  for an offline iPad means "will be locked", so the morning answer to it is an unlock queued
  behind it, and the device ends the night unlocked whatever order it comes back in. Likewise a
  profile whose delivery group the device is already in is on its way and is not sent again.
- An unsent row for the same change and target is in flight: never queued twice. An unsent row
  for anything else is stale and cancelled (a 20:00 lock still queued at 07:00 never goes out).
- Order per device: unlock, profile removals, profile installs, lock. A locked iPad refuses
  profile installs (Lost Mode), so the profiles go first at night and after the unlock at dawn.
- A lock needs Lost Mode, which needs supervision: an unsupervised iPad is reported, not
  skipped silently. Connectors without Lost Mode get the lock as a profile (see `resolve_lock`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from connectors.base import Capability
from mdm_bridge.model import (
    Action,
    ActionKind,
    DesiredState,
    LockIntent,
    LockState,
    ObservedDevice,
    ProfileDocument,
    ProfileRef,
)

ORDER = (
    ActionKind.UNLOCK,
    ActionKind.REMOVE_PROFILE,
    ActionKind.INSTALL_PROFILE,
    ActionKind.LOCK,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Unsent:
    """An outbox row not sent yet (queued, or claimed by a worker)."""

    key: str
    claimed: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class DevicePlan:
    actions: tuple[Action, ...] = ()
    stale: tuple[str, ...] = ()  # keys of unsent rows to cancel
    blocked: tuple[str, ...] = ()  # what cannot be done for this device, in words

    @property
    def converged(self) -> bool:
        return not self.actions and not self.blocked


_NOTHING = DevicePlan()


def heading_to(observed: ObservedDevice) -> LockState:
    """The lock state the device ends in once the commands the MDM holds for it are carried out."""
    for command in reversed(observed.pending_commands):
        if command.kind == ActionKind.LOCK.value:
            return LockState.LOCKED
        if command.kind == ActionKind.UNLOCK.value:
            return LockState.UNLOCKED
    return observed.lock


def resolve_lock(
    desired: DesiredState,
    capabilities: frozenset[Capability],
    documents: Mapping[str, ProfileDocument],
    lock_profile: Callable[[LockIntent], ProfileDocument],
) -> tuple[DesiredState, Mapping[str, ProfileDocument]]:
    """For an MDM without Lost Mode but with group profiles: the lock becomes a lock profile."""
    if desired.lock is None or Capability.LOST_MODE in capabilities:
        return desired, documents
    if Capability.PROFILES_BY_GROUP not in capabilities:
        return desired, documents
    document = lock_profile(desired.lock)
    profiles = desired.profiles | {document.ref}
    resolved = DesiredState(
        ref=desired.ref, profiles=profiles, next_change_at=desired.next_change_at
    )
    return resolved, {**documents, document.identifier: document}


def plan_device(
    desired: DesiredState,
    observed: ObservedDevice | None,
    *,
    capabilities: frozenset[Capability],
    documents: Mapping[str, ProfileDocument],
    unsent: Sequence[Unsent] = (),
    delivered: Mapping[str, str] | None = None,
) -> DevicePlan:
    """The actions that move `observed` to `desired`.

    `documents` holds the content of every desired profile; `delivered` maps a profile
    identifier to the content hash last accepted for this device, so changed content is sent
    again even while the old version is still installed.
    """
    if observed is None:
        return DevicePlan(blocked=("never observed: waiting for the inventory sync",))
    if Capability.INVENTORY_ONLY in capabilities:
        return DevicePlan()
    wanted: list[Action] = []
    blocked: list[str] = []
    _plan_lock(desired, observed, capabilities, wanted, blocked)
    _plan_profiles(desired, observed, capabilities, documents, delivered or {}, wanted, blocked)
    if not wanted and not unsent:  # converged (or only blocked): the usual steady state
        return DevicePlan(blocked=tuple(blocked)) if blocked else _NOTHING
    wanted.sort(key=lambda action: ORDER.index(action.kind))
    open_keys = {row.key for row in unsent}
    wanted_keys = {action.idempotency_key for action in wanted}
    return DevicePlan(
        actions=tuple(a for a in wanted if a.idempotency_key not in open_keys),
        stale=tuple(sorted(row.key for row in unsent if row.key not in wanted_keys)),
        blocked=tuple(blocked),
    )


def _plan_lock(
    desired: DesiredState,
    observed: ObservedDevice,
    capabilities: frozenset[Capability],
    wanted: list[Action],
    blocked: list[str],
) -> None:
    heading = heading_to(observed)
    if desired.lock is not None and heading is not LockState.LOCKED:
        if Capability.LOST_MODE not in capabilities:
            blocked.append(f"cannot lock ({desired.lock.cause.value}): the MDM has no lock")
        elif not observed.supervised:
            blocked.append(f"cannot lock ({desired.lock.cause.value}): iPad not supervised")
        else:
            wanted.append(
                Action(
                    kind=ActionKind.LOCK,
                    device=desired.ref,
                    target_hash=desired.state_hash,
                    reason=desired.lock.cause.value,
                    lock=desired.lock,
                )
            )
    # Without Lost Mode the bridge never locked it: not ours to undo.
    elif (
        desired.lock is None
        and heading is LockState.LOCKED
        and Capability.LOST_MODE in capabilities
    ):
        unlock = Action(
            kind=ActionKind.UNLOCK,
            device=desired.ref,
            target_hash=desired.state_hash,
            reason="nothing locks it now",
        )
        wanted.append(unlock)


def _plan_profiles(
    desired: DesiredState,
    observed: ObservedDevice,
    capabilities: frozenset[Capability],
    documents: Mapping[str, ProfileDocument],
    delivered: Mapping[str, str],
    wanted: list[Action],
    blocked: list[str],
) -> None:
    scoped = observed.profiles | observed.groups
    desired_ids = {profile.identifier for profile in desired.profiles}
    if Capability.PROFILES_BY_GROUP not in capabilities:
        if desired_ids - scoped:
            blocked.append("cannot install profiles: the MDM has no group profiles")
        return
    for profile in sorted(desired.profiles, key=lambda p: p.identifier):
        same_content = delivered.get(profile.identifier, profile.content_hash)
        if profile.identifier in scoped and same_content == profile.content_hash:
            continue
        document = documents.get(profile.identifier)
        wanted.append(
            Action(
                kind=ActionKind.INSTALL_PROFILE,
                device=desired.ref,
                target_hash=profile.content_hash,
                reason="profile missing" if profile.identifier not in scoped else "new content",
                profile=profile,
                document=document if document and document.ref == profile else None,
            )
        )
    for identifier in sorted(observed.groups - desired_ids):
        wanted.append(
            Action(
                kind=ActionKind.REMOVE_PROFILE,
                device=desired.ref,
                target_hash=desired.state_hash,
                reason="no longer applies",
                profile=ProfileRef(identifier=identifier, content_hash="-"),
            )
        )
