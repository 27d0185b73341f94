"""Bridge profiles to Jamf School device groups: the mapping, checked against the tenant.

Jamf School's API cannot create or scope profiles, so each bridge profile exists as a profile the
technician made in the console, scoped to one static device group. The connector's
`profile_groups` option names that group (see `connectors.jamf_school.settings`); `resolve` holds
the option against the tenant's real groups (`GET /devices/groups`) and refuses, as a
configuration error naming every bad entry, a group that does not exist, a name that matches
several groups, a smart group (its members cannot be moved) or a group shared by two profiles
(removing one profile would take the other with it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connectors.base import AuthError
from connectors.jamf_school.settings import GroupChoice
from connectors.jamf_school.wire import JamfGroup


@dataclass(frozen=True, kw_only=True, slots=True)
class MappedGroup:
    profile_identifier: str
    group_id: int
    group_name: str

    def describe(self) -> str:
        return f"group {self.group_name!r} (id {self.group_id})"


@dataclass(frozen=True, kw_only=True)
class GroupMap:
    """The verified mapping: which group carries which bridge profile."""

    by_profile: Mapping[str, MappedGroup]

    def group_for(self, profile_identifier: str) -> MappedGroup | None:
        return self.by_profile.get(profile_identifier)

    def profiles_in(self, group_ids: Iterable[int]) -> frozenset[str]:
        """The bridge profiles a device in these groups is scoped to."""
        member_of = set(group_ids)
        return frozenset(
            mapped.profile_identifier
            for mapped in self.by_profile.values()
            if mapped.group_id in member_of
        )

    def bridge_groups_in(self, group_ids: Iterable[int]) -> frozenset[str]:
        """The bridge profiles whose group is among these: what `ObservedDevice.groups` carries."""
        return frozenset(self.profiles_in(group_ids))


def resolve(instance: str, choices: Iterable[GroupChoice], groups: Iterable[JamfGroup]) -> GroupMap:
    """Match every configured choice to exactly one usable group, or say what is wrong."""
    known = list(groups)
    by_id = {group.group_id: group for group in known}
    problems: list[str] = []
    resolved: dict[str, MappedGroup] = {}
    claimed: dict[int, str] = {}
    for choice in choices:
        if choice.group_id is not None:
            found = [by_id[choice.group_id]] if choice.group_id in by_id else []
        else:
            found = [group for group in known if group.name == choice.group_name]
        if not found:
            problems.append(f"{choice.describe()} does not exist in Jamf School")
            continue
        if len(found) > 1:
            ids = ", ".join(str(group.group_id) for group in found)
            problems.append(f"{choice.describe()} matches several groups (ids {ids}); use the id")
            continue
        group = found[0]
        if group.smart:
            problems.append(f"{choice.describe()} is a smart group; its members cannot be moved")
            continue
        if group.group_id in claimed:
            problems.append(
                f"{choice.describe()} is also mapped to {claimed[group.group_id]!r}; "
                "each profile needs its own group"
            )
            continue
        claimed[group.group_id] = choice.profile_identifier
        resolved[choice.profile_identifier] = MappedGroup(
            profile_identifier=choice.profile_identifier,
            group_id=group.group_id,
            group_name=group.name,
        )
    if problems:
        raise AuthError(
            f"{instance}: profile_groups does not fit the tenant: " + "; ".join(problems)
        )
    return GroupMap(by_profile=resolved)
