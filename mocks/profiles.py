"""Configuration profiles held by the simulated MDM server, and their scope.

Vendor fronts create and update ``Profile`` objects through ``Fleet.put_profile``; the fleet's
check-in compares each device's scope with what it has installed and queues InstallProfile or
RemoveProfile. ``read_profile_plist`` pulls the keys the device acts on out of a .mobileconfig.
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class ProfilePayloadError(ValueError):
    """The payload is not a readable configuration profile plist."""


@dataclass(frozen=True, kw_only=True)
class Scope:
    """Which devices a profile targets: everyone, devices, groups, minus exclusions (by id)."""

    all_devices: bool = False
    device_ids: frozenset[int] = field(default_factory=frozenset)
    group_ids: frozenset[int] = field(default_factory=frozenset)
    excluded_device_ids: frozenset[int] = field(default_factory=frozenset)
    excluded_group_ids: frozenset[int] = field(default_factory=frozenset)

    def includes(self, device_id: int, device_groups: set[int] | None) -> bool:
        groups = device_groups or set()
        if device_id in self.excluded_device_ids or not self.excluded_group_ids.isdisjoint(groups):
            return False
        return (
            self.all_devices
            or device_id in self.device_ids
            or not self.group_ids.isdisjoint(groups)
        )


@dataclass(frozen=True, kw_only=True)
class ProfileContent:
    """What the device reads out of the plist."""

    identifier: str
    display_name: str | None
    removal_date: float | None  # epoch seconds
    duration_until_removal: float | None
    payload_types: tuple[str, ...]
    # A restrictions payload sets forceAutomaticDateAndTime: the pupil cannot move the clock.
    forces_automatic_time: bool = False


@dataclass(frozen=True, kw_only=True)
class Profile:
    """A profile as the server stores it. ``version`` goes up on every content change."""

    profile_id: int
    name: str
    description: str = ""
    payload: bytes = b""
    content: ProfileContent
    scope: Scope = field(default_factory=Scope)
    version: int = 1
    redeploy_to_all: bool = False  # Jamf's "redeploy on update: All" versus "Newly Assigned"
    extra: dict[str, Any] = field(default_factory=dict)  # vendor front's own fields


def read_profile_plist(payload: bytes) -> ProfileContent:
    """Parse a .mobileconfig and keep the keys that decide what the device does with it."""
    try:
        document = plistlib.loads(payload)
    except Exception as error:  # plistlib raises several unrelated types on bad input
        raise ProfilePayloadError(f"payload is not a property list: {error}") from error
    if not isinstance(document, dict):
        raise ProfilePayloadError("payload plist must be a dictionary")
    identifier = document.get("PayloadIdentifier")
    if not isinstance(identifier, str) or not identifier:
        raise ProfilePayloadError("payload has no PayloadIdentifier")
    removal_date = document.get("RemovalDate")
    if removal_date is not None and not isinstance(removal_date, datetime):
        raise ProfilePayloadError("RemovalDate must be a date")
    duration = document.get("DurationUntilRemoval")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int | float)
    ):
        raise ProfilePayloadError("DurationUntilRemoval must be a number")
    inner = document.get("PayloadContent") or []
    payload_types = tuple(str(item.get("PayloadType")) for item in inner if isinstance(item, dict))
    display_name = document.get("PayloadDisplayName")
    forces_time = any(
        isinstance(item, dict) and item.get("forceAutomaticDateAndTime") is True for item in inner
    )
    return ProfileContent(
        identifier=identifier,
        display_name=display_name if isinstance(display_name, str) else None,
        removal_date=_plist_date_to_epoch(removal_date),
        duration_until_removal=float(duration) if duration is not None else None,
        payload_types=payload_types,
        forces_automatic_time=forces_time,
    )


def _plist_date_to_epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    # plistlib returns naive datetimes that are in UTC by the plist format's definition.
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.timestamp()


def removal_time(content: ProfileContent, installed_at_device_time: float) -> float | None:
    """When the device deletes the profile by itself; the earlier of the two keys wins."""
    candidates = []
    if content.removal_date is not None:
        candidates.append(content.removal_date)
    if content.duration_until_removal is not None:
        candidates.append(installed_at_device_time + content.duration_until_removal)
    return min(candidates) if candidates else None
