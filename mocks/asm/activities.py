"""Device activities: ASM's asynchronous assign / unassign jobs.

`POST /v1/orgDeviceActivities` (in `mocks.asm.routes_activities`) calls `ActivityBook.submit`,
which records the job as IN_PROGRESS. Nothing runs in the background: `settle` is called before
every read and finishes each job whose processing time has passed on the mock clock, applying the
assignment to the catalog and choosing COMPLETED or FAILED from how many devices it could move.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mocks.asm.catalog import AsmCatalog


class ActivityType(enum.StrEnum):
    ASSIGN_DEVICES = "ASSIGN_DEVICES"
    UNASSIGN_DEVICES = "UNASSIGN_DEVICES"


@dataclass(frozen=True, kw_only=True)
class ActivityOutcome:
    """How a finished job went, device by device."""

    status: str  # COMPLETED | FAILED
    sub_status: str
    moved: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]  # (serial, reason)


@dataclass(kw_only=True)
class Activity:
    """One submitted job; `outcome` stays None while it is IN_PROGRESS."""

    activity_id: str
    activity_type: ActivityType
    server_id: str
    serials: tuple[str, ...]
    created_at: datetime
    due_at: datetime
    forced_failure: bool = False
    completed_at: datetime | None = None
    outcome: ActivityOutcome | None = None


@dataclass(kw_only=True)
class ActivityBook:
    """All activities of the organisation, with deterministic ids."""

    seed: int
    processing_time: timedelta = timedelta(seconds=30)
    # ASM keeps an activity for about a month; after that polling it finds nothing.
    retention: timedelta = timedelta(days=30)
    fail_next: int = 0  # the fault knob: that many coming jobs end FAILED whatever their devices
    _activities: dict[str, Activity] = field(default_factory=dict)

    def submit(
        self,
        *,
        activity_type: ActivityType,
        server_id: str,
        serials: tuple[str, ...],
        now: datetime,
    ) -> Activity:
        activity_id = uuid.uuid5(
            uuid.NAMESPACE_URL, f"mdm-bridge-mock/asm/{self.seed}/activity/{len(self._activities)}"
        )
        forced_failure = self.fail_next > 0
        self.fail_next = max(0, self.fail_next - 1)
        activity = Activity(
            activity_id=str(activity_id),
            activity_type=activity_type,
            server_id=server_id,
            serials=serials,
            created_at=now,
            due_at=now + self.processing_time,
            forced_failure=forced_failure,
        )
        self._activities[activity.activity_id] = activity
        return activity

    def get(self, activity_id: str, now: datetime) -> Activity | None:
        activity = self._activities.get(activity_id)
        if activity is None or activity.created_at + self.retention <= now:
            return None
        return activity

    def all(self) -> list[Activity]:
        return list(self._activities.values())

    def settle(self, catalog: AsmCatalog, now: datetime) -> None:
        """Finish, in submission order, every job whose processing time is over."""
        for activity in self._activities.values():
            if activity.outcome is None and activity.due_at <= now:
                activity.outcome = _run(activity, catalog)
                activity.completed_at = activity.due_at


def _run(activity: Activity, catalog: AsmCatalog) -> ActivityOutcome:
    if activity.forced_failure:
        refused = tuple((serial, "processing failed") for serial in activity.serials)
        return ActivityOutcome(
            status="FAILED", sub_status="COMPLETED_WITH_FAILURE", moved=(), refused=refused
        )
    moved: list[str] = []
    refusals: list[tuple[str, str]] = []
    for serial in activity.serials:
        reason = _refusal(activity, catalog, serial)
        if reason is not None:
            refusals.append((serial, reason))
            continue
        target = (
            activity.server_id if activity.activity_type is ActivityType.ASSIGN_DEVICES else None
        )
        catalog.assign(serial, target, activity.due_at)
        moved.append(serial)
    if not moved:
        status, sub_status = "FAILED", "COMPLETED_WITH_FAILURE"
    elif refusals:
        status, sub_status = "COMPLETED", "COMPLETED_WITH_ERROR"
    else:
        status, sub_status = "COMPLETED", "COMPLETED_WITH_SUCCESS"
    return ActivityOutcome(
        status=status, sub_status=sub_status, moved=tuple(moved), refused=tuple(refusals)
    )


def _refusal(activity: Activity, catalog: AsmCatalog, serial: str) -> str | None:
    if serial not in catalog.devices:
        return "device is not in this organisation"
    if (
        activity.activity_type is ActivityType.UNASSIGN_DEVICES
        and catalog.assignment.get(serial) != activity.server_id
    ):
        return "device is not assigned to this MDM server"
    return None
