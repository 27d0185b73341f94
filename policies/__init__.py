"""WHAT should be true of a pupil's iPad (DESIGN.md §2): restriction profiles, the ban ladder,
bans, exemptions, home-use agreements and device holds, composed by `desired_state` into a
`DesiredState`. Pure: time is passed in, and the only I/O is reading the policy files.
"""

from policies.agreements import HomeUseAgreement, academic_year_of
from policies.bans import Ban, BanStatus, ban_status
from policies.curfew import CurfewSchedule
from policies.decide import CurfewVerdict, Decision, desired_state, lock_profile
from policies.exemptions import Exemption, ExemptionKind
from policies.facts import DeviceFacts, PupilFacts
from policies.files import (
    DEFAULT_POLICY_DIR,
    load_policy,
    load_policy_texts,
    policy_texts,
    validate_policy_files,
)
from policies.holds import DeviceHold, HoldKind
from policies.ladder import BanEffect, BanLadder, BanLevel
from policies.policy import Assignment, Policy
from policies.profiles import FilterMode, RestrictionProfile, WebFilter
from policies.roles import KeyStage, Role, key_stage_for_year

__all__ = [
    "DEFAULT_POLICY_DIR",
    "Assignment",
    "Ban",
    "BanEffect",
    "BanLadder",
    "BanLevel",
    "BanStatus",
    "CurfewSchedule",
    "CurfewVerdict",
    "Decision",
    "DeviceFacts",
    "DeviceHold",
    "Exemption",
    "ExemptionKind",
    "FilterMode",
    "HoldKind",
    "HomeUseAgreement",
    "KeyStage",
    "Policy",
    "PupilFacts",
    "RestrictionProfile",
    "Role",
    "WebFilter",
    "academic_year_of",
    "ban_status",
    "desired_state",
    "key_stage_for_year",
    "load_policy",
    "load_policy_texts",
    "lock_profile",
    "policy_texts",
    "validate_policy_files",
]
