"""The connector contract (DESIGN.md §4): small async protocols, capabilities as data, and the
three failure kinds every vendor error is translated into at one boundary per connector.

The reconcile loop (later) calls a `Connector`; concrete connectors implement it. Nothing here
does I/O.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from mdm_bridge.model import Action, ActionKind, DeviceRef, ObservedDevice, Vendor


class ClockLike(Protocol):
    """The injected clock (mdm_bridge.clock.Clock satisfies it): token expiry, Retry-After."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class Capability(StrEnum):
    """What a connector can do; the planner picks a mechanism the connector has."""

    LOST_MODE = "lost_mode"  # lock and unlock an iPad (Managed Lost Mode)
    PROFILES_BY_GROUP = "profiles_by_group"  # restrictions reach devices through group membership
    BULK_COMMANDS = "bulk_commands"  # one request carries a command for many devices
    INVENTORY_ONLY = "inventory_only"  # reads devices; cannot change them
    ROSTER = "roster"  # classes and pupils


# Which capability each action kind needs; an action whose capability is missing is refused
# before any request is made.
REQUIRED_CAPABILITY: dict[ActionKind, Capability] = {
    ActionKind.LOCK: Capability.LOST_MODE,
    ActionKind.UNLOCK: Capability.LOST_MODE,
    ActionKind.INSTALL_PROFILE: Capability.PROFILES_BY_GROUP,
    ActionKind.REMOVE_PROFILE: Capability.PROFILES_BY_GROUP,
}


class FailureKind(StrEnum):
    TEMPORARY = "temporary"  # try again after `retry_after` seconds
    PERMANENT = "permanent"  # this device or action will not work: record and report
    AUTH = "auth"  # credentials or configuration: pause this connector and alert


class ConnectorError(Exception):
    """Base of the three failure kinds. Messages never carry credentials."""

    kind: FailureKind
    # The HTTP status the vendor answered, when the failure came from an answer (not a
    # transport error); lets a connector tell a 405 from a 404 without reading the message.
    status: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemporaryError(ConnectorError):
    kind = FailureKind.TEMPORARY

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UncertainOutcome(TemporaryError):
    """A write may or may not have happened (timeout, dropped connection, 5xx on a POST).

    It is never blindly repeated: the caller re-reads state before deciding to send again.
    """


class ConflictError(TemporaryError):
    """Another writer changed the same object at the same time (HTTP 409): re-read, then retry."""


class PermanentError(ConnectorError):
    kind = FailureKind.PERMANENT


class AuthError(ConnectorError):
    kind = FailureKind.AUTH


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # the MDM took the change (queued or done); observation confirms it
    PENDING = "pending"  # sent, the device has not answered yet (offline, NotNow)
    FAILED = "failed"  # see `failure` for the kind
    REFUSED = "refused"  # the connector cannot do this (capability); nothing was sent


@dataclass(frozen=True, kw_only=True, slots=True)
class ActionResult:
    action: Action
    outcome: Outcome
    detail: str = ""
    failure: FailureKind | None = None
    retry_after: float | None = None
    vendor_reference: str | None = None  # e.g. the MDM's command UUID, for later status reads


@dataclass(frozen=True, kw_only=True)
class ConnectorConfig:
    """How to reach one MDM instance. `secrets` are decrypted just in time and never shown."""

    name: str
    base_url: str
    options: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def option(self, key: str, default: str | None = None) -> str:
        value = self.options.get(key, default)
        if not value:
            raise AuthError(f"{self.name}: configuration setting {key!r} is missing")
        return value

    def secret(self, key: str) -> str:
        value = self.secrets.get(key)
        if not value:
            raise AuthError(f"{self.name}: credential {key!r} is missing")
        return value


@runtime_checkable
class Inventory(Protocol):
    def list_devices(self) -> AsyncIterator[DeviceRef]:
        """Every device the MDM manages, page by page, without holding them all."""
        ...


@runtime_checkable
class StateReader(Protocol):
    async def observe(self, devices: Sequence[DeviceRef]) -> list[ObservedDevice]: ...


@runtime_checkable
class ActionApplier(Protocol):
    async def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        """Send a batch; exactly one result per action, in the same order."""
        ...


@runtime_checkable
class OutcomeReader(Protocol):
    """Optional: connectors whose MDM keeps a record of each command it queued."""

    async def read_outcomes(self, results: Sequence[ActionResult]) -> list[ActionResult]:
        """Re-judge earlier results by the MDM's record: PENDING while the device has not
        answered (offline, NotNow), FAILED when it refused, ACCEPTED once it carried the
        command out. Results the MDM has no record of come back unchanged."""
        ...


@dataclass(frozen=True, kw_only=True, slots=True)
class RosterClass:
    name: str
    pupil_references: frozenset[str]


@runtime_checkable
class Roster(Protocol):
    def list_classes(self) -> AsyncIterator[RosterClass]: ...


class Connector(Inventory, StateReader, ActionApplier, Protocol):
    """One MDM instance, as the reconcile loop sees it."""

    name: str
    vendor: Vendor
    capabilities: frozenset[Capability]

    async def aclose(self) -> None: ...


def refuse_unsupported(
    actions: Sequence[Action], capabilities: frozenset[Capability]
) -> tuple[list[Action], dict[int, ActionResult]]:
    """Split a batch into what the connector can do and results for what it cannot.

    Returns the doable actions and, keyed by their index in `actions`, a REFUSED result for each
    action whose capability is missing, so `apply` can answer one result per action in order.
    """
    doable: list[Action] = []
    refused: dict[int, ActionResult] = {}
    for index, action in enumerate(actions):
        needed = REQUIRED_CAPABILITY[action.kind]
        if Capability.INVENTORY_ONLY in capabilities or needed not in capabilities:
            refused[index] = ActionResult(
                action=action,
                outcome=Outcome.REFUSED,
                failure=FailureKind.PERMANENT,
                detail=f"this connector cannot {action.kind.value.replace('_', ' ')} "
                f"(needs {needed.value})",
            )
        else:
            doable.append(action)
    return doable, refused


def ordered_results(
    actions: Sequence[Action], refused: dict[int, ActionResult], done: Sequence[ActionResult]
) -> list[ActionResult]:
    """Merge refused results back with the results of the doable actions, in input order."""
    results = iter(done)
    return [refused[i] if i in refused else next(results) for i in range(len(actions))]
