"""desired_state: home use, curfew, bans, holds, exemptions and when the answer next changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mdm_bridge.model import LockCause, LockIntent
from policies import (
    CurfewVerdict,
    Decision,
    DeviceHold,
    HoldKind,
    PupilFacts,
    academic_year_of,
    desired_state,
    lock_profile,
)
from tests.policies.helpers import (
    AFTERNOON,
    EVENING,
    MONDAY,
    PUPIL,
    agreement,
    ban,
    curfew_exemption,
    default_policy,
    device,
    hold,
    web_exemption,
)

SECONDARY = "org.mdmbridge.restrictions.secondary"


def decide(**changes: Any) -> Decision:
    values: dict[str, Any] = {
        "device": device(),
        "pupil": PUPIL,
        "policy": default_policy(),
        "bans": [],
        "exemptions": [],
        "agreements": [agreement()],
        "holds": [],
        "now": EVENING,
    }
    values.update(changes)
    return desired_state(**values)


def test_home_use_ipad_locks_in_curfew_until_its_end() -> None:
    decision = decide()
    assert decision.home_use
    assert decision.curfew is CurfewVerdict.IN_CURFEW
    lock = decision.desired.lock
    assert lock is not None
    assert lock.cause is LockCause.CURFEW
    assert lock.until == datetime(2026, 11, 24, 7, tzinfo=UTC)
    assert lock.message == default_policy().curfew_message
    assert decision.desired.next_change_at == lock.until


def test_outside_curfew_nothing_locks_and_the_next_change_is_the_curfew_start() -> None:
    decision = decide(now=AFTERNOON)
    assert decision.curfew is CurfewVerdict.OUT_OF_CURFEW
    assert decision.desired.lock is None
    assert decision.desired.next_change_at == MONDAY.replace(hour=20)


def test_academic_year_of() -> None:
    assert academic_year_of(date(2026, 11, 23)) == "2026-27"
    assert academic_year_of(date(2027, 7, 20)) == "2026-27"
    assert academic_year_of(date(2026, 9, 1)) == "2026-27"
    assert academic_year_of(date(2026, 8, 31)) == "2025-26"
    assert academic_year_of(date(2099, 1, 5), starts_month=1) == "2099-00"


def test_school_only_ipad_never_gets_the_curfew() -> None:
    decision = decide(device=device(takes_home=False))
    assert not decision.home_use
    assert decision.curfew is CurfewVerdict.NOT_HOME_USE
    assert decision.desired.lock is None


def test_ipad_without_a_pupil_is_not_home_use() -> None:
    decision = decide(pupil=None)
    assert decision.curfew is CurfewVerdict.NOT_HOME_USE
    assert decision.desired.lock is None


def test_parent_meeting_alone_is_not_enough() -> None:
    decision = decide(agreements=[agreement(signed=None)])
    assert not decision.home_use
    assert decision.desired.lock is None
    assert not decide(agreements=[agreement(meeting=None)]).home_use


def test_last_years_agreement_does_not_count() -> None:
    old = agreement(year="2025-26", meeting=date(2025, 9, 10), signed=date(2025, 9, 10))
    assert not decide(agreements=[old]).home_use


def test_another_pupils_agreement_does_not_count() -> None:
    assert not decide(agreements=[agreement(pupil="pupil-8")]).home_use


def test_curfew_exemption_relaxes_the_curfew_in_its_time_box() -> None:
    exemption = curfew_exemption(starts=MONDAY.replace(hour=19), length=timedelta(hours=4))
    decision = decide(exemptions=[exemption])
    assert decision.curfew is CurfewVerdict.EXEMPT
    assert decision.desired.lock is None
    assert decision.desired.next_change_at == exemption.ends_at
    later = decide(exemptions=[exemption], now=MONDAY.replace(hour=23, minute=30))
    assert later.curfew is CurfewVerdict.IN_CURFEW


def test_curfew_exemption_only_for_its_pupil_and_only_when_approved() -> None:
    other = curfew_exemption(pupil="pupil-8")
    assert decide(exemptions=[other]).curfew is CurfewVerdict.IN_CURFEW
    unapproved = curfew_exemption(approved=False)
    assert decide(exemptions=[unapproved]).curfew is CurfewVerdict.IN_CURFEW


def test_remove_ban_locks_outside_curfew_and_despite_an_exemption() -> None:
    remove = ban(3, approved=True)
    decision = decide(bans=[remove], now=AFTERNOON, exemptions=[curfew_exemption()])
    lock = decision.desired.lock
    assert lock is not None
    assert lock.cause is LockCause.BAN
    assert lock.until == remove.ends_at
    assert lock.message == default_policy().ban_message
    in_curfew = decide(bans=[remove], exemptions=[curfew_exemption()])
    assert in_curfew.desired.lock is not None
    assert in_curfew.desired.lock.cause is LockCause.BAN


def test_remove_ban_awaiting_approval_does_nothing() -> None:
    decision = decide(bans=[ban(3)], now=AFTERNOON)
    assert decision.desired.lock is None


def test_restrict_ban_adds_its_profile_until_the_ban_ends() -> None:
    restrict = ban(2)
    decision = decide(bans=[restrict], now=AFTERNOON)
    identifier = "org.mdmbridge.ban.level2"
    assert identifier in decision.documents
    refs = {ref.identifier: ref for ref in decision.desired.profiles}
    # Shared by every pupil banned at level 2 (an MDM holds one content per profile), so it
    # carries no pupil's end: the same content whatever the end, and the bridge lifts it.
    later = replace(restrict, ends_at=restrict.ends_at + timedelta(days=5))
    other = decide(bans=[later], now=AFTERNOON)
    assert refs[identifier].removal_date is None
    assert refs[identifier] in other.desired.profiles
    assert decide(bans=[restrict], now=restrict.ends_at).documents.get(identifier) is None
    assert SECONDARY in refs  # the pupil's own profile stays
    assert decision.desired.lock is None
    assert decision.desired.next_change_at == MONDAY.replace(hour=20)


def test_bans_of_other_pupils_and_lifted_bans_are_ignored() -> None:
    others = [
        ban(3, approved=True, pupil="pupil-8"),
        ban(2, pupil="pupil-8", ban_id="b2"),
        ban(3, approved=True, lifted_at=MONDAY + timedelta(hours=1), ban_id="b3"),
    ]
    decision = decide(bans=others, now=AFTERNOON)
    assert decision.desired.lock is None
    assert {ref.identifier for ref in decision.desired.profiles} == {SECONDARY}


def test_evidence_hold_beats_everything_and_has_no_end() -> None:
    decision = decide(
        holds=[hold(HoldKind.INSPECTION), hold()],
        bans=[ban(4, approved=True)],
        exemptions=[curfew_exemption()],
    )
    lock = decision.desired.lock
    assert lock is not None
    assert lock.cause is LockCause.EVIDENCE_HOLD
    assert lock.until is None
    assert lock.message == default_policy().hold_message


def test_inspection_beats_a_ban_and_a_released_hold_is_gone() -> None:
    inspection = decide(holds=[hold(HoldKind.INSPECTION)], bans=[ban(4, approved=True)])
    assert inspection.desired.lock is not None
    assert inspection.desired.lock.cause is LockCause.INSPECTION
    released = DeviceHold(
        id="h",
        device_key=hold().device_key,
        kind=HoldKind.EVIDENCE_HOLD,
        reason="x",
        placed_by="dsl-1",
        placed_at=MONDAY,
        released_by="dsl-1",
        released_at=MONDAY + timedelta(hours=1),
    )
    assert decide(holds=[released], now=AFTERNOON).desired.lock is None


def test_hold_on_another_device_is_ignored() -> None:
    other = DeviceHold(
        id="h", device_key="jamf-1/99", kind=HoldKind.EVIDENCE_HOLD, reason="x",
        placed_by="dsl-1", placed_at=MONDAY,
    )  # fmt: skip
    assert decide(holds=[other], now=AFTERNOON).desired.lock is None


def test_web_exemption_changes_only_the_pupils_filter_profile() -> None:
    plain = decide(now=AFTERNOON, bans=[ban(1)])
    widened = decide(now=AFTERNOON, bans=[ban(1)], exemptions=[web_exemption()])
    assert widened.documents[SECONDARY].content_hash != plain.documents[SECONDARY].content_hash
    ban_profile = "org.mdmbridge.ban.level1"
    assert widened.documents[ban_profile].content_hash == plain.documents[ban_profile].content_hash
    web = widened.documents[SECONDARY].payloads[1]
    assert "https://www.romans-topic.example" in web["PermittedURLs"]
    assert any("Romans topic" in reason for reason in widened.reasons)


def test_web_exemption_only_while_approved_in_force_and_for_the_group() -> None:
    plain = decide(now=AFTERNOON).documents[SECONDARY].content_hash
    for exemption in (
        web_exemption(approved=False),
        web_exemption(group="9A"),
        web_exemption(starts=AFTERNOON + timedelta(hours=1)),
        web_exemption(starts=AFTERNOON - timedelta(days=8)),
    ):
        assert (
            decide(now=AFTERNOON, exemptions=[exemption]).documents[SECONDARY].content_hash == plain
        )


def test_next_change_is_the_earliest_future_edge() -> None:
    starts = AFTERNOON + timedelta(hours=1)
    upcoming = ban(1, starts=starts, length=timedelta(hours=2))
    assert decide(now=AFTERNOON, bans=[upcoming]).desired.next_change_at == starts
    exemption = web_exemption(starts=AFTERNOON + timedelta(minutes=30))
    decision = decide(now=AFTERNOON, bans=[upcoming], exemptions=[exemption])
    assert decision.desired.next_change_at == exemption.starts_at


def test_same_input_gives_an_equal_decision() -> None:
    inputs: dict[str, Any] = {
        "bans": [ban(2), ban(3, approved=True, ban_id="b3")],
        "exemptions": [web_exemption(), curfew_exemption()],
    }
    first, second = decide(**inputs), decide(**inputs)
    assert first == second
    assert first.desired.state_hash == second.desired.state_hash


def test_profile_follows_the_most_specific_assignment() -> None:
    infant = PupilFacts(reference="pupil-1", year_group=1)
    decision = decide(pupil=infant, agreements=[], now=AFTERNOON)
    assert {ref.identifier for ref in decision.desired.profiles} == {
        "org.mdmbridge.restrictions.primary-lower"
    }


def test_lock_profile_for_mdms_without_lost_mode() -> None:
    until = MONDAY + timedelta(days=1)
    intent = LockIntent(cause=LockCause.CURFEW, message="Sleep well", until=until)
    document = lock_profile(default_policy(), intent)
    assert document.identifier == "org.mdmbridge.lock.curfew"
    assert document.removal_date == until
    assert document.payloads[0]["PayloadType"] == "com.apple.app.lock"
    assert document.description == "Sleep well"
