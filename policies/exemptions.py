"""Exemptions: approved, time-boxed relaxations of the curfew or of web filtering.

Staff request them through the API with a reason (R-series: auditable unblocks); `decide` uses
the ones in force. An exemption never relaxes a ban or a device hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from policies.bans import require_aware
from policies.profiles import check_site


class ExemptionKind(StrEnum):
    WEB_ALLOW = "web_allow"  # extra sites for a group, e.g. a class studying the Romans
    CURFEW = "curfew"  # one pupil's iPad stays usable during curfew, e.g. a school trip


@dataclass(frozen=True, kw_only=True, slots=True)
class Exemption:
    id: str
    kind: ExemptionKind
    reason: str
    requested_by: str
    starts_at: datetime
    ends_at: datetime
    approved_by: str | None = None  # not in force until approved
    group: str | None = None  # WEB_ALLOW: the class, year or custom group it relaxes
    pupil_reference: str | None = None  # CURFEW: the pupil it relaxes
    domains: tuple[str, ...] = ()  # WEB_ALLOW: sites added to the allow list

    def __post_init__(self) -> None:
        require_aware(f"Exemption {self.id}", starts_at=self.starts_at, ends_at=self.ends_at)
        if self.ends_at <= self.starts_at:
            raise ValueError(f"exemption {self.id}: it must end after it starts")
        if not self.reason.strip():
            raise ValueError(f"exemption {self.id}: a reason is required")
        if self.kind is ExemptionKind.WEB_ALLOW:
            if not self.group or not self.domains:
                raise ValueError(f"exemption {self.id}: a web allow needs a group and domains")
            for site in self.domains:
                check_site(site)
        elif not self.pupil_reference:
            raise ValueError(f"exemption {self.id}: a curfew exemption names its pupil")

    def in_force(self, now: datetime) -> bool:
        return self.approved_by is not None and self.starts_at <= now < self.ends_at
