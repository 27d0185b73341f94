"""Policy files: `policy.yaml` (plus the curfew file and term calendar it names) -> `Policy`.

Called by the service at start-up (from a folder, or from the texts of a stored policy version
with `load_policy_texts`) and by `mdm-bridge policy validate`; calls `schedules.source`
so every problem names file and line, and `schedules` for the curfew rule and term calendar.
The file's shape is checked by pydantic models (unknown fields refused); then every cross-field
rule (unknown profile in an assignment, ladder levels 1..n, durations, payload keys and their
types) is checked and reported with the line it concerns. Nothing half-loaded is ever returned:
one problem anywhere means a SourceError listing them all. `defaults/policy.yaml` documents the
format for schools.
"""

from __future__ import annotations

import errno
import pathlib
from collections.abc import Callable, Mapping
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from policies.curfew import CurfewSchedule
from policies.durations import parse_duration
from policies.ladder import BanEffect, BanLadder, BanLevel
from policies.payload_keys import APPLICATION_ACCESS, PAYLOAD_KEYS, payload_problems
from policies.policy import Assignment, Policy
from policies.profiles import FilterMode, RestrictionProfile, WebFilter, check_site
from policies.roles import KeyStage, Role
from schedules import (
    CurfewRule,
    Located,
    Problem,
    SourceError,
    TermCalendar,
    default_curfew_rule,
    load_yaml,
    parse_curfew_rule,
    parse_term_calendar,
    validate,
)

DEFAULT_POLICY_DIR = pathlib.Path(__file__).resolve().parent / "defaults"
POLICY_FILE = "policy.yaml"

Path = tuple[str | int, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebFilterFile(_Strict):
    mode: FilterMode
    allowed_sites: list[str] = []
    denied_sites: list[str] = []


class ProfileFile(_Strict):
    display_name: str
    description: str = ""
    safari: bool = True
    allowed_apps: list[str] = []
    blocked_apps: list[str] = []
    web_filter: WebFilterFile | None = None
    restrictions: dict[str, bool | int | str] = {}
    supervised: bool = True


class AssignmentFile(_Strict):
    profile: str
    key_stage: KeyStage | None = None
    year_group: int | None = Field(default=None, ge=0, le=13)
    group: str | None = None


class LevelFile(_Strict):
    level: int
    name: str
    effect: BanEffect
    default_duration: str
    max_duration: str
    issuers: list[Role] = Field(min_length=1)
    approvers: list[Role] = []
    notify_parents: bool = False
    description: str = ""
    profile: ProfileFile | None = None


class LadderFile(_Strict):
    repeat_window: str
    levels: list[LevelFile] = Field(min_length=1)


class MessagesFile(_Strict):
    curfew: str = Field(min_length=1)
    ban: str = Field(min_length=1)
    hold: str = Field(min_length=1)
    inspection: str = Field(min_length=1)


class PolicyFile(_Strict):
    schedule: str = "default"
    term_calendar: str | None = None
    identifier_prefix: str = Field(
        default="org.mdmbridge", pattern=r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
    )
    academic_year_starts_month: int = Field(default=9, ge=1, le=12)
    lock_app: str = "com.apple.mobiletimer"
    messages: MessagesFile
    profiles: dict[str, ProfileFile] = Field(min_length=1)
    assignments: list[AssignmentFile] = []
    ban_ladder: LadderFile


class _Problems:
    """Problems found in one located file, each naming its line."""

    def __init__(self, located: Located) -> None:
        self.located = located
        self.found: list[Problem] = []

    def add(self, path: Path, message: str) -> None:
        self.found.append(self.located.problem(path, message))


def _duration(text: str, path: Path, problems: _Problems) -> timedelta | None:
    try:
        return parse_duration(text)
    except ValueError as error:
        problems.add(path, str(error))
        return None


def _profile(
    name: str, spec: ProfileFile, path: Path, problems: _Problems
) -> RestrictionProfile | None:
    before = len(problems.found)
    for key, value in spec.restrictions.items():
        if key not in PAYLOAD_KEYS[APPLICATION_ACCESS]:
            problems.add(
                (*path, "restrictions", key),
                f"{key!r} is not a restriction key the bridge knows (see policies/payload_keys.py)",
            )
            continue
        for message in payload_problems(APPLICATION_ACCESS, {key: value}):
            problems.add((*path, "restrictions", key), message)
    if spec.web_filter is not None:
        for field in ("allowed_sites", "denied_sites"):
            for index, site in enumerate(getattr(spec.web_filter, field)):
                try:
                    check_site(site)
                except ValueError as error:
                    problems.add((*path, "web_filter", field, index), str(error))
    if len(problems.found) > before:
        return None
    try:
        web_filter = None
        if spec.web_filter is not None:
            web_filter = WebFilter(
                mode=spec.web_filter.mode,
                allowed_sites=tuple(spec.web_filter.allowed_sites),
                denied_sites=tuple(spec.web_filter.denied_sites),
            )
        return RestrictionProfile(
            name=name,
            display_name=spec.display_name,
            description=spec.description,
            safari=spec.safari,
            allowed_apps=tuple(spec.allowed_apps),
            blocked_apps=tuple(spec.blocked_apps),
            web_filter=web_filter,
            restrictions=dict(spec.restrictions),
            supervised=spec.supervised,
        )
    except ValueError as error:
        problems.add(path, str(error))
        return None


def _ladder(spec: LadderFile, problems: _Problems) -> BanLadder | None:
    base: Path = ("ban_ladder",)
    before = len(problems.found)
    window = _duration(spec.repeat_window, (*base, "repeat_window"), problems)
    levels = []
    for index, level in enumerate(spec.levels):
        path: Path = (*base, "levels", index)
        if level.level != index + 1:
            problems.add(
                (*path, "level"),
                f"levels must run 1, 2, 3... in order: expected {index + 1}, got {level.level}",
            )
            continue
        default = _duration(level.default_duration, (*path, "default_duration"), problems)
        longest = _duration(level.max_duration, (*path, "max_duration"), problems)
        profile = None
        if level.profile is not None:
            profile = _profile(
                f"ban-level{level.level}", level.profile, (*path, "profile"), problems
            )
            if profile is None:
                continue
        if default is None or longest is None:
            continue
        if default > longest:
            problems.add(
                (*path, "default_duration"),
                f"the default duration is longer than the maximum ({level.max_duration})",
            )
            continue
        try:
            levels.append(
                BanLevel(
                    level=level.level,
                    name=level.name,
                    effect=level.effect,
                    default_duration=default,
                    max_duration=longest,
                    issuers=frozenset(level.issuers),
                    approvers=frozenset(level.approvers),
                    notify_parents=level.notify_parents,
                    description=level.description,
                    profile=profile,
                )
            )
        except ValueError as error:
            problems.add(path, str(error))
    if len(problems.found) > before or window is None:
        return None
    return BanLadder(levels=tuple(levels), repeat_window=window)


# Reads a file the policy names (relative to policy.yaml): its text, and the name that problems
# in it are reported under. Raises OSError when there is no such file.
FileReader = Callable[[str], tuple[str, str]]


def _folder_reader(directory: pathlib.Path) -> FileReader:
    def read(name: str) -> tuple[str, str]:
        path = directory / name
        return path.read_text(encoding="utf-8"), str(path)

    return read


def _texts_reader(files: Mapping[str, str]) -> FileReader:
    def read(name: str) -> tuple[str, str]:
        if name not in files:
            raise FileNotFoundError(errno.ENOENT, "not among the policy files")
        return files[name], name

    return read


def _read(
    read_file: FileReader, name: str, referenced_from: Located, where: Path
) -> tuple[str, str]:
    try:
        return read_file(name)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SourceError(
            [referenced_from.problem(where, f"cannot read {name}: {reason}")]
        ) from None


def _schedule(spec: PolicyFile, read_file: FileReader, located: Located) -> CurfewSchedule:
    """The curfew rule and term calendar; SourceError (with their own file:line) on problems."""
    rule: CurfewRule
    if spec.schedule == "default":
        rule = default_curfew_rule()
    else:
        text, label = _read(read_file, spec.schedule, located, ("schedule",))
        rule = parse_curfew_rule(text, label)
    calendar = TermCalendar()
    if spec.term_calendar is not None:
        text, label = _read(read_file, spec.term_calendar, located, ("term_calendar",))
        calendar = parse_term_calendar(text, label)
    try:
        return CurfewSchedule(rule=rule, calendar=calendar)
    except ValueError as error:
        raise SourceError([located.problem(("schedule",), str(error))]) from None


def _policy(spec: PolicyFile, located: Located, read_file: FileReader) -> Policy:
    problems = _Problems(located)
    profiles: dict[str, RestrictionProfile] = {}
    for name, profile_spec in spec.profiles.items():
        profile = _profile(name, profile_spec, ("profiles", name), problems)
        if profile is not None:
            profiles[name] = profile
    assignments = []
    for index, item in enumerate(spec.assignments):
        path: Path = ("assignments", index)
        if item.profile not in spec.profiles:
            known = ", ".join(sorted(spec.profiles))
            problems.add((*path, "profile"), f"no profile named {item.profile!r} (known: {known})")
            continue
        try:
            assignments.append(
                Assignment(
                    profile=item.profile,
                    key_stage=item.key_stage,
                    year_group=item.year_group,
                    group=item.group,
                )
            )
        except ValueError as error:
            problems.add(path, str(error))
    ladder = _ladder(spec.ban_ladder, problems)
    schedule: CurfewSchedule | None = None
    try:
        schedule = _schedule(spec, read_file, located)
    except SourceError as error:
        problems.found.extend(error.problems)
    if problems.found or ladder is None or schedule is None:
        raise SourceError(problems.found)
    try:
        return Policy(
            schedule=schedule,
            profiles=profiles,
            assignments=tuple(assignments),
            ladder=ladder,
            identifier_prefix=spec.identifier_prefix,
            curfew_message=spec.messages.curfew,
            ban_message=spec.messages.ban,
            hold_message=spec.messages.hold,
            inspection_message=spec.messages.inspection,
            academic_year_starts_month=spec.academic_year_starts_month,
            lock_app=spec.lock_app,
        )
    except ValueError as error:  # a rule the checks above missed still names the file
        raise SourceError([located.problem((), str(error))]) from None


def load_policy(directory: pathlib.Path) -> Policy:
    """The policy in `directory/policy.yaml`, or a SourceError naming file:line of each problem."""
    path = directory / POLICY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SourceError(
            [Problem(str(path), 1, "", f"cannot read the policy file: {reason}")]
        ) from None
    located = load_yaml(text, str(path))
    spec = validate(PolicyFile, located)
    return _policy(spec, located, _folder_reader(directory))


def load_policy_texts(files: Mapping[str, str]) -> Policy:
    """The policy held in memory as `files` (name relative to the policy folder -> its text, as
    a stored policy version keeps it); a SourceError naming file:line of each problem."""
    if POLICY_FILE not in files:
        raise SourceError([Problem(POLICY_FILE, 1, "", "the policy file is missing")])
    located = load_yaml(files[POLICY_FILE], POLICY_FILE)
    spec = validate(PolicyFile, located)
    return _policy(spec, located, _texts_reader(files))


def policy_texts(directory: pathlib.Path) -> dict[str, str]:
    """The text of `directory/policy.yaml` and of the curfew and calendar files it names (what
    `load_policy_texts` needs); a SourceError when policy.yaml or a named file cannot be read."""
    path = directory / POLICY_FILE
    try:
        texts = {POLICY_FILE: path.read_text(encoding="utf-8")}
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SourceError(
            [Problem(str(path), 1, "", f"cannot read the policy file: {reason}")]
        ) from None
    located = load_yaml(texts[POLICY_FILE], str(path))
    spec = validate(PolicyFile, located)
    read_file = _folder_reader(directory)
    if spec.schedule != "default":
        texts[spec.schedule] = _read(read_file, spec.schedule, located, ("schedule",))[0]
    if spec.term_calendar is not None:
        name = spec.term_calendar
        texts[name] = _read(read_file, name, located, ("term_calendar",))[0]
    return texts


def validate_policy_files(directory: pathlib.Path) -> list[Problem]:
    """Every problem `load_policy` finds in `directory`; an empty list means the policy is valid."""
    try:
        load_policy(directory)
    except SourceError as error:
        return list(error.problems)
    return []
