"""Bridge-owned static groups: find or create them, and change who is in them in bulk.

A restriction reaches an iPad because its profile is scoped to a group and the device is a
member (DESIGN.md §4), so `JamfProConnector.apply` turns install and remove actions into one
membership edit per group: the current members are read, and only the difference is written as
Classic `mobile_device_additions` / `mobile_device_deletions`. Jamf answers 409 to overlapping
writes on one object; the edit is then re-read and re-sent, since the other writer may have
made part of it moot. Writes to one group are serialised here for the same reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass

from connectors.base import ConflictError, UncertainOutcome
from connectors.http import Sleep, VendorHttp
from connectors.jamf_pro.classic_xml import XML, created_id, device_list, element, to_bytes
from connectors.parsing import field, json_body

GROUPS_PATH = "/JSSResource/mobiledevicegroups"
JSON = {"Accept": "application/json"}
WRITE_ATTEMPTS = 5


@dataclass(frozen=True, kw_only=True)
class MembershipChange:
    added: frozenset[str]
    removed: frozenset[str]


class StaticGroups:
    """The bridge's static groups on one Jamf Pro instance, by name."""

    def __init__(self, http: VendorHttp, base_url: str, sleep: Sleep) -> None:
        self._http = http
        self._url = base_url + GROUPS_PATH
        self._sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    async def find(self, name: str) -> int | None:
        response = await self._http.request("GET", self._url, headers=JSON)
        document = json_body(response, "group list")
        groups = field(document, "mobile_device_groups", list)
        for index in range(len(groups)):
            if field(document, f"mobile_device_groups[{index}].name", str) == name:
                return field(document, f"mobile_device_groups[{index}].id", int)
        return None

    async def ensure(self, name: str) -> int:
        """The group's id, creating the (empty) group when it does not exist yet."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            existing = await self.find(name)
            if existing is not None:
                return existing
            body = element("mobile_device_group", {"name": name, "is_smart": False})
            try:
                response = await self._http.request(
                    "POST", f"{self._url}/id/0", content=to_bytes(body), headers=XML
                )
            except (ConflictError, UncertainOutcome) as error:
                # someone else created it, or our create may have landed: look again first
                if attempt == WRITE_ATTEMPTS:
                    raise
                await self._sleep(error.retry_after)
                continue
            return created_id(response.content, "mobile_device_group", f"create group {name}")
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def members(self, group_id: int) -> frozenset[str]:
        response = await self._http.request("GET", f"{self._url}/id/{group_id}", headers=JSON)
        document = json_body(response, f"group {group_id}")
        devices = field(document, "mobile_device_group.mobile_devices", list)
        return frozenset(
            str(field(document, f"mobile_device_group.mobile_devices[{i}].id", int))
            for i in range(len(devices))
        )

    async def change(
        self, name: str, *, add: Collection[str], remove: Collection[str]
    ) -> MembershipChange:
        """Make `add` members and `remove` non-members; returns what actually changed."""
        async with self.lock(name):
            group_id = await self.ensure(name) if add else await self.find(name)
            if group_id is None:
                return MembershipChange(added=frozenset(), removed=frozenset())
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                current = await self.members(group_id)
                additions = frozenset(add) - current
                deletions = frozenset(remove) & current
                if not additions and not deletions:
                    return MembershipChange(added=frozenset(), removed=frozenset())
                body = element(
                    "mobile_device_group",
                    {
                        "mobile_device_additions": device_list(
                            "mobile_device_additions", sorted(additions, key=int)
                        ),
                        "mobile_device_deletions": device_list(
                            "mobile_device_deletions", sorted(deletions, key=int)
                        ),
                    },
                )
                try:
                    await self._http.request(
                        "PUT", f"{self._url}/id/{group_id}", content=to_bytes(body), headers=XML
                    )
                except ConflictError as error:
                    if attempt == WRITE_ATTEMPTS:
                        raise
                    await self._sleep(error.retry_after)
                    continue
                return MembershipChange(added=additions, removed=deletions)
        raise AssertionError("unreachable: the last attempt returns or raises")
