"""Who does what, and which age band a pupil is in: the vocabulary the rest of `policies` uses.

The ladder names roles as issuers and approvers of bans; assignments name key stages. Both come
from the policy file as text and are checked against these enumerations when it is loaded.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    TECHNICIAN = "technician"
    TEACHER = "teacher"
    SENIOR_LEADER = "senior_leader"
    DSL = "dsl"
    AUDITOR = "auditor"
    SERVICE = "service"


class KeyStage(StrEnum):
    """England's key stages; reception (year 0) belongs to the early years stage."""

    EYFS = "eyfs"
    KS1 = "ks1"
    KS2 = "ks2"
    KS3 = "ks3"
    KS4 = "ks4"
    KS5 = "ks5"


# Last year group of each stage, in order.
_STAGE_ENDS = (
    (0, KeyStage.EYFS),
    (2, KeyStage.KS1),
    (6, KeyStage.KS2),
    (9, KeyStage.KS3),
    (11, KeyStage.KS4),
    (13, KeyStage.KS5),
)


def key_stage_for_year(year_group: int) -> KeyStage:
    """Reception (0) is EYFS, 1-2 KS1, 3-6 KS2, 7-9 KS3, 10-11 KS4, 12-13 KS5."""
    if year_group < 0 or year_group > 13:
        raise ValueError(f"year group {year_group} is outside reception (0) to year 13")
    for last, stage in _STAGE_ENDS:
        if year_group <= last:
            return stage
    raise AssertionError("unreachable: the table covers 0-13")
