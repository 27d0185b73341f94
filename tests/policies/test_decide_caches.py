"""desired_state remembers per-instant answers for speed; they must never leak across policies,
instants or ban ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from policies import desired_state
from tests.policies.helpers import AFTERNOON, EVENING, PUPIL, agreement, default_policy, device


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
