"""`desired_state`: what one iPad should be now, and when that answer next changes.

Called by the reconcile engine for every device on every run (and by `mdm-bridge plan`); pure:
time is passed in, and the same input always gives an equal `Decision`. It composes the other
modules of `policies` and asks `curfew` about the school's curfew.

Precedence, strongest first:
1. An evidence hold on the device locks it (message: the hold message, no end time).
2. An inspection hold locks it likewise.
3. An active ban of a REMOVE level locks it until the latest such ban ends.
4. The curfew locks a home-use iPad from the start to the end of the curfew period, unless an
   approved curfew exemption for its pupil covers `now`.
Exemptions relax only the curfew (4) and web filtering; never a ban or a hold.

Home use needs all three: the school lets the iPad go home (`takes_home`), it has a pupil, and
that pupil's home-use agreement for the academic year of `now` (school-local date) has both the
parent meeting and the signed declaration. A school-only iPad is never curfew-locked.

Profiles: the pupil's restriction profile (most specific assignment, see `policy`) with the
sites of every web allow-list exemption in force for one of the pupil's groups added to its
filter; plus one ban profile per RESTRICT level with an active ban, removed by the iPad itself
at the latest end of that level's bans. Bans and exemptions of other pupils, and those not in
force (awaiting approval, lifted, ended, not yet started), are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from mdm_bridge.model import (
    DesiredState,
    LockCause,
    LockIntent,
    ProfileDocument,
)
from policies.agreements import HomeUseAgreement, academic_year_of
from policies.bans import Ban, BanStatus, ban_status, is_approved
from policies.exemptions import Exemption, ExemptionKind
from policies.facts import DeviceFacts, PupilFacts
from policies.holds import DeviceHold, HoldKind
from policies.ladder import BanEffect
from policies.payload_keys import APP_LOCK, check_payload
from policies.policy import Policy
from policies.profiles import RestrictionProfile, payload_uuid
from schedules import Interval


class CurfewVerdict(StrEnum):
    NOT_HOME_USE = "not_home_use"  # school-only iPad, no pupil, or agreement incomplete
    EXEMPT = "exempt"  # in a curfew period, but an approved curfew exemption covers now
    IN_CURFEW = "in_curfew"
    OUT_OF_CURFEW = "out_of_curfew"


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    desired: DesiredState
    documents: Mapping[str, ProfileDocument]  # identifier -> content, one per desired profile
    home_use: bool
    curfew: CurfewVerdict
    reasons: tuple[str, ...]


def _utc(name: str, instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {instant.isoformat()}")
    return instant.astimezone(UTC)


class _Edges:
    """Future instants at which the decision could change; the earliest is `next_change_at`."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._future: list[datetime] = []

    def add(self, *instants: datetime | None) -> None:
        self._future += [at for at in instants if at is not None and at > self._now]

    def earliest(self) -> datetime | None:
        return min(self._future, default=None)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Instant:
    """What `desired_state` derives from the policy and `now` alone: the same for every device
    of a run, so it is worked out once per (policy, now), not once per device."""

    policy: Policy
    now: datetime
    zone: ZoneInfo
    today: date
    academic_year: str
    next_year_starts: datetime
    period: Interval | None
    next_edge: datetime | None
    curfew_until: str  # the period's end, school-local, for the reason ("" outside curfew)
    curfew_lock: LockIntent | None  # the same lock for every iPad the curfew locks now


# The last few instants and rendered profiles, reused while the same policy object (compared by
# identity, kept alive by the entry) is asked about the same `now`: a run asks 100,000 times.
_INSTANTS: list[_Instant] = []
_DOCUMENTS: dict[tuple[object, ...], tuple[RestrictionProfile, ProfileDocument]] = {}
_DOCUMENTS_KEPT = 4096
_PROFILES: dict[tuple[object, ...], tuple[Policy, RestrictionProfile | None]] = {}


def _instant(policy: Policy, now: datetime) -> _Instant:
    for known in _INSTANTS:
        if known.policy is policy and known.now == now:
            return known
    today = policy.schedule.local_day(now)
    next_year = today.year if today.month < policy.academic_year_starts_month else today.year + 1
    first_day = today.replace(year=next_year, month=policy.academic_year_starts_month, day=1)
    zone = ZoneInfo(policy.schedule.zone)
    period = policy.schedule.period_at(now)
    found = _Instant(
        policy=policy,
        now=now,
        zone=zone,
        today=today,
        academic_year=academic_year_of(today, policy.academic_year_starts_month),
        next_year_starts=policy.schedule.start_of_local_day(first_day),
        period=period,
        next_edge=policy.schedule.next_edge(now),
        curfew_until=f"{period.end.astimezone(zone):%Y-%m-%d %H:%M}" if period else "",
        curfew_lock=(
            LockIntent(cause=LockCause.CURFEW, message=policy.curfew_message, until=period.end)
            if period
            else None
        ),
    )
    _INSTANTS[:] = [found, *_INSTANTS[:3]]
    return found


def _profile_for(policy: Policy, pupil: PupilFacts | None) -> RestrictionProfile | None:
    """`policy.profile_for(pupil)`, which depends only on the pupil's year group and groups."""
    if pupil is None:
        return policy.profile_for(None)
    key = (id(policy), pupil.year_group, pupil.groups)
    known = _PROFILES.get(key)
    if known is not None and known[0] is policy:
        return known[1]
    profile = policy.profile_for(pupil)
    if len(_PROFILES) >= _DOCUMENTS_KEPT:
        _PROFILES.clear()
    _PROFILES[key] = (policy, profile)
    return profile


def _document(
    profile: RestrictionProfile,
    *,
    identifier_prefix: str,
    identifier: str | None = None,
    extra_allowed_domains: tuple[str, ...] = (),
) -> ProfileDocument:
    """`profile.document(...)`, rendered (payloads checked, content hashed) once per content."""
    key = (id(profile), identifier_prefix, identifier, extra_allowed_domains)
    known = _DOCUMENTS.get(key)
    if known is not None and known[0] is profile:
        return known[1]
    document = profile.document(
        identifier_prefix=identifier_prefix,
        identifier=identifier,
        extra_allowed_domains=extra_allowed_domains,
    )
    if len(_DOCUMENTS) >= _DOCUMENTS_KEPT:
        _DOCUMENTS.clear()
    _DOCUMENTS[key] = (profile, document)
    return document


def desired_state(
    *,
    device: DeviceFacts,
    pupil: PupilFacts | None,
    policy: Policy,
    bans: Sequence[Ban],
    exemptions: Sequence[Exemption],
    agreements: Sequence[HomeUseAgreement],
    holds: Sequence[DeviceHold],
    now: datetime,
) -> Decision:
    now = _utc("now", now)
    instant = _instant(policy, now)
    zone = instant.zone
    edges = _Edges(now)
    reasons: list[str] = []

    def local(instant: datetime) -> str:
        return f"{instant.astimezone(zone):%Y-%m-%d %H:%M}"

    # Holds: the device's, in force now. A hold has no end of its own (lock.until is None).
    for device_hold in holds:
        if device_hold.device_key == device.ref.key:
            edges.add(device_hold.placed_at, device_hold.released_at)
    in_force_holds = (
        sorted(
            (h for h in holds if h.device_key == device.ref.key and h.in_force(now)),
            key=lambda h: (h.placed_at, h.id),
        )
        if holds
        else []
    )
    evidence = [h for h in in_force_holds if h.kind is HoldKind.EVIDENCE_HOLD]
    inspection = [h for h in in_force_holds if h.kind is HoldKind.INSPECTION]
    for hold in in_force_holds:
        reasons.append(f"{hold.kind.value.replace('_', ' ')} since {local(hold.placed_at)}")

    # Bans: this pupil's, approved; the active ones apply, the rest only give edges.
    ladder = policy.ladder
    pupil_bans = (
        sorted(
            (b for b in bans if b.pupil_reference == pupil.reference),
            key=lambda b: (b.starts_at, b.id, b.ends_at, b.level),
        )
        if bans and pupil is not None
        else []
    )
    active: list[Ban] = []
    for ban in pupil_bans:
        status = ban_status(ban, ladder, now)
        if status is BanStatus.ACTIVE:
            active.append(ban)
        if status in (BanStatus.LIFTED, BanStatus.ENDED):
            continue
        # An approval or lifting recorded ahead of time is an edge too; an approval not yet
        # given is an event, which the API answers by reconciling at once.
        if ban.approved_by is not None or is_approved(ban, ladder, now):
            edges.add(ban.starts_at, ban.ends_at, ban.approved_at)
        edges.add(ban.lifted_at)
    remove_bans = [b for b in active if ladder.effective_level(b.level).effect is BanEffect.REMOVE]
    restrict_bans = [b for b in active if b not in remove_bans]
    for ban in active:
        reasons.append(f"ban level {ban.level} until {local(ban.ends_at)}")

    # Home use and the curfew.
    today = instant.today
    academic_year = instant.academic_year
    home_use = (
        device.takes_home
        and pupil is not None
        and any(a.is_complete(pupil.reference, academic_year, today) for a in agreements)
    )
    if device.takes_home and pupil is not None:
        # A new academic year needs a new agreement: the answer may change at its start.
        edges.add(instant.next_year_starts)
    curfew_exemptions = [
        e
        for e in exemptions
        if e.kind is ExemptionKind.CURFEW
        and pupil is not None
        and e.pupil_reference == pupil.reference
        and e.approved_by is not None
    ]
    verdict = CurfewVerdict.NOT_HOME_USE
    period = None
    if home_use:
        edges.add(instant.next_edge)
        for exemption in curfew_exemptions:
            edges.add(exemption.starts_at, exemption.ends_at)
        period = instant.period
        if period is None:
            verdict = CurfewVerdict.OUT_OF_CURFEW
        elif any(e.in_force(now) for e in curfew_exemptions):
            verdict = CurfewVerdict.EXEMPT
            reasons.append("curfew exemption in force")
        else:
            verdict = CurfewVerdict.IN_CURFEW
            reasons.append(f"curfew until {instant.curfew_until}")
    elif device.takes_home:
        reasons.append("not home use: no complete home-use agreement for " + academic_year)

    # The lock, by precedence.
    lock: LockIntent | None = None
    if evidence:
        lock = LockIntent(cause=LockCause.EVIDENCE_HOLD, message=policy.hold_message)
    elif inspection:
        lock = LockIntent(cause=LockCause.INSPECTION, message=policy.inspection_message)
    elif remove_bans:
        until = max(b.ends_at for b in remove_bans)
        lock = LockIntent(cause=LockCause.BAN, message=policy.ban_message, until=until)
    elif verdict is CurfewVerdict.IN_CURFEW and period is not None:
        lock = instant.curfew_lock

    # Profiles: the pupil's restrictions (widened by web exemptions), plus ban profiles.
    documents: list[ProfileDocument] = []
    profile = _profile_for(policy, pupil)
    if profile is not None:
        web_exemptions = (
            sorted(
                (
                    e
                    for e in exemptions
                    if e.kind is ExemptionKind.WEB_ALLOW
                    and pupil is not None
                    and e.group in pupil.groups
                    and e.approved_by is not None
                ),
                key=lambda e: (e.starts_at, e.id, e.ends_at, e.group or "", e.domains),
            )
            if exemptions
            else []
        )
        extra: list[str] = []
        for exemption in web_exemptions:
            edges.add(exemption.starts_at, exemption.ends_at)
            if exemption.in_force(now):
                extra += exemption.domains
                reasons.append(
                    f"web allow-list exemption for {exemption.group} ({exemption.reason})"
                )
        documents.append(
            _document(
                profile,
                identifier_prefix=policy.identifier_prefix,
                extra_allowed_domains=tuple(dict.fromkeys(extra)),
            )
        )
        if not device.supervised and profile.supervised_keys():
            reasons.append(
                f"iPad not supervised: {profile.name} keys it ignores: "
                + ", ".join(profile.supervised_keys())
            )
    for level_number in sorted({ladder.effective_level(b.level).level for b in restrict_bans}):
        level = ladder.level(level_number)
        assert level.profile is not None  # a RESTRICT level always has one (BanLevel checks)
        # No RemovalDate: one ban profile per level is shared (by group) by every pupil banned
        # at that level, each with their own end, and an MDM holds one content per profile.
        # The bridge ends each pupil's ban by taking their iPad out of the group at its end.
        documents.append(
            _document(
                level.profile,
                identifier_prefix=policy.identifier_prefix,
                identifier=policy.ban_identifier(level_number),
            )
        )

    desired = DesiredState(
        ref=device.ref,
        lock=lock,
        profiles=frozenset(document.ref for document in documents),
        next_change_at=edges.earliest(),
    )
    return Decision(
        desired=desired,
        documents=MappingProxyType({d.identifier: d for d in documents}),
        home_use=home_use,
        curfew=verdict,
        reasons=tuple(reasons),
    )


def lock_profile(policy: Policy, intent: LockIntent) -> ProfileDocument:
    """For MDMs without Lost Mode (Jamf School): a single-app-mode profile confining the iPad
    to `policy.lock_app`, which the iPad drops by itself at `intent.until` when that is known.
    The lock message rides in the profile description."""
    identifier = f"{policy.identifier_prefix}.lock.{intent.cause.value}"
    payload_identifier = f"{identifier}.applock"
    payload = {
        "PayloadType": APP_LOCK,
        "PayloadIdentifier": payload_identifier,
        "PayloadUUID": payload_uuid(payload_identifier),
        "PayloadVersion": 1,
        "PayloadDisplayName": "iPad locked",
        "App": {"Identifier": policy.lock_app},
    }
    check_payload(APP_LOCK, payload)
    return ProfileDocument(
        identifier=identifier,
        display_name="iPad locked",
        payloads=(payload,),
        removal_date=intent.until,
        description=intent.message,
    )
