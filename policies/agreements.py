"""Home-use agreements: a pupil may take an iPad home only once, for this academic year, a
parent attended the responsible-use meeting AND signed the home-use declaration (R15, R43).

The store records the two dates; `decide` asks `is_complete` for the academic year of `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def academic_year_of(day: date, starts_month: int = 9) -> str:
    """The academic year containing `day`, e.g. 2026-11-23 -> "2026-27" (starting in September)."""
    if not 1 <= starts_month <= 12:
        raise ValueError(f"starts_month must be 1..12, got {starts_month}")
    first = day.year if day.month >= starts_month else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


@dataclass(frozen=True, kw_only=True, slots=True)
class HomeUseAgreement:
    pupil_reference: str
    academic_year: str  # "2026-27"
    parent_meeting_on: date | None = None
    declaration_signed_on: date | None = None

    def is_complete(self, pupil_reference: str, academic_year: str, today: date) -> bool:
        """Both parts done (on or before `today`) for this pupil and this academic year."""
        return (
            self.pupil_reference == pupil_reference
            and self.academic_year == academic_year
            and self.parent_meeting_on is not None
            and self.parent_meeting_on <= today
            and self.declaration_signed_on is not None
            and self.declaration_signed_on <= today
        )
