"""The sections of a policy a technician changes through the API: curfew, profiles, ladder.

Called by the policy routes; pure (files in, files out). A policy is held as its files (name ->
text, as a stored policy version keeps them). `section_of` reads one section as plain JSON-able
data; `with_section` answers new files with that section replaced, which the caller then loads
with `load_policy_texts`, so a change obeys every rule the files do. `problem_field` turns a
problem in those files into the API field it concerns (`ban_ladder.levels.1.level` in
policy.yaml is `ladder.levels.1.level`; `windows.0.start` in the curfew file is
`curfew.windows.0.start`), and `changes` gives a compact before/after of a section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib.resources import files as package_files
from typing import Any, Literal

import yaml

from policies.files import POLICY_FILE
from schedules import Problem, load_yaml
from schedules.files import DEFAULT_FILE as DEFAULT_CURFEW_FILE

Section = Literal["curfew", "profiles", "ladder"]
SECTIONS: tuple[Section, ...] = ("curfew", "profiles", "ladder")
CURFEW_FILE = "curfew.yaml"  # where a changed curfew goes when the policy used the default
_SCHEDULE_LINE = re.compile(r"^schedule:.*$", re.MULTILINE)


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no `&id001` anchors where two sections share a value."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _document(files: Mapping[str, str]) -> dict[str, Any]:
    value = load_yaml(files[POLICY_FILE], POLICY_FILE).value
    return value if isinstance(value, dict) else {}


def curfew_file(files: Mapping[str, str]) -> str | None:
    """The curfew file policy.yaml names, or None for the bridge's default curfew."""
    schedule = _document(files).get("schedule", "default")
    return None if schedule == "default" else str(schedule)


def section_of(files: Mapping[str, str], section: Section) -> dict[str, Any]:
    """One section as data: the curfew rule; {profiles, assignments}; the ban ladder."""
    if section == "curfew":
        name = curfew_file(files)
        if name is None:
            text = package_files("schedules").joinpath(DEFAULT_CURFEW_FILE).read_text("utf-8")
        else:
            text = files[name]
        value = load_yaml(text, name or DEFAULT_CURFEW_FILE).value
        return value if isinstance(value, dict) else {}
    document = _document(files)
    if section == "profiles":
        return {
            "profiles": document.get("profiles") or {},
            "assignments": document.get("assignments") or [],
        }
    ladder = document.get("ban_ladder")
    return ladder if isinstance(ladder, dict) else {}


def with_section(
    files: Mapping[str, str], section: Section, data: Mapping[str, Any]
) -> dict[str, str]:
    """New files: `files` with `section` replaced by `data` (the shape `section_of` gives)."""
    changed = dict(files)
    header = f"# Written by mdm-bridge: the {section} section was changed through the API.\n"
    if section == "curfew":
        name = curfew_file(files)
        if name is None:
            name = CURFEW_FILE
            text = files[POLICY_FILE]
            line = f"schedule: {name}"
            if _SCHEDULE_LINE.search(text):
                changed[POLICY_FILE] = _SCHEDULE_LINE.sub(line, text, count=1)
            else:
                changed[POLICY_FILE] = f"{line}\n{text}"
        changed[name] = header + dump_yaml(dict(data))
        return changed
    document = _document(files)
    if section == "profiles":
        document["profiles"] = data.get("profiles", {})
        document["assignments"] = data.get("assignments", [])
    else:
        document["ban_ladder"] = dict(data)
    changed[POLICY_FILE] = header + dump_yaml(document)
    return changed


def problem_field(problem: Problem, files: Mapping[str, str], section: Section) -> str:
    """The API field a problem in the changed files concerns."""
    if problem.file != POLICY_FILE:
        return f"{section}.{problem.where}" if problem.where else section
    where = problem.where
    if where == "ban_ladder" or where.startswith("ban_ladder."):
        return "ladder" + where.removeprefix("ban_ladder")
    return where or section


def changes(before: Any, after: Any, path: str = "") -> dict[str, dict[str, Any]]:
    """What differs, by dotted path: {"windows.0.start": {"before": "20:00", "after": "19:00"}}.

    Mappings are compared key by key and lists of the same length item by item; anything else
    that differs is given whole.
    """
    if before == after:
        return {}
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        found: dict[str, dict[str, Any]] = {}
        for key in [*before, *(k for k in after if k not in before)]:
            found |= changes(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = {}
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            found |= changes(old, new, f"{path}.{index}" if path else str(index))
        return found
    return {path or "(all)": {"before": before, "after": after}}
