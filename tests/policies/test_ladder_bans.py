"""The ladder's levels and suggestions, and where a ban stands over time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from policies import BanEffect, BanStatus, Role, ban_status, key_stage_for_year
from policies import KeyStage as KS
from policies.ladder import BanLadder
from tests.policies.helpers import MONDAY, ban, default_policy


def test_default_ladder_has_four_levels_as_documented() -> None:
    ladder = default_policy().ladder
    assert [level.effect for level in ladder.levels] == [
        BanEffect.RESTRICT,
        BanEffect.RESTRICT,
        BanEffect.REMOVE,
        BanEffect.REMOVE,
    ]
    assert [bool(level.approvers) for level in ladder.levels] == [False, False, True, True]
    assert Role.TEACHER in ladder.level(3).issuers
    assert Role.TEACHER not in ladder.level(4).issuers
    assert ladder.level(4).notify_parents
    assert ladder.repeat_window == timedelta(days=28)


def test_level_outside_the_ladder_names_the_valid_levels() -> None:
    with pytest.raises(ValueError, match=r"levels 1\.\.4"):
        default_policy().ladder.level(5)
    with pytest.raises(ValueError, match="no ban level 0"):
        default_policy().ladder.level(0)


def test_levels_must_be_contiguous() -> None:
    levels = default_policy().ladder.levels
    with pytest.raises(ValueError, match=r"1\.\.3 in order"):
        BanLadder(levels=(levels[0], levels[2], levels[3]), repeat_window=timedelta(days=1))


def test_suggest_starts_at_one_and_climbs_within_the_window() -> None:
    ladder = default_policy().ladder
    assert ladder.suggest([], MONDAY) == 1
    earlier = ban(1, starts=MONDAY - timedelta(days=10))
    assert ladder.suggest([earlier], MONDAY) == 2
    second = ban(2, starts=MONDAY - timedelta(days=3), ban_id="ban-2")
    assert ladder.suggest([earlier, second], MONDAY) == 3


def test_suggest_forgets_bans_older_than_the_window() -> None:
    ladder = default_policy().ladder
    old = ban(3, starts=MONDAY - timedelta(days=29))
    assert ladder.suggest([old], MONDAY) == 1


def test_suggest_is_capped_at_the_top_level() -> None:
    ladder = default_policy().ladder
    assert ladder.suggest([ban(4, starts=MONDAY - timedelta(days=1))], MONDAY) == 4


def test_ban_lifted_before_it_started_does_not_escalate() -> None:
    mistaken = ban(2, starts=MONDAY - timedelta(days=1), lifted_at=MONDAY - timedelta(days=1))
    assert default_policy().ladder.suggest([mistaken], MONDAY) == 1


def test_status_over_time_for_a_level_without_approval() -> None:
    ladder = default_policy().ladder
    b = ban(1, starts=MONDAY, length=timedelta(days=1))
    assert ban_status(b, ladder, MONDAY - timedelta(seconds=1)) is BanStatus.SCHEDULED
    assert ban_status(b, ladder, MONDAY) is BanStatus.ACTIVE
    assert ban_status(b, ladder, MONDAY + timedelta(hours=23)) is BanStatus.ACTIVE
    assert ban_status(b, ladder, MONDAY + timedelta(days=1)) is BanStatus.ENDED


def test_level_needing_approval_waits_for_it() -> None:
    ladder = default_policy().ladder
    waiting = ban(3)
    assert ban_status(waiting, ladder, MONDAY + timedelta(hours=1)) is BanStatus.AWAITING_APPROVAL
    approved = ban(3, approved=True)
    assert ban_status(approved, ladder, MONDAY + timedelta(hours=1)) is BanStatus.ACTIVE
    assert ban_status(waiting, ladder, MONDAY + timedelta(days=3)) is BanStatus.ENDED


def test_lifted_beats_active() -> None:
    ladder = default_policy().ladder
    b = ban(1, lifted_at=MONDAY + timedelta(hours=2))
    assert ban_status(b, ladder, MONDAY + timedelta(hours=1)) is BanStatus.ACTIVE
    assert ban_status(b, ladder, MONDAY + timedelta(hours=2)) is BanStatus.LIFTED


def test_ban_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        ban(1, length=timedelta(0))


@pytest.mark.parametrize(
    ("year", "stage"),
    [
        (0, KS.EYFS),
        (1, KS.KS1),
        (2, KS.KS1),
        (3, KS.KS2),
        (6, KS.KS2),
        (7, KS.KS3),
        (9, KS.KS3),
        (10, KS.KS4),
        (11, KS.KS4),
        (12, KS.KS5),
        (13, KS.KS5),
    ],
)
def test_key_stage_for_year(year: int, stage: KS) -> None:
    assert key_stage_for_year(year) is stage


def test_key_stage_refuses_years_outside_school() -> None:
    with pytest.raises(ValueError, match="year group 14"):
        key_stage_for_year(14)
