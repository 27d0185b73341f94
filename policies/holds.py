"""Device holds: an iPad locked for inspection, or frozen as evidence (locked, never wiped: R57).

Holds belong to the device, not the pupil, and last until someone releases them, so a hold's
lock has no end time. `decide` gives them precedence over bans and the curfew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from policies.bans import require_aware


class HoldKind(StrEnum):
    INSPECTION = "inspection"
    EVIDENCE_HOLD = "evidence_hold"


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceHold:
    id: str
    device_key: str  # DeviceRef.key
    kind: HoldKind
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None = None
    released_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(f"Hold {self.id}", placed_at=self.placed_at, released_at=self.released_at)
        if (self.released_at is None) != (self.released_by is None):
            raise ValueError(f"hold {self.id}: released_at and released_by go together")

    def in_force(self, now: datetime) -> bool:
        return self.placed_at <= now and (self.released_at is None or now < self.released_at)
