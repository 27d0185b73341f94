"""desired_state remembers per-instant answers for speed; they must never leak across policies,
instants or ban ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from policies import desired_state
from tests.policies.helpers import AFTERNOON, EVENING, PUPIL, agreement, ban, default_policy, device


def decide(policy, now, bans=()):  # type: ignore[no-untyped-def]
    return desired_state(
        device=device(),
        pupil=PUPIL,
        policy=policy,
        bans=list(bans),
        exemptions=[],
        agreements=[agreement()],
        holds=[],
        now=now,
    )


def test_two_policies_at_one_instant_keep_their_own_answers() -> None:
    first = default_policy()
    second = replace(first, curfew_message="Lights out, see you at 7")
    assert decide(first, EVENING).desired.lock.message == first.curfew_message  # type: ignore[union-attr]
    assert decide(second, EVENING).desired.lock.message == "Lights out, see you at 7"  # type: ignore[union-attr]
    assert decide(first, EVENING).desired.lock.message == first.curfew_message  # type: ignore[union-attr]


def test_the_same_policy_answers_each_instant_afresh() -> None:
    policy = default_policy()
    assert decide(policy, EVENING).desired.lock is not None
    assert decide(policy, AFTERNOON).desired.lock is None
    assert decide(policy, EVENING + timedelta(days=1)).desired.lock.until == (  # type: ignore[union-attr]
        decide(policy, EVENING).desired.lock.until + timedelta(days=1)  # type: ignore[union-attr,operator]
    )


def test_one_ban_profile_with_two_end_dates_renders_two_contents() -> None:
    policy = default_policy()
    short = ban(level=1, length=timedelta(days=1))
    longer = ban(level=1, length=timedelta(days=3))
    one = decide(policy, EVENING, [short]).desired.profiles
    two = decide(policy, EVENING, [longer]).desired.profiles
    assert {p.identifier for p in one} == {p.identifier for p in two}
    assert one != two, "the removal date is content: a cached render must not hide it"
