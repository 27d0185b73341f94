"""The ban ladder: graded misuse levels, who may issue and approve each, and escalation.

Loaded from the policy file (`files`); `bans.ban_status` asks it whether a ban needs approval,
`decide` asks it what a ban does to the iPad, and the API asks `suggest` which level to offer a
teacher for a new incident (the service suggests, staff decide: R50, R51).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from policies.profiles import RestrictionProfile
from policies.roles import Role

if TYPE_CHECKING:
    from policies.bans import Ban


class BanEffect(StrEnum):
    RESTRICT = "restrict"  # named apps, Safari or the internet removed by a ban profile
    REMOVE = "remove"  # no use at all: the iPad is locked


@dataclass(frozen=True, kw_only=True, slots=True)
class BanLevel:
    level: int
    name: str
    effect: BanEffect
    default_duration: timedelta
    max_duration: timedelta
    issuers: frozenset[Role]
    approvers: frozenset[Role]  # empty: no second person needed
    notify_parents: bool
    description: str
    profile: RestrictionProfile | None  # what a RESTRICT ban applies; None for REMOVE

    def __post_init__(self) -> None:
        where = f"ban level {self.level}"
        if self.level < 1:
            raise ValueError(f"{where}: levels start at 1")
        if self.default_duration <= timedelta(0):
            raise ValueError(f"{where}: the default duration must be positive")
        if self.default_duration > self.max_duration:
            raise ValueError(f"{where}: the default duration is longer than the maximum")
        if not self.issuers:
            raise ValueError(f"{where}: at least one role must be able to issue it")
        if self.effect is BanEffect.RESTRICT and self.profile is None:
            raise ValueError(f"{where}: a restrict ban needs a profile saying what it removes")
        if self.effect is BanEffect.REMOVE and self.profile is not None:
            raise ValueError(f"{where}: a remove ban locks the iPad; it takes no profile")

    @property
    def needs_approval(self) -> bool:
        return bool(self.approvers)


@dataclass(frozen=True, kw_only=True, slots=True)
class BanLadder:
    levels: tuple[BanLevel, ...]  # 1..n, contiguous, in order
    repeat_window: timedelta  # a ban within this long of an earlier one suggests a level up

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("the ban ladder needs at least one level")
        numbers = [level.level for level in self.levels]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"ban levels must be 1..{len(numbers)} in order, got {numbers}")
        if self.repeat_window < timedelta(0):
            raise ValueError("the repeat window must not be negative")

    @property
    def top(self) -> int:
        return len(self.levels)

    def level(self, n: int) -> BanLevel:
        if not 1 <= n <= self.top:
            raise ValueError(f"there is no ban level {n}; the ladder has levels 1..{self.top}")
        return self.levels[n - 1]

    def effective_level(self, n: int) -> BanLevel:
        """The level a recorded ban is enforced at: one above the top of an edited ladder is
        treated as the top (a ban never silently stops applying because the ladder shrank)."""
        return self.level(min(n, self.top))

    def suggest(self, history: Sequence[Ban], now: datetime) -> int:
        """Level to offer for a new incident: one above the highest ban this pupil had issued
        within the repeat window before `now`, capped at the top; level 1 otherwise.

        A ban lifted before it started (issued in error) does not count.
        """
        since = now - self.repeat_window
        recent = [
            ban.level
            for ban in history
            if since <= ban.issued_at <= now
            and not (ban.lifted_at is not None and ban.lifted_at <= ban.starts_at)
        ]
        if not recent:
            return 1
        return min(max(recent) + 1, self.top)
