"""Who may do what: the one permission matrix (DESIGN.md §6), tested cell by cell.

Every API route names one `Permission`; `api.auth.require` checks the caller's role against
`MATRIX` here and nowhere else. Two finer rules ride on top and are applied by the routes:
a teacher acts only on pupils and iPads in their own classes (`Principal.scoped`), and the ban
ladder names, level by level, which roles may issue and approve (`policies.BanLevel`).

The matrix follows the schools' policies (requirements R69-R75): technicians run the MDM, the
curfew and the filters but decide no sanctions and read no audit trail of others; teachers act
first-line for their own pupils; senior leaders and the DSL approve, release and audit; the
auditor (a governor, an inspector) reads and never acts; the service token drives automation
(a scheduler elsewhere, Prometheus) and can reconcile, never sanction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from policies import Role


class Permission(StrEnum):
    STATUS_READ = "status:read"
    DEVICES_READ = "devices:read"
    POLICY_READ = "policy:read"
    POLICY_CHANGE = "policy:change"
    BANS_READ = "bans:read"
    BAN_ISSUE = "bans:issue"
    BAN_APPROVE = "bans:approve"
    BAN_LIFT = "bans:lift"  # lift early and extend
    DEVICE_LOCK = "devices:lock"  # lock one iPad now for inspection or as an evidence hold
    INSPECTION_RELEASE = "devices:release-inspection"
    EVIDENCE_RELEASE = "devices:release-evidence-hold"
    HOLDS_READ = "holds:read"
    EXEMPTIONS_READ = "exemptions:read"
    EXEMPTION_REQUEST = "exemptions:request"
    EXEMPTION_APPROVE = "exemptions:approve"
    AGREEMENTS_READ = "agreements:read"
    AGREEMENT_RECORD = "agreements:record"
    AUDIT_READ = "audit:read"
    PLAN_READ = "plan:read"
    RECONCILE = "reconcile:run"
    MDM_READ = "mdm:read"
    MDM_ADMIN = "mdm:admin"
    METRICS_READ = "metrics:read"


T, TE, SL, D, A, S = (
    Role.TECHNICIAN,
    Role.TEACHER,
    Role.SENIOR_LEADER,
    Role.DSL,
    Role.AUDITOR,
    Role.SERVICE,
)
STAFF = frozenset({T, TE, SL, D})

MATRIX: dict[Permission, frozenset[Role]] = {
    Permission.STATUS_READ: STAFF | {A, S},
    Permission.DEVICES_READ: STAFF | {A, S},
    Permission.POLICY_READ: STAFF | {A, S},
    Permission.POLICY_CHANGE: frozenset({T}),
    Permission.BANS_READ: STAFF | {A},
    Permission.BAN_ISSUE: frozenset({TE, SL, D}),
    Permission.BAN_APPROVE: frozenset({SL, D}),
    Permission.BAN_LIFT: frozenset({TE, SL, D}),
    Permission.DEVICE_LOCK: STAFF,
    Permission.INSPECTION_RELEASE: STAFF,
    Permission.EVIDENCE_RELEASE: frozenset({SL, D}),
    Permission.HOLDS_READ: STAFF | {A},  # evidence holds are safeguarding records
    Permission.EXEMPTIONS_READ: STAFF | {A},
    Permission.EXEMPTION_REQUEST: frozenset({TE, SL, D}),
    Permission.EXEMPTION_APPROVE: frozenset({T, D}),
    Permission.AGREEMENTS_READ: STAFF | {A},
    Permission.AGREEMENT_RECORD: frozenset({TE, SL, D, T}),
    Permission.AUDIT_READ: frozenset({SL, D, A}),
    Permission.PLAN_READ: frozenset({T, SL, D, A, S}),
    Permission.RECONCILE: frozenset({T, S}),
    Permission.MDM_READ: frozenset({T, SL, A}),
    Permission.MDM_ADMIN: frozenset({T}),
    Permission.METRICS_READ: frozenset({T, S}),
}

# Roles whose reach is limited to their own classes.
CLASS_SCOPED = frozenset({Role.TEACHER})


def allowed(role: Role, permission: Permission) -> bool:
    return role in MATRIX[permission]


@dataclass(frozen=True, kw_only=True, slots=True)
class Principal:
    """The person (or automation) behind a request, as their API token says."""

    user: str
    role: Role
    classes: frozenset[str] = frozenset()
    token_id: int | None = None

    @property
    def scoped(self) -> bool:
        """True when this caller may act only on pupils in `classes`."""
        return self.role in CLASS_SCOPED

    def reaches(self, pupil_classes: frozenset[str] | set[str]) -> bool:
        """Whether this caller may act on a pupil who is in `pupil_classes`."""
        return not self.scoped or bool(self.classes & set(pupil_classes))
