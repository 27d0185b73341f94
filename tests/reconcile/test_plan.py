"""The planner: converged gives nothing, stale never wins, order protects Lost Mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from connectors.base import Capability
from mdm_bridge.model import (
    ActionKind,
    DesiredState,
    DeviceRef,
    LockCause,
    LockIntent,
    LockState,
    ObservedDevice,
    PendingCommand,
    ProfileDocument,
)
from mdm_bridge.reconcile.plan import Unsent, heading_to, plan_device, resolve_lock

NIGHT = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
REF = DeviceRef(mdm_instance="jamf", vendor_id="7", serial_number="DMPX7")
JAMF_PRO = frozenset({Capability.LOST_MODE, Capability.PROFILES_BY_GROUP, Capability.BULK_COMMANDS})
JAMF_SCHOOL = frozenset({Capability.PROFILES_BY_GROUP})
CURFEW = LockIntent(cause=LockCause.CURFEW, message="Bedtime", until=NIGHT + timedelta(hours=11))
KS3 = ProfileDocument(
    identifier="org.mdm-bridge.restrictions.ks3",
    display_name="KS3",
    payloads=({"PayloadType": "com.apple.applicationaccess", "allowSafari": True},),
)
BAN = ProfileDocument(
    identifier="org.mdm-bridge.ban.level1",
    display_name="Ban",
    payloads=({"PayloadType": "com.apple.applicationaccess", "allowSafari": False},),
)
DOCUMENTS = {KS3.identifier: KS3, BAN.identifier: BAN}


def observed(
    *,
    lock: LockState = LockState.UNLOCKED,
    scoped: frozenset[str] = frozenset({KS3.identifier}),
    pending: tuple[str, ...] = (),
    supervised: bool = True,
) -> ObservedDevice:
    return ObservedDevice(
        ref=REF,
        observed_at=NIGHT,
        supervised=supervised,
        lock=lock,
        profiles=scoped,
        groups=scoped,
        pending_commands=tuple(
            PendingCommand(command_id=f"c{i}", kind=kind, queued_at=NIGHT)
            for i, kind in enumerate(pending)
        ),
    )


def desired(*, lock: LockIntent | None = None, profiles=(KS3,)) -> DesiredState:  # type: ignore[no-untyped-def]
    return DesiredState(ref=REF, lock=lock, profiles=frozenset(p.ref for p in profiles))


def kinds(plan) -> list[ActionKind]:  # type: ignore[no-untyped-def]
    return [action.kind for action in plan.actions]


def test_converged_gives_no_actions() -> None:
    plan = plan_device(desired(), observed(), capabilities=JAMF_PRO, documents=DOCUMENTS)
    assert plan.actions == ()
    assert plan.converged


def test_curfew_locks_and_a_new_profile_goes_before_the_lock() -> None:
    plan = plan_device(
        desired(lock=CURFEW, profiles=(KS3, BAN)),
        observed(),
        capabilities=JAMF_PRO,
        documents=DOCUMENTS,
    )
    assert kinds(plan) == [ActionKind.INSTALL_PROFILE, ActionKind.LOCK]
    install, lock = plan.actions
    assert install.document == BAN
    assert lock.lock == CURFEW


def test_at_dawn_the_unlock_goes_before_profile_changes() -> None:
    plan = plan_device(
        desired(profiles=()),
        observed(lock=LockState.LOCKED),
        capabilities=JAMF_PRO,
        documents=DOCUMENTS,
    )
    assert kinds(plan) == [ActionKind.UNLOCK, ActionKind.REMOVE_PROFILE]


def test_a_lock_the_mdm_still_holds_is_not_sent_again() -> None:
    plan = plan_device(
        desired(lock=CURFEW),
        observed(pending=("lock",)),
        capabilities=JAMF_PRO,
        documents=DOCUMENTS,
    )
    assert plan.actions == ()


def test_an_ipad_offline_all_night_gets_an_unlock_behind_its_stale_lock() -> None:
    # The 20:00 lock is still waiting in the MDM at 07:00: the device must end unlocked.
    plan = plan_device(
        desired(), observed(pending=("lock",)), capabilities=JAMF_PRO, documents=DOCUMENTS
    )
    assert kinds(plan) == [ActionKind.UNLOCK]


def test_an_unsent_stale_lock_is_cancelled_and_an_open_one_is_not_queued_twice() -> None:
    tonight = plan_device(
        desired(lock=CURFEW), observed(), capabilities=JAMF_PRO, documents=DOCUMENTS
    )
    queued = Unsent(key=tonight.actions[0].idempotency_key)
    again = plan_device(
        desired(lock=CURFEW),
        observed(),
        capabilities=JAMF_PRO,
        documents=DOCUMENTS,
        unsent=[queued],
    )
    assert again.actions == ()
    assert again.stale == ()
    morning = plan_device(
        desired(), observed(), capabilities=JAMF_PRO, documents=DOCUMENTS, unsent=[queued]
    )
    assert morning.actions == ()
    assert morning.stale == (queued.key,)


def test_tomorrows_lock_is_a_new_target() -> None:
    tomorrow = LockIntent(
        cause=LockCause.CURFEW, message="Bedtime", until=CURFEW.until + timedelta(days=1)
    )  # type: ignore[operator]
    first = plan_device(
        desired(lock=CURFEW), observed(), capabilities=JAMF_PRO, documents=DOCUMENTS
    )
    second = plan_device(
        desired(lock=tomorrow), observed(), capabilities=JAMF_PRO, documents=DOCUMENTS
    )
    assert first.actions[0].idempotency_key != second.actions[0].idempotency_key


def test_changed_content_is_sent_again_even_while_the_old_one_is_installed() -> None:
    plan = plan_device(
        desired(),
        observed(),
        capabilities=JAMF_PRO,
        documents=DOCUMENTS,
        delivered={KS3.identifier: "old-hash"},
    )
    assert kinds(plan) == [ActionKind.INSTALL_PROFILE]
    assert plan.actions[0].reason == "new content"


def test_an_unsupervised_ipad_is_reported_not_skipped() -> None:
    plan = plan_device(
        desired(lock=CURFEW), observed(supervised=False), capabilities=JAMF_PRO, documents=DOCUMENTS
    )
    assert plan.actions == ()
    assert plan.blocked == ("cannot lock (curfew): iPad not supervised",)
    assert not plan.converged


def test_without_lost_mode_the_lock_becomes_a_profile() -> None:
    def lock_profile(intent: LockIntent) -> ProfileDocument:
        return ProfileDocument(
            identifier="org.mdm-bridge.lock.curfew",
            display_name="Locked",
            payloads=({"PayloadType": "com.apple.app.lock"},),
            removal_date=intent.until,
        )

    resolved, documents = resolve_lock(desired(lock=CURFEW), JAMF_SCHOOL, DOCUMENTS, lock_profile)
    assert resolved.lock is None
    plan = plan_device(resolved, observed(), capabilities=JAMF_SCHOOL, documents=documents)
    assert kinds(plan) == [ActionKind.INSTALL_PROFILE]
    assert plan.actions[0].profile.identifier == "org.mdm-bridge.lock.curfew"  # type: ignore[union-attr]


def test_a_device_never_observed_waits_for_the_inventory() -> None:
    plan = plan_device(desired(lock=CURFEW), None, capabilities=JAMF_PRO, documents=DOCUMENTS)
    assert plan.actions == ()
    assert plan.blocked


def test_an_inventory_only_mdm_gets_nothing() -> None:
    only = frozenset({Capability.INVENTORY_ONLY})
    assert plan_device(desired(lock=CURFEW), observed(), capabilities=only, documents={}).converged


LOCKS = st.sampled_from([None, CURFEW])
PROFILE_SETS = st.sets(st.sampled_from([KS3, BAN]))
SCOPED = st.sets(st.sampled_from([KS3.identifier, BAN.identifier]))
LOCK_STATES = st.sampled_from(list(LockState))
PENDING = st.lists(st.sampled_from(["lock", "unlock"]), max_size=2)


@given(LOCKS, PROFILE_SETS, LOCK_STATES, SCOPED, PENDING, st.booleans())
def test_same_input_same_plan_and_applying_it_converges(  # type: ignore[no-untyped-def]
    lock, profiles, state, scoped, pending, supervised
) -> None:
    want = desired(lock=lock, profiles=tuple(profiles))
    seen = observed(
        lock=state, scoped=frozenset(scoped), pending=tuple(pending), supervised=supervised
    )
    first = plan_device(want, seen, capabilities=JAMF_PRO, documents=DOCUMENTS)
    assert first == plan_device(want, seen, capabilities=JAMF_PRO, documents=DOCUMENTS)
    # The device carries out every action: a second plan has nothing left to send.
    groups = set(scoped)
    after_lock = heading_to(seen)  # the MDM carries out what it held first
    if lock and supervised:
        after_lock = LockState.LOCKED
    for action in first.actions:
        if action.kind is ActionKind.INSTALL_PROFILE:
            groups.add(action.profile.identifier)  # type: ignore[union-attr]
        elif action.kind is ActionKind.REMOVE_PROFILE:
            groups.discard(action.profile.identifier)  # type: ignore[union-attr]
        elif action.kind is ActionKind.UNLOCK:
            after_lock = LockState.UNLOCKED
    after = observed(lock=after_lock, scoped=frozenset(groups), pending=(), supervised=supervised)
    second = plan_device(want, after, capabilities=JAMF_PRO, documents=DOCUMENTS)
    assert second.actions == ()
