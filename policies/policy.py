"""A school's policy as one value: curfew, restriction profiles and who gets which, the ladder,
and the messages a locked iPad shows. Built by `files.load_policy`; read by `decide`.

Which restriction profile applies to a pupil: the most specific assignment wins, in the order
group > year group > key stage > everyone; among several matching groups, the one listed first
in the policy file wins. A ban's profile is added on top, never instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from policies.curfew import CurfewSchedule
from policies.facts import PupilFacts
from policies.ladder import BanLadder
from policies.profiles import RestrictionProfile
from policies.roles import KeyStage, key_stage_for_year


@dataclass(frozen=True, kw_only=True, slots=True)
class Assignment:
    """`profile` for pupils in `group`, or `year_group`, or `key_stage`; none set = everyone."""

    profile: str
    key_stage: KeyStage | None = None
    year_group: int | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        chosen = [x for x in (self.key_stage, self.year_group, self.group) if x is not None]
        if len(chosen) > 1:
            raise ValueError(
                f"assignment of {self.profile!r}: name one of group, year_group, key_stage"
            )

    @property
    def specificity(self) -> int:
        """3 group, 2 year group, 1 key stage, 0 everyone."""
        if self.group is not None:
            return 3
        if self.year_group is not None:
            return 2
        return 1 if self.key_stage is not None else 0

    def applies_to(self, pupil: PupilFacts | None) -> bool:
        if self.specificity == 0:
            return True
        if pupil is None:
            return False
        if self.group is not None:
            return self.group in pupil.groups
        if pupil.year_group is None:
            return False
        if self.year_group is not None:
            return self.year_group == pupil.year_group
        return key_stage_for_year(pupil.year_group) == self.key_stage


@dataclass(frozen=True, kw_only=True, slots=True)
class Policy:
    schedule: CurfewSchedule
    profiles: Mapping[str, RestrictionProfile]
    assignments: tuple[Assignment, ...]
    ladder: BanLadder
    identifier_prefix: str = "org.mdmbridge"
    curfew_message: str
    ban_message: str
    hold_message: str
    inspection_message: str
    academic_year_starts_month: int = 9
    # The app a lock profile confines the iPad to, for MDMs without Lost Mode (Jamf School).
    lock_app: str = "com.apple.mobiletimer"

    def __post_init__(self) -> None:
        for assignment in self.assignments:
            if assignment.profile not in self.profiles:
                known = ", ".join(sorted(self.profiles)) or "none"
                raise ValueError(
                    f"assignment names unknown profile {assignment.profile!r} (known: {known})"
                )
        for name, profile in self.profiles.items():
            if name != profile.name:
                raise ValueError(f"profile listed as {name!r} is named {profile.name!r}")
        if not 1 <= self.academic_year_starts_month <= 12:
            raise ValueError("academic_year_starts_month must be 1..12")

    def profile_for(self, pupil: PupilFacts | None) -> RestrictionProfile | None:
        """The most specific matching assignment's profile (first listed on a tie), or None."""
        best: Assignment | None = None
        for assignment in self.assignments:
            if assignment.applies_to(pupil) and (
                best is None or assignment.specificity > best.specificity
            ):
                best = assignment
        return self.profiles[best.profile] if best is not None else None

    def restriction_identifier(self, profile: RestrictionProfile) -> str:
        return f"{self.identifier_prefix}.restrictions.{profile.name}"

    def ban_identifier(self, level: int) -> str:
        return f"{self.identifier_prefix}.ban.level{level}"
