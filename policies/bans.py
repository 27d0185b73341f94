"""Bans: one pupil's sanction on the ladder, time-boxed, and where it stands at an instant.

The API records bans (who, why, when, approval, lifting); `decide` applies the ones in force.
Bans follow the pupil, not the device. `ban_status` is the single place that says whether a
ban is in force, so the API's lists and the reconcile engine agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from policies.ladder import BanLadder


def require_aware(owner: str, **instants: datetime | None) -> None:
    for name, instant in instants.items():
        if instant is not None and (instant.tzinfo is None or instant.utcoffset() is None):
            raise ValueError(f"{owner}.{name} must be timezone-aware")


@dataclass(frozen=True, kw_only=True, slots=True)
class Ban:
    id: str
    pupil_reference: str
    level: int
    reason: str
    category: str
    notes: str = ""
    issued_by: str
    issued_at: datetime
    starts_at: datetime
    ends_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    lift_reason: str | None = None

    def __post_init__(self) -> None:
        require_aware(
            f"Ban {self.id}",
            issued_at=self.issued_at,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            approved_at=self.approved_at,
            lifted_at=self.lifted_at,
        )
        if self.ends_at <= self.starts_at:
            raise ValueError(f"ban {self.id}: it must end after it starts")
        if (self.lifted_at is None) != (self.lifted_by is None):
            raise ValueError(f"ban {self.id}: lifted_at and lifted_by go together")
        if self.approved_at is not None and self.approved_by is None:
            raise ValueError(f"ban {self.id}: approved_at without approved_by")


class BanStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    ENDED = "ended"
    LIFTED = "lifted"


def is_approved(ban: Ban, ladder: BanLadder, now: datetime) -> bool:
    if not ladder.effective_level(ban.level).needs_approval:
        return True
    if ban.approved_by is None:
        return False
    return ban.approved_at is None or ban.approved_at <= now


def ban_status(ban: Ban, ladder: BanLadder, now: datetime) -> BanStatus:
    """Lifted beats everything; a ban past its end has ended; an unapproved ban of a level that
    needs a second person is awaiting approval (even once its start has passed); then
    scheduled before its start and active until its end."""
    if ban.lifted_at is not None and ban.lifted_at <= now:
        return BanStatus.LIFTED
    if now >= ban.ends_at:
        return BanStatus.ENDED
    if not is_approved(ban, ladder, now):
        return BanStatus.AWAITING_APPROVAL
    if now < ban.starts_at:
        return BanStatus.SCHEDULED
    return BanStatus.ACTIVE
