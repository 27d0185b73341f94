"""Properties of desired_state over random bans, exemptions, holds, agreements and instants."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_bridge.model import LockCause
from policies import Ban, Decision, DeviceHold, Exemption, HoldKind, desired_state
from tests.policies.helpers import (
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

FORTNIGHT_MINUTES = 14 * 24 * 60
instants = st.integers(0, FORTNIGHT_MINUTES).map(lambda m: MONDAY + timedelta(minutes=m))
pupils = st.sampled_from([PUPIL.reference, "pupil-8"])


@st.composite
def bans(draw: st.DrawFn) -> Ban:
    return ban(
        draw(st.integers(1, 4)),
        starts=draw(instants),
        length=timedelta(minutes=draw(st.integers(30, 6 * 24 * 60))),
        pupil=draw(pupils),
        approved=draw(st.booleans()),
        ban_id=f"ban-{draw(st.integers(0, 10_000))}",
    )


@st.composite
def exemptions(draw: st.DrawFn) -> Exemption:
    starts = draw(instants)
    length = timedelta(minutes=draw(st.integers(30, 5 * 24 * 60)))
    approved = draw(st.booleans())
    if draw(st.booleans()):
        return curfew_exemption(starts=starts, length=length, pupil=draw(pupils), approved=approved)
    group = draw(st.sampled_from(["8C", "9A", "Chess club"]))
    return web_exemption(group=group, starts=starts, length=length, approved=approved)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    return {
        "device": device(takes_home=draw(st.booleans())),
        "pupil": PUPIL,
        "policy": default_policy(),
        "bans": draw(st.lists(bans(), max_size=4)),
        "exemptions": draw(st.lists(exemptions(), max_size=3)),
        "agreements": [agreement()] if draw(st.booleans()) else [],
        "holds": [],
        "now": draw(instants),
    }


def decide(case: dict[str, object], **changes: object) -> Decision:
    return desired_state(**(case | changes))  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(case=cases(), kind=st.sampled_from(HoldKind))
def test_an_evidence_hold_always_locks_with_no_end(case: dict[str, object], kind: HoldKind) -> None:
    holds: list[DeviceHold] = [hold(placed=MONDAY - timedelta(days=1))]
    if kind is HoldKind.INSPECTION:
        holds.append(hold(HoldKind.INSPECTION, placed=MONDAY - timedelta(days=2)))
    lock = decide(case, holds=holds).desired.lock
    assert lock is not None
    assert lock.cause is LockCause.EVIDENCE_HOLD
    assert lock.until is None


@settings(max_examples=80, deadline=None)
@given(case=cases(), extra=st.lists(exemptions(), min_size=1, max_size=3))
def test_an_exemption_never_removes_a_bans_effect(
    case: dict[str, object], extra: list[Exemption]
) -> None:
    without = decide(case, exemptions=[])
    with_them = decide(case, exemptions=extra)
    if without.desired.lock is not None and without.desired.lock.cause is LockCause.BAN:
        assert with_them.desired.lock == without.desired.lock
    ban_profiles = {i: d for i, d in without.documents.items() if ".ban." in i}
    assert {i: d for i, d in with_them.documents.items() if ".ban." in i} == ban_profiles


@settings(max_examples=80, deadline=None)
@given(case=cases(), fraction=st.floats(0, 1, exclude_max=True))
def test_nothing_changes_before_next_change_at(case: dict[str, object], fraction: float) -> None:
    first = decide(case)
    change = first.desired.next_change_at
    if change is None:
        return
    now = case["now"]
    assert isinstance(now, type(MONDAY))
    assert change > now
    # timedelta * float rounds to the microsecond, which could land on `change` itself
    between = min(now + (change - now) * fraction, change - timedelta(microseconds=1))
    later = decide(case, now=between)
    assert later.desired.state_hash == first.desired.state_hash
    assert later.desired.next_change_at == change


@settings(max_examples=40, deadline=None)
@given(case=cases(), data=st.data())
def test_input_order_does_not_matter(case: dict[str, object], data: st.DataObject) -> None:
    shuffled_bans = data.draw(st.permutations(case["bans"]))  # type: ignore[arg-type]
    shuffled_exemptions = data.draw(st.permutations(case["exemptions"]))  # type: ignore[arg-type]
    first = decide(case)
    again = decide(case, bans=shuffled_bans, exemptions=shuffled_exemptions)
    assert again == first
    assert again.desired.state_hash == first.desired.state_hash
