"""Builders for policy tests: the default policy, a device, a pupil, bans and exemptions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

from mdm_bridge.model import DeviceRef
from policies import (
    DEFAULT_POLICY_DIR,
    Ban,
    DeviceFacts,
    DeviceHold,
    Exemption,
    ExemptionKind,
    HoldKind,
    HomeUseAgreement,
    Policy,
    PupilFacts,
    load_policy,
)

# Monday 23 November 2026, in GMT (UTC = London time in winter).
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
EVENING = MONDAY.replace(hour=21)  # in the 20:00-07:00 curfew
AFTERNOON = MONDAY.replace(hour=15)  # outside it
REF = DeviceRef(mdm_instance="jamf-1", vendor_id="42", serial_number="DMPX0001")
PUPIL = PupilFacts(reference="pupil-7", year_group=8, groups=frozenset({"8C", "Chess club"}))


@cache
def default_policy() -> Policy:
    return load_policy(DEFAULT_POLICY_DIR)


def device(*, takes_home: bool = True, supervised: bool = True) -> DeviceFacts:
    return DeviceFacts(ref=REF, supervised=supervised, takes_home=takes_home)


def agreement(
    pupil: str = PUPIL.reference,
    year: str = "2026-27",
    meeting: date | None = date(2026, 9, 10),
    signed: date | None = date(2026, 9, 12),
) -> HomeUseAgreement:
    return HomeUseAgreement(
        pupil_reference=pupil,
        academic_year=year,
        parent_meeting_on=meeting,
        declaration_signed_on=signed,
    )


def ban(
    level: int = 1,
    *,
    starts: datetime = MONDAY,
    length: timedelta = timedelta(days=2),
    pupil: str = PUPIL.reference,
    approved: bool = False,
    lifted_at: datetime | None = None,
    ban_id: str = "ban-1",
) -> Ban:
    return Ban(
        id=ban_id,
        pupil_reference=pupil,
        level=level,
        reason="social media in lessons",
        category="non-educational sites",
        issued_by="teacher-1",
        issued_at=starts,
        starts_at=starts,
        ends_at=starts + length,
        approved_by="head-1" if approved else None,
        approved_at=starts if approved else None,
        lifted_by="head-1" if lifted_at else None,
        lifted_at=lifted_at,
    )


def curfew_exemption(
    *,
    starts: datetime = MONDAY,
    length: timedelta = timedelta(days=1),
    pupil: str = PUPIL.reference,
    approved: bool = True,
) -> Exemption:
    return Exemption(
        id="ex-curfew",
        kind=ExemptionKind.CURFEW,
        reason="residential trip",
        requested_by="teacher-1",
        starts_at=starts,
        ends_at=starts + length,
        approved_by="head-1" if approved else None,
        pupil_reference=pupil,
    )


def web_exemption(
    *,
    group: str = "8C",
    starts: datetime = MONDAY,
    length: timedelta = timedelta(days=7),
    approved: bool = True,
    domains: tuple[str, ...] = ("www.romans-topic.example",),
) -> Exemption:
    return Exemption(
        id="ex-web",
        kind=ExemptionKind.WEB_ALLOW,
        reason="Romans topic",
        requested_by="teacher-1",
        starts_at=starts,
        ends_at=starts + length,
        approved_by="head-1" if approved else None,
        group=group,
        domains=domains,
    )


def hold(kind: HoldKind = HoldKind.EVIDENCE_HOLD, *, placed: datetime = MONDAY) -> DeviceHold:
    return DeviceHold(
        id=f"hold-{kind.value}",
        device_key=REF.key,
        kind=kind,
        reason="incident 12",
        placed_by="dsl-1",
        placed_at=placed,
    )
