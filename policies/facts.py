"""What `desired_state` is told about one iPad and the pupil it belongs to.

The store builds these from its tables; `decide` reads them. Pupils are pseudonymous: the
reference is all the policy needs, plus the year and the groups that assignments and
exemptions name.
"""

from __future__ import annotations

from dataclasses import dataclass

from mdm_bridge.model import DeviceRef


@dataclass(frozen=True, kw_only=True, slots=True)
class PupilFacts:
    reference: str
    year_group: int | None = None
    groups: frozenset[str] = frozenset()  # class and custom group names, e.g. "7B", "Chess club"

    def __post_init__(self) -> None:
        if not self.reference:
            raise ValueError("a pupil needs a reference")


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceFacts:
    ref: DeviceRef
    supervised: bool
    takes_home: bool  # a 1:1 iPad the school lets go home; False for class sets kept in school
