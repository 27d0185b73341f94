"""Shared vocabulary: the values that flow observe -> decide -> plan -> apply (DESIGN.md §3).

Every layer speaks these types; vendor words stay inside each connector. Values are frozen and
keyword-only, instants are timezone-aware UTC. The action vocabulary deliberately has no erase,
unenroll or clear-passcode: the bridge cannot ask an MDM to destroy anything.
"""

from __future__ import annotations

import hashlib
import plistlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def _aware(name: str, instant: datetime | None) -> None:
    if instant is not None and (instant.tzinfo is None or instant.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got {instant.isoformat()}")


class Vendor(StrEnum):
    JAMF_PRO = "jamf_pro"
    JAMF_SCHOOL = "jamf_school"
    APPLE_SCHOOL_MANAGER = "apple_school_manager"


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceRef:
    """One iPad as one MDM instance knows it."""

    mdm_instance: str
    vendor_id: str
    serial_number: str
    udid: str | None = None
    management_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("mdm_instance", "vendor_id", "serial_number"):
            if not getattr(self, name):
                raise ValueError(f"DeviceRef.{name} must not be empty")

    @property
    def key(self) -> str:
        """Stable identity of the device within the deployment."""
        return f"{self.mdm_instance}/{self.vendor_id}"


class LockState(StrEnum):
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    UNKNOWN = "unknown"  # the MDM could not say; never treated as either


class LockCause(StrEnum):
    """Why an iPad should be locked; the order here is not precedence (see policies)."""

    CURFEW = "curfew"
    BAN = "ban"
    INSPECTION = "inspection"
    EVIDENCE_HOLD = "evidence_hold"


@dataclass(frozen=True, kw_only=True, slots=True)
class LockIntent:
    cause: LockCause
    message: str
    until: datetime | None = None  # None: until someone releases it

    def __post_init__(self) -> None:
        _aware("LockIntent.until", self.until)


@dataclass(frozen=True, kw_only=True, slots=True)
class ProfileRef:
    """A bridge-owned configuration profile: stable identifier plus a hash of its content."""

    identifier: str
    content_hash: str
    removal_date: datetime | None = None  # lets the device drop it alone if the bridge is down

    def __post_init__(self) -> None:
        _aware("ProfileRef.removal_date", self.removal_date)


@dataclass(frozen=True, kw_only=True, slots=True)
class ProfileDocument:
    """The content of a bridge-owned profile, for MDMs to which the bridge uploads profiles.

    `payloads` are the inner payload dictionaries (each with its `PayloadType` and keys), ready
    for plistlib; the connector wraps them in the top-level profile. `content_hash` covers
    everything that reaches the device, so a moved removal date counts as changed content.
    Two documents are equal when their identifier and hash are; the mappings are not compared.
    """

    identifier: str
    display_name: str
    payloads: tuple[Mapping[str, Any], ...] = field(compare=False)
    removal_date: datetime | None = None
    description: str = ""
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        _aware("ProfileDocument.removal_date", self.removal_date)
        if not self.identifier or not self.display_name:
            raise ValueError("a profile document needs an identifier and a display name")
        canonical = {
            "identifier": self.identifier,
            "display_name": self.display_name,
            "description": self.description,
            "payloads": [dict(payload) for payload in self.payloads],
            "removal_date": plist_date(self.removal_date) if self.removal_date else "",
        }
        try:
            rendered = plistlib.dumps(canonical, sort_keys=True)
        except (TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"profile {self.identifier}: payloads are not plist-ready") from error
        digest = hashlib.sha256(rendered).hexdigest()[:16]
        object.__setattr__(self, "content_hash", digest)

    @property
    def ref(self) -> ProfileRef:
        return ProfileRef(
            identifier=self.identifier,
            content_hash=self.content_hash,
            removal_date=self.removal_date,
        )


def plist_date(instant: datetime) -> datetime:
    """`instant` as plistlib writes dates: naive, in UTC (it ignores a time zone it is given)."""
    return instant.astimezone(UTC).replace(tzinfo=None)


class CommandStatus(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    NOT_NOW = "not_now"
    ERROR = "error"


@dataclass(frozen=True, kw_only=True, slots=True)
class PendingCommand:
    command_id: str
    kind: str
    queued_at: datetime
    status: CommandStatus = CommandStatus.PENDING

    def __post_init__(self) -> None:
        _aware("PendingCommand.queued_at", self.queued_at)


@dataclass(frozen=True, kw_only=True, slots=True)
class ObservedDevice:
    """What the MDM reported about one iPad, and when it was asked."""

    ref: DeviceRef
    observed_at: datetime
    supervised: bool
    lock: LockState = LockState.UNKNOWN
    profiles: frozenset[str] = frozenset()  # identifiers of bridge-owned profiles present
    # Identifiers of the bridge profiles whose delivery group the device is in (MDMs that
    # deliver profiles by group): scoped to it, whether or not the device has installed them.
    groups: frozenset[str] = frozenset()
    last_check_in: datetime | None = None
    pending_commands: tuple[PendingCommand, ...] = ()

    def __post_init__(self) -> None:
        _aware("ObservedDevice.observed_at", self.observed_at)
        _aware("ObservedDevice.last_check_in", self.last_check_in)


@dataclass(frozen=True, kw_only=True, slots=True)
class DesiredState:
    """What one iPad should be, and when that answer next changes."""

    ref: DeviceRef
    lock: LockIntent | None = None
    profiles: frozenset[ProfileRef] = frozenset()
    next_change_at: datetime | None = None
    state_hash: str = field(init=False)

    def __post_init__(self) -> None:
        _aware("DesiredState.next_change_at", self.next_change_at)
        # The lock's end is part of the target: tonight's curfew lock is not last night's.
        lock = "-"
        if self.lock is not None:
            until = self.lock.until.isoformat() if self.lock.until else "released"
            lock = f"{self.lock.cause.value}:{until}"
        parts = [self.ref.key, f"lock={lock}"]
        parts += sorted(f"{p.identifier}@{p.content_hash}" for p in self.profiles)
        digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
        object.__setattr__(self, "state_hash", digest)


class ActionKind(StrEnum):
    LOCK = "lock"
    UNLOCK = "unlock"
    INSTALL_PROFILE = "install_profile"
    REMOVE_PROFILE = "remove_profile"


@dataclass(frozen=True, kw_only=True, slots=True)
class Action:
    """One change to send to one device, serving the desired state `target_hash`."""

    kind: ActionKind
    device: DeviceRef
    target_hash: str
    reason: str
    profile: ProfileRef | None = None
    lock: LockIntent | None = None
    # The content to upload, for MDMs where the bridge creates its profiles (Jamf Pro).
    document: ProfileDocument | None = None

    def __post_init__(self) -> None:
        is_profile_action = self.kind in (ActionKind.INSTALL_PROFILE, ActionKind.REMOVE_PROFILE)
        if is_profile_action and self.profile is None:
            raise ValueError(f"a {self.kind} action needs a profile")
        if self.document is not None:
            if self.kind is not ActionKind.INSTALL_PROFILE:
                raise ValueError("only an install_profile action carries a profile document")
            assert self.profile is not None
            same = (self.profile.identifier, self.profile.content_hash) == (
                self.document.identifier,
                self.document.content_hash,
            )
            if not same:
                raise ValueError("the profile document does not match the action's profile")
        if self.kind is ActionKind.LOCK and self.lock is None:
            raise ValueError("a lock action needs a lock intent (cause and message)")

    @property
    def idempotency_key(self) -> str:
        """Same device, same change, same target state: the same key, so it is sent once."""
        subject = self.profile.identifier if self.profile else ""
        return f"{self.device.key}:{self.kind}:{subject}:{self.target_hash}"
