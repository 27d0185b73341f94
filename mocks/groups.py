"""Static device groups held by the simulated MDM server.

``Fleet`` owns one ``GroupBook``; vendor fronts change membership through the fleet (which also
wakes affected devices so scoped profiles follow), and read groups here for their listings.
"""

from __future__ import annotations

from typing import Any


class DuplicateGroupName(ValueError):
    """Another group already has this name."""


class Group:
    """A static group. ``members`` holds device ids (``Device.device_id``)."""

    __slots__ = ("description", "extra", "group_id", "members", "name", "site_id")

    def __init__(self, *, group_id: int, name: str, description: str = "", site_id: int = -1):
        self.group_id = group_id
        self.name = name
        self.description = description
        self.site_id = site_id
        self.members: set[int] = set()
        self.extra: dict[str, Any] = {}  # a vendor front's own fields (e.g. Jamf School location)

    def __repr__(self) -> str:
        return f"Group(id={self.group_id}, name={self.name!r}, size={len(self.members)})"


class GroupBook:
    """Groups by id, with name uniqueness (case-insensitive, as the vendors compare names)."""

    def __init__(self) -> None:
        self._groups: dict[int, Group] = {}
        self._next_id = 1

    def create(self, *, name: str, description: str = "", site_id: int = -1) -> Group:
        self._check_name_free(name, except_id=None)
        group = Group(group_id=self._next_id, name=name, description=description, site_id=site_id)
        self._groups[group.group_id] = group
        self._next_id += 1
        return group

    def rename(self, group: Group, name: str) -> None:
        self._check_name_free(name, except_id=group.group_id)
        group.name = name

    def get(self, group_id: int) -> Group | None:
        return self._groups.get(group_id)

    def by_name(self, name: str) -> Group | None:
        folded = name.casefold()
        return next((g for g in self._groups.values() if g.name.casefold() == folded), None)

    def all(self) -> list[Group]:
        return sorted(self._groups.values(), key=lambda group: group.group_id)

    def remove(self, group_id: int) -> Group | None:
        return self._groups.pop(group_id, None)

    def _check_name_free(self, name: str, *, except_id: int | None) -> None:
        existing = self.by_name(name)
        if existing is not None and existing.group_id != except_id:
            raise DuplicateGroupName(name)
