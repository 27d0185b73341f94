"""Reading Jamf Pro's mobile-device inventory: every page, and the state of chosen devices.

`JamfProConnector.list_devices` streams `detail_pages` with the identity sections; `observe`
asks for the devices it was given (an RSQL id filter, in chunks) with the sections that carry
Lost Mode, group membership and installed profiles, and `observed_device` turns each item into
our `ObservedDevice`. Jamf caps a page at 2,000 records whatever is asked, so page numbers are
derived from that cap, and the list is sorted by id so that renames cannot shift the pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import PermanentError
from connectors.http import VendorHttp
from connectors.parsing import field, json_body
from mdm_bridge.model import DeviceRef, LockState, ObservedDevice, PendingCommand

DETAIL_PATH = "/api/v2/mobile-devices/detail"
PAGE_SIZE = 2000  # Jamf's cap; asking for more silently returns this many
IDENTITY_SECTIONS = ("GENERAL", "HARDWARE")
STATE_SECTIONS = ("GENERAL", "SECURITY", "GROUPS", "PROFILES")
JSON = {"Accept": "application/json"}


@dataclass(frozen=True, kw_only=True)
class Ownership:
    """How the bridge recognises its own objects among everything else in Jamf Pro."""

    group_prefix: str  # bridge-owned static groups are named "<prefix><profile identifier>"
    identifier_prefix: str  # bridge-owned profiles' PayloadIdentifier starts with this

    def group_name(self, identifier: str) -> str:
        return f"{self.group_prefix}{identifier}"


async def detail_pages(
    http: VendorHttp,
    base_url: str,
    sections: Sequence[str],
    *,
    rsql: str | None = None,
    what: str,
) -> AsyncIterator[tuple[str, list[Any]]]:
    """Each page of the detail listing as (label for error messages, items)."""
    page = 0
    while True:
        params: list[tuple[str, str | int]] = [("section", s) for s in sections]
        params += [("page", page), ("page-size", PAGE_SIZE), ("sort", "mobileDeviceId:asc")]
        # LENIENT: one unreadable device gives null sections instead of failing the whole page
        params.append(("exception-handling", "LENIENT"))
        if rsql:
            params.append(("filter", rsql))
        response = await http.request("GET", base_url + DETAIL_PATH, params=params, headers=JSON)
        document = json_body(response, f"{what} page {page}")
        total = field(document, "totalCount", int)
        items = field(document, "results", list)
        yield f"{what} page {page}", items
        page += 1
        if not items or page * PAGE_SIZE >= total:
            return


def device_ref(instance: str, item: Any, label: str) -> DeviceRef | None:
    """Our reference for one listed iPad; None for other device types and unreadable records."""
    if field(item, "deviceType", str, optional=True) not in (None, "iOS"):
        return None
    vendor_id = _text(item, "mobileDeviceId", label)
    if item.get("general") is None or item.get("hardware") is None:
        return None  # a record Jamf could not read (LENIENT); it shows up again once fixed
    return DeviceRef(
        mdm_instance=instance,
        vendor_id=vendor_id,
        serial_number=_text(item, "hardware.serialNumber", label),
        udid=field(item, "general.udid", str, optional=True),
        management_id=_text(item, "general.managementId", label),
    )


def observed_device(
    ref: DeviceRef,
    item: Any,
    label: str,
    *,
    ownership: Ownership,
    observed_at: datetime,
    pending: tuple[PendingCommand, ...],
) -> ObservedDevice:
    supervised = field(item, "general.supervised", bool, optional=True)
    return ObservedDevice(
        ref=ref,
        observed_at=observed_at,
        supervised=bool(supervised),
        lock=_lock_state(item, label),
        profiles=_owned_profiles(item, label, ownership),
        groups=_owned_groups(item, label, ownership),
        last_check_in=_optional_instant(item, "general.lastInventoryUpdateDate", label),
        pending_commands=pending,
    )


def _lock_state(item: Any, label: str) -> LockState:
    if item.get("security") is None:
        return LockState.UNKNOWN
    enabled = _at(item, "security.lostModeEnabled", bool, label, optional=True)
    if enabled is None:
        return LockState.UNKNOWN
    return LockState.LOCKED if enabled else LockState.UNLOCKED


def _owned_groups(item: Any, label: str, ownership: Ownership) -> frozenset[str]:
    """The profile identifiers whose bridge-owned group the device is in."""
    groups = _at(item, "groups", list, label, optional=True) or []
    names = (_at(item, f"groups[{i}].groupName", str, label) for i in range(len(groups)))
    prefix = ownership.group_prefix
    return frozenset(name[len(prefix) :] for name in names if name.startswith(prefix))


def _owned_profiles(item: Any, label: str, ownership: Ownership) -> frozenset[str]:
    profiles = _at(item, "profiles", list, label, optional=True) or []
    found = (_at(item, f"profiles[{i}].identifier", str, label) for i in range(len(profiles)))
    return frozenset(i for i in found if i.startswith(ownership.identifier_prefix))


def _text(item: Any, path: str, label: str) -> str:
    value: str = _at(item, path, str, label)
    if not value:
        raise PermanentError(f"{label}: unexpected vendor answer: field {path} is empty")
    return value


def _at(item: Any, path: str, kind: type[Any], label: str, *, optional: bool = False) -> Any:
    try:
        return field(item, path, kind, optional=optional)
    except PermanentError as error:
        raise PermanentError(f"{label}: {error.message}") from None


def _optional_instant(item: Any, path: str, label: str) -> datetime | None:
    text = _at(item, path, str, label, optional=True)
    return None if text is None else parse_instant(text, f"{label}: field {path}")


def parse_instant(text: str, what: str) -> datetime:
    """Jamf's ISO-8601 UTC timestamps (`2022-10-17T11:48:56.307Z`)."""
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PermanentError(f"unexpected vendor answer: {what} is not a date") from None
    if instant.tzinfo is None:
        raise PermanentError(f"unexpected vendor answer: {what} has no time zone")
    return instant
