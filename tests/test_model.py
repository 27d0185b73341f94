"""The shared vocabulary: frozen, keyword-only, aware instants, no destructive action."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from mdm_bridge.model import (
    Action,
    ActionKind,
    DesiredState,
    DeviceRef,
    LockCause,
    LockIntent,
    ObservedDevice,
    ProfileDocument,
    ProfileRef,
)

IPAD = DeviceRef(mdm_instance="jamf", vendor_id="42", serial_number="DMPXK1ABCD")
CURFEW = LockIntent(cause=LockCause.CURFEW, message="Home iPads rest from 20:00")
FILTER = ProfileRef(identifier="org.mdm-bridge.filter.ks2", content_hash="ab12")


def test_values_are_frozen_and_keyword_only() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        IPAD.serial_number = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        DeviceRef("jamf", "42", "DMPX")  # type: ignore[call-arg]


def test_device_ref_requires_identity() -> None:
    with pytest.raises(ValueError, match="serial_number"):
        DeviceRef(mdm_instance="jamf", vendor_id="42", serial_number="")


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="observed_at"):
        ObservedDevice(ref=IPAD, observed_at=datetime(2026, 1, 1), supervised=True)  # noqa: DTZ001


def test_desired_state_hash_is_stable_and_content_sensitive() -> None:
    a = DesiredState(ref=IPAD, lock=CURFEW, profiles=frozenset({FILTER}))
    b = DesiredState(ref=IPAD, lock=CURFEW, profiles=frozenset({FILTER}))
    unlocked = DesiredState(ref=IPAD, profiles=frozenset({FILTER}))
    changed = DesiredState(
        ref=IPAD,
        lock=CURFEW,
        profiles=frozenset({dataclasses.replace(FILTER, content_hash="cd34")}),
    )
    assert a.state_hash == b.state_hash
    assert len({a.state_hash, unlocked.state_hash, changed.state_hash}) == 3


def test_actions_check_their_payload() -> None:
    with pytest.raises(ValueError, match="needs a lock intent"):
        Action(kind=ActionKind.LOCK, device=IPAD, target_hash="h", reason="curfew")
    with pytest.raises(ValueError, match="needs a profile"):
        Action(kind=ActionKind.INSTALL_PROFILE, device=IPAD, target_hash="h", reason="filter")


def test_idempotency_key_names_device_change_and_target() -> None:
    lock = Action(kind=ActionKind.LOCK, device=IPAD, target_hash="h1", reason="curfew", lock=CURFEW)
    again = dataclasses.replace(lock, reason="reworded")
    other_target = dataclasses.replace(lock, target_hash="h2")
    assert lock.idempotency_key == again.idempotency_key == "jamf/42:lock::h1"
    assert lock.idempotency_key != other_target.idempotency_key


def test_no_destructive_action_exists() -> None:
    names = {kind.value for kind in ActionKind} | {kind.name.lower() for kind in ActionKind}
    for forbidden in ("erase", "wipe", "unenroll", "clear_passcode", "remove_mdm"):
        assert not any(forbidden in name for name in names)


def test_lock_until_must_be_aware() -> None:
    assert LockIntent(cause=LockCause.BAN, message="m", until=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="until"):
        LockIntent(cause=LockCause.BAN, message="m", until=datetime(2026, 1, 1))  # noqa: DTZ001


CURFEW_PROFILE = {
    "PayloadType": "com.apple.applicationaccess",
    "PayloadVersion": 1,
    "PayloadIdentifier": "org.mdm-bridge.curfew.restrictions",
    "PayloadUUID": "5D0C4B8E-0000-4000-8000-000000000001",
    "allowSafari": False,
}


def _document(**changes: object) -> ProfileDocument:
    values: dict[str, object] = {
        "identifier": "org.mdm-bridge.curfew",
        "display_name": "Curfew",
        "payloads": (CURFEW_PROFILE,),
        "removal_date": datetime(2026, 11, 24, 7, 0, tzinfo=UTC),
    } | changes
    return ProfileDocument(**values)  # type: ignore[arg-type]


def test_profile_document_hash_follows_content_and_removal_date() -> None:
    same = _document()
    assert same == _document()
    assert same.content_hash == _document().content_hash
    unsafe = _document(payloads=(CURFEW_PROFILE | {"allowSafari": True},))
    later = _document(removal_date=datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    assert len({same.content_hash, unsafe.content_hash, later.content_hash}) == 3
    assert same.ref == ProfileRef(
        identifier="org.mdm-bridge.curfew",
        content_hash=same.content_hash,
        removal_date=datetime(2026, 11, 24, 7, 0, tzinfo=UTC),
    )
    hash(same)  # usable in sets and as part of a hashed action


def test_profile_document_refuses_naive_dates_and_unplistable_payloads() -> None:
    with pytest.raises(ValueError, match="removal_date"):
        _document(removal_date=datetime(2026, 11, 24, 7, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="not plist-ready"):
        _document(payloads=({"PayloadType": "x", "bad": object()},))
    with pytest.raises(ValueError, match="display name"):
        _document(display_name="")


def test_only_a_matching_install_action_carries_a_document() -> None:
    document = _document()
    install = Action(
        kind=ActionKind.INSTALL_PROFILE,
        device=IPAD,
        target_hash="h",
        reason="curfew",
        profile=document.ref,
        document=document,
    )
    assert install.document is document
    with pytest.raises(ValueError, match="does not match"):
        Action(
            kind=ActionKind.INSTALL_PROFILE,
            device=IPAD,
            target_hash="h",
            reason="curfew",
            profile=FILTER,
            document=document,
        )
    with pytest.raises(ValueError, match="only an install_profile"):
        Action(
            kind=ActionKind.REMOVE_PROFILE,
            device=IPAD,
            target_hash="h",
            reason="curfew",
            profile=document.ref,
            document=document,
        )
