"""Jamf School's JSON, read into plain values: devices and device groups.

`connectors.jamf_school.api` fetches the documents; this module turns them into `JamfDevice` and
`JamfGroup` and nothing else of Jamf School's vocabulary leaves the connector. Every field is
checked, and a surprise raises `PermanentError` naming the field (`devices[3].lastCheckin`).
Jamf School's own inconsistencies are absorbed here: key casing differs between sources
(`deviceGroups` / `DeviceGroups`), and `lastCheckin` is local wall-clock text in the device list
but a `{date, timezone_type, timezone}` object for a single device.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import PermanentError
from connectors.parsing import field

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class JamfDevice:
    udid: str
    serial_number: str
    supervised: bool
    group_ids: frozenset[int]
    last_check_in: datetime | None
    is_ipad: bool
    in_trash: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class JamfGroup:
    group_id: int
    name: str
    smart: bool


def key_in(document: Any, name: str) -> str:
    """The key of `document` that matches `name` ignoring case (`name` itself when absent)."""
    if isinstance(document, dict) and name not in document:
        folded = name.casefold()
        for key in document:
            if isinstance(key, str) and key.casefold() == folded:
                return key
    return name


def read(document: Any, path: str, name: str, kind: type[T], *, optional: bool = False) -> T:
    """`field` for one key under `path`, found whatever its casing."""
    parent = document if not path else field(document, path, dict)
    full = f"{path}.{key_in(parent, name)}" if path else key_in(parent, name)
    return field(document, full, kind, optional=optional)


def device_list(document: Any, *, time_zone: ZoneInfo) -> list[JamfDevice]:
    """`GET /devices`: every device of the tenant (the API has no paging)."""
    key = key_in(document, "devices")
    return [
        parse_device(document, f"{key}[{index}]", time_zone=time_zone)
        for index in range(len(field(document, key, list)))
    ]


def parse_device(document: Any, path: str, *, time_zone: ZoneInfo) -> JamfDevice:
    """One device at `path` in `document` (a list item, or the `device` of a single read).

    `time_zone` is the tenant's zone, for check-in times given as wall-clock text.
    """
    kind = read(document, path, "class", str, optional=True)
    serial = read(document, path, "serialNumber", str)
    udid = read(document, path, "UDID", str)
    for name, value in (("serialNumber", serial), ("UDID", udid)):
        if not value.strip():
            raise PermanentError(f"unexpected vendor answer: field {path}.{name} is empty")
    supervised = read(document, path, "isSupervised", bool, optional=True)
    in_trash = read(document, path, "inTrash", bool, optional=True)
    return JamfDevice(
        udid=udid,
        serial_number=serial,
        supervised=bool(supervised),
        group_ids=_group_ids(document, path),
        last_check_in=_check_in(document, path, time_zone),
        is_ipad=kind is None or kind.casefold() == "ipad",
        in_trash=bool(in_trash),
    )


def _group_ids(document: Any, path: str) -> frozenset[int]:
    parent = field(document, path, dict)
    key = key_in(parent, "groupIds")
    values = field(document, f"{path}.{key}", list, optional=True) or []
    ids: set[int] = set()
    for index, value in enumerate(values):
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise PermanentError(
                f"unexpected vendor answer: field {path}.{key}[{index}] should be a group id"
            )
        ids.add(value)
    return frozenset(ids)


def _check_in(document: Any, path: str, tenant_zone: ZoneInfo) -> datetime | None:
    """`lastCheckin` in either shape, as UTC; None when the device never checked in."""
    parent = field(document, path, dict)
    key = key_in(parent, "lastCheckin")
    where = f"{path}.{key}"
    value = parent.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return _wall_clock(value, where, tenant_zone)
    if isinstance(value, dict):
        text = read(document, where, "date", str)
        kind = read(document, where, "timezone_type", int, optional=True)
        zone_text = read(document, where, "timezone", str, optional=True)
        zone = _php_zone(kind, zone_text, where) if zone_text else tenant_zone
        return _wall_clock(text, f"{where}.date", zone)
    raise PermanentError(f"unexpected vendor answer: field {where} should be a date")


def _wall_clock(text: str, where: str, zone: tzinfo) -> datetime | None:
    if text.startswith("0000-00-00"):  # PHP's "never"
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise PermanentError(f"unexpected vendor answer: field {where} is not a date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _php_zone(kind: int | None, text: str, where: str) -> tzinfo:
    """PHP DateTime zones: type 1 is an offset (+01:00), 3 an IANA name, 2 an abbreviation."""
    if kind == 1 or text[:1] in "+-":
        try:
            sign = -1 if text.startswith("-") else 1
            hours, _, minutes = text[1:].partition(":")
            return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
        except ValueError:
            raise PermanentError(
                f"unexpected vendor answer: field {where}.timezone is not an offset"
            ) from None
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise PermanentError(
            f"unexpected vendor answer: field {where}.timezone {text!r} is not a known zone"
        ) from None


def group_list(document: Any) -> list[JamfGroup]:
    """`GET /devices/groups`; real answers say `deviceGroups`, the docs `DeviceGroups`."""
    key = key_in(document, "deviceGroups")
    groups: list[JamfGroup] = []
    for index in range(len(field(document, key, list))):
        path = f"{key}[{index}]"
        group_id = read(document, path, "id", int)
        name = read(document, path, "name", str, optional=True) or ""
        smart = read(document, path, "isSmartGroup", bool, optional=True)
        groups.append(JamfGroup(group_id=group_id, name=name, smart=bool(smart)))
    return groups
