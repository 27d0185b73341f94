"""Policy over HTTP: the curfew, restriction profiles and the ban ladder, read and changed.

Staff, auditors and the service read (`POLICY_READ`); technicians change (`POLICY_CHANGE`,
R33/R71). A change builds the whole new policy from its files with the same loader as start-up
(`policies.load_policy_texts`), so every rule the files have holds and a problem is a 422 naming
the field. It is then planned against the stored observations (`compare`): a dry
run answers that plan and changes nothing; a change touching more iPads than the blast-radius
setting needs `confirm_devices` equal to that count (else 409). Applying stores a policy
version and its audit event in one transaction, puts it in force, re-plans the scheduler's edge
jobs and reconciles in the background. Other replicas follow before their next run.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from mdm_bridge.api.auth import require, service_of
from mdm_bridge.api.context import Audit, read, write
from mdm_bridge.api.problems import AUTH_PROBLEMS, CONFLICT
from mdm_bridge.api.types import MAX_ROW_ID
from mdm_bridge.model import ActionKind
from mdm_bridge.permissions import Permission, Principal
from mdm_bridge.reconcile.run import Preview
from mdm_bridge.service import PolicyError, Reconciling, Service, policy_folder_texts
from mdm_bridge.store import policy_versions
from mdm_bridge.store.errors import Conflict, FieldError
from policies import Policy, load_policy_texts
from policies.files import AssignmentFile, LadderFile, ProfileFile
from policies.sections import Section, changes, problem_field, section_of, with_section
from schedules import SourceError

router = APIRouter(prefix="/api/v1/policy", tags=["policy"], responses=AUTH_PROBLEMS)
Reader = Annotated[Principal, Depends(require(Permission.POLICY_READ))]
Changer = Annotated[Principal, Depends(require(Permission.POLICY_CHANGE))]
CHANGE_ANSWERS: dict[int | str, dict[str, Any]] = {**CONFLICT}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CurfewWindow(_Strict):
    start: str = Field(max_length=20, description='24-hour school-local time, e.g. "20:00"')
    end: str = Field(max_length=20, description="Before start: the window ends next morning")
    days: list[str] | None = Field(
        default=None, max_length=14, description="Days the window starts on (mon..sun); all"
    )
    when: list[str] | None = Field(
        default=None, max_length=3, description="Kinds of day: term, holiday, closure; all"
    )


class CurfewRule(_Strict):
    """The shape of schedules/defaults/curfew.yaml."""

    name: str = Field(max_length=100)
    timezone: str = Field(max_length=64)
    windows: list[CurfewWindow] = Field(max_length=50)


class Change(_Strict):
    reason: str = Field(min_length=1, max_length=1000, description="Why (R33: who, when, why)")
    dry_run: bool = Field(default=False, description="Answer the plan and change nothing")
    confirm_devices: int | None = Field(
        default=None,
        ge=0,
        le=10_000_000,
        description="For a change touching more iPads than the blast radius: that count",
    )


class CurfewChange(Change):
    curfew: CurfewRule


class ProfilesChange(Change):
    profiles: dict[str, ProfileFile] = Field(max_length=100)
    assignments: list[AssignmentFile] = Field(max_length=500)


class LadderChange(Change):
    ladder: LadderFile


class PlanOut(BaseModel):
    """What a run now would do differently under the new policy than under the current one."""

    at: datetime
    devices: int = Field(description="iPads whose plan changes")
    locks: int = Field(description="iPads that would lock now")
    unlocks: int = Field(description="iPads that would unlock now")
    profiles_installed: int
    profiles_replaced: int = Field(description="Installed profiles whose content changes")
    profiles_removed: int
    by_kind: dict[str, int] = Field(description="New actions by kind")
    no_longer: int = Field(description="Actions the current policy would send, the new one not")


class _Profiles(BaseModel):
    profiles: dict[str, ProfileFile]
    assignments: list[AssignmentFile]


_SECTION_MODELS: dict[str, type[BaseModel]] = {
    "curfew": CurfewRule,
    "profiles": _Profiles,
    "ladder": LadderFile,
}


def _normal(section: Section, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with every default filled in, so a diff shows only what really changed."""
    try:
        return _SECTION_MODELS[section].model_validate(data).model_dump(mode="json")
    except ValidationError:  # not expected: stored versions were valid when stored
        return data


def _diff(section: Section, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return changes(_normal(section, before), _normal(section, after))


class CurfewOut(BaseModel):
    version: int | None = Field(description="The policy version in force; null: the files")
    curfew: CurfewRule


class ProfilesOut(BaseModel):
    version: int | None
    profiles: dict[str, ProfileFile]
    assignments: list[AssignmentFile]


class LadderOut(BaseModel):
    version: int | None
    ladder: LadderFile


class ChangeOut(BaseModel):
    applied: bool = Field(description="False for a dry run")
    version: int | None = Field(description="The new policy version (null for a dry run)")
    section: Section
    plan: PlanOut
    changes: dict[str, dict[str, Any]] = Field(description="path -> {before, after}")


class VersionOut(BaseModel):
    id: int
    section: str
    reason: str
    changed_by: str
    changed_at: datetime
    changes: dict[str, dict[str, Any]]


class VersionsPage(BaseModel):
    versions: list[VersionOut]
    next_before: int | None = Field(description="Pass as `before` for older versions")


# -- checks and the plan of a change ---------------------------------------------------------
def refuse_odd_text(value: Any, field: str) -> None:
    """Refuse control characters (bar newline and tab) and lone surrogates anywhere in `value`
    (keys too): the database stores no NUL and encodes no half surrogate pair."""
    if isinstance(value, str):
        for char in value:
            code = ord(char)
            if (code < 32 and char not in "\n\t") or code == 0x7F or 0xD800 <= code <= 0xDFFF:
                raise FieldError(field, "must not contain control characters")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            refuse_odd_text(key, f"{field}.{key}" if _plain(key) else field)
            refuse_odd_text(item, f"{field}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_odd_text(item, f"{field}.{index}")


def _plain(text: Any) -> bool:
    return isinstance(text, str) and text.isprintable()


def _action_keys(preview: Preview) -> dict[int, set[tuple[str, str, str]]]:
    return {
        device.record.device_id: {
            (
                action.kind.value,
                action.profile.identifier if action.profile else "",
                action.profile.content_hash if action.profile else "",
            )
            for action in device.plan.actions
        }
        for device in preview.devices
    }


def compare(reconciling: Reconciling, old: Policy, new: Policy, at: datetime) -> PlanOut:
    """Plan every iPad at `at` under both policies, from stored observations; blocking."""
    before = _action_keys(reconciling.preview(at, policy=old))
    after_preview = reconciling.preview(at, policy=new)
    after = _action_keys(after_preview)
    present = {
        d.record.device_id: d.observed.profiles if d.observed else frozenset()
        for d in after_preview.devices
    }
    kinds: Counter[str] = Counter()
    replaced = no_longer = devices = 0
    for device_id, wanted in after.items():
        current = before.get(device_id, set())
        if wanted == current:
            continue
        devices += 1
        no_longer += len(current - wanted)
        for kind, identifier, _hash in wanted - current:
            kinds[kind] += 1
            if kind == ActionKind.INSTALL_PROFILE.value and identifier in present[device_id]:
                replaced += 1
    installs = kinds[ActionKind.INSTALL_PROFILE.value]
    return PlanOut(
        at=at,
        devices=devices,
        locks=kinds[ActionKind.LOCK.value],
        unlocks=kinds[ActionKind.UNLOCK.value],
        profiles_installed=installs - replaced,
        profiles_replaced=replaced,
        profiles_removed=kinds[ActionKind.REMOVE_PROFILE.value],
        by_kind=dict(sorted(kinds.items())),
        no_longer=no_longer,
    )


# -- the policy in force, as files -------------------------------------------------------------
def _policy_files(service: Service, connection: Connection) -> tuple[int | None, dict[str, str]]:
    stored = policy_versions.newest(connection)
    if stored is not None:
        return stored.id, stored.files
    try:
        return None, policy_folder_texts(service.settings)
    except PolicyError as error:  # the service started on these files, so this is rare
        raise Conflict("policy", str(error)) from None


async def _current(request: Request) -> tuple[int | None, dict[str, str]]:
    service = service_of(request)
    return await read(request, lambda connection: _policy_files(service, connection))


@router.get("/curfew", summary="The curfew for home-use iPads")
async def get_curfew(request: Request, caller: Reader) -> CurfewOut:
    version, files = await _current(request)
    return CurfewOut(version=version, curfew=CurfewRule(**section_of(files, "curfew")))


@router.get("/profiles", summary="Restriction profiles and who gets which")
async def get_profiles(request: Request, caller: Reader) -> ProfilesOut:
    version, files = await _current(request)
    return ProfilesOut(version=version, **section_of(files, "profiles"))


@router.get("/ladder", summary="The ban ladder")
async def get_ladder(request: Request, caller: Reader) -> LadderOut:
    version, files = await _current(request)
    return LadderOut(version=version, ladder=LadderFile(**section_of(files, "ladder")))


# -- changing one section ----------------------------------------------------------------------
def _load(files: Mapping[str, str], section: Section) -> Policy:
    try:
        return load_policy_texts(files)
    except SourceError as error:
        first, *others = error.problems
        more = f" (and {len(others)} more: {'; '.join(str(p) for p in others[:5])})"
        raise FieldError(
            problem_field(first, files, section), first.message + (more if others else "")
        ) from None


async def _change(
    request: Request, caller: Principal, section: Section, data: dict[str, Any], body: Change
) -> ChangeOut:
    refuse_odd_text(data, section)
    refuse_odd_text(body.reason, "reason")
    if not body.reason.strip():
        raise FieldError("reason", "say why the policy changes")
    service = service_of(request)
    reconciling = service.reconciling
    assert reconciling is not None
    based_on, files = await _current(request)
    new_files = with_section(files, section, data)
    new_policy = _load(new_files, section)
    old_policy = _load(files, section)
    now = service.clock.now()
    plan = await asyncio.to_thread(compare, reconciling, old_policy, new_policy, now)
    diff = _diff(section, section_of(files, section), section_of(new_files, section))
    if body.dry_run:
        return ChangeOut(applied=False, version=None, section=section, plan=plan, changes=diff)
    limit = service.settings.blast_radius
    if plan.devices > limit and body.confirm_devices != plan.devices:
        raise Conflict(
            "confirm_devices",
            f"this change touches {plan.devices} iPads, more than the limit of {limit}: "
            f"send confirm_devices: {plan.devices} to apply it",
        )

    def store(connection: Connection, trail: Audit) -> int:
        if policy_versions.newest_id(connection) != based_on:
            raise Conflict("policy", "the policy changed meanwhile: read it again and retry")
        version = policy_versions.add_version(
            connection,
            files=new_files,
            section=section,
            reason=body.reason.strip(),
            changed_by=caller.user,
            changed_at=trail.now,
        )
        trail.record(
            "policy.change",
            f"policy:{section} version:{version}",
            reason=body.reason.strip(),
            change={"version": version, "changes": diff, "devices": plan.devices},
        )
        return version

    version = await write(request, caller, store)
    await asyncio.to_thread(reconciling.follow_policy)
    if service.scheduler is not None:
        await service.scheduler.refresh()
    service.spawn(
        reconciling.reconcile(f"policy change: {section} (version {version})"),
        name=f"reconcile after policy version {version}",
    )
    return ChangeOut(applied=True, version=version, section=section, plan=plan, changes=diff)


@router.put(
    "/curfew", summary="Change the curfew (dry_run: see what would change)", responses=CONFLICT
)
async def put_curfew(request: Request, caller: Changer, body: CurfewChange) -> ChangeOut:
    data = body.curfew.model_dump(mode="json", exclude_defaults=True)
    return await _change(request, caller, "curfew", data, body)


@router.put("/profiles", summary="Change restriction profiles and assignments", responses=CONFLICT)
async def put_profiles(request: Request, caller: Changer, body: ProfilesChange) -> ChangeOut:
    data = {
        "profiles": {
            name: profile.model_dump(mode="json", exclude_defaults=True)
            for name, profile in body.profiles.items()
        },
        "assignments": [
            item.model_dump(mode="json", exclude_defaults=True) for item in body.assignments
        ],
    }
    return await _change(request, caller, "profiles", data, body)


@router.put("/ladder", summary="Change the ban ladder", responses=CONFLICT)
async def put_ladder(request: Request, caller: Changer, body: LadderChange) -> ChangeOut:
    data = body.ladder.model_dump(mode="json", exclude_defaults=True)
    return await _change(request, caller, "ladder", data, body)


# -- history -------------------------------------------------------------------------------------
@router.get("/versions", summary="Who changed the policy, when, why and what")
async def list_versions(
    request: Request,
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> VersionsPage:
    service = service_of(request)

    def history(connection: Connection) -> tuple[list[Any], dict[str, str] | None]:
        found = policy_versions.history(connection, limit=limit + 1, before_id=before)
        baseline = None
        if len(found) <= limit:  # the oldest shown is the first: compare it with the files
            try:
                baseline = policy_folder_texts(service.settings)
            except PolicyError:
                baseline = None
        return found, baseline

    found, baseline = await read(request, history)
    shown = found[:limit]
    versions = []
    for index, version in enumerate(shown):
        older = found[index + 1].files if index + 1 < len(found) else baseline
        section: Section = (
            version.section if version.section in ("curfew", "ladder") else "profiles"
        )
        after = section_of(version.files, section)
        before_data = section_of(older, section) if older is not None else {}
        versions.append(
            VersionOut(
                id=version.id,
                section=version.section,
                reason=version.reason,
                changed_by=version.changed_by,
                changed_at=version.changed_at,
                changes=_diff(section, before_data, after),
            )
        )
    following = shown[-1].id if len(found) > limit else None
    return VersionsPage(versions=versions, next_before=following)
