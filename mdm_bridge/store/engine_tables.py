"""What the reconcile loop keeps: observations, the outbox, runs, curfew nights, the lease.

The outbox is the durable hand-over between planning and sending (DESIGN.md §3): a row is
queued in the same transaction as its run, claimed under a lease by one worker, and finished
with the MDM's answer. Only one unfinished row may exist per idempotency key (a partial unique
index, on both databases), so the same change for the same target is never queued twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Integer, text
from sqlmodel import Field, SQLModel

from mdm_bridge.store.tables import foreign_key, instant

OUTBOX_STATUSES = ("queued", "claimed", "sent", "failed", "refused", "superseded")
OPEN_STATUSES = ("queued", "claimed")
CURFEW_OUTCOMES = ("on_time", "late", "never", "not_applicable")
OPEN_SQL = "status IN ('queued', 'claimed')"


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class ObservationRow(SQLModel, table=True):
    """The latest thing the MDM said about one iPad, and when."""

    __tablename__ = "device_observations"

    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    )
    observed_at: datetime = Field(sa_column=instant())
    supervised: bool
    lock: str = Field(max_length=10)
    profiles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    pending: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    last_check_in: datetime | None = Field(default=None, sa_column=instant(nullable=True))


class ReconcileRun(SQLModel, table=True):
    __tablename__ = "reconcile_runs"

    id: int | None = Field(default=None, primary_key=True)
    trigger: str = Field(max_length=100)
    started_at: datetime = Field(sa_column=instant())
    finished_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))
    status: str = Field(default="running", max_length=20)
    devices: int = 0
    converged: int = 0
    queued: int = 0
    superseded: int = 0
    sent: int = 0
    accepted: int = 0
    pending: int = 0
    failed: int = 0
    refused: int = 0
    blocked: int = 0
    errors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(OUTBOX_STATUSES)})", name="status"),
        Index(
            "uq_outbox_open_key",
            "idempotency_key",
            unique=True,
            sqlite_where=text(OPEN_SQL),
            postgresql_where=text(OPEN_SQL),
        ),
        Index("ix_outbox_claimable", "mdm_instance_id", "status", "available_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(
        default=None,
        sa_column=foreign_key("reconcile_runs.id", on_delete="SET NULL", nullable=True),
    )
    mdm_instance_id: int = Field(sa_column=foreign_key("mdm_instances.id", on_delete="CASCADE"))
    device_id: int = Field(sa_column=foreign_key("devices.id", on_delete="CASCADE"))
    idempotency_key: str = Field(max_length=300)
    kind: str = Field(max_length=20)
    profile_identifier: str | None = Field(default=None, max_length=200)
    target_hash: str = Field(max_length=64)
    reason: str = Field(max_length=500)
    # The action itself (lock intent, profile reference and document), to rebuild it exactly.
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="queued", max_length=20)
    attempts: int = 0
    created_at: datetime = Field(sa_column=instant())
    available_at: datetime = Field(sa_column=instant())
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))
    outcome: str | None = Field(default=None, max_length=20)
    detail: str = Field(default="", max_length=1000)
    vendor_reference: str | None = Field(default=None, max_length=100)


class CurfewNight(SQLModel, table=True):
    """How one iPad's curfew went on one night: locked on time, late, or never (and why)."""

    __tablename__ = "curfew_nights"
    __table_args__ = (CheckConstraint(f"outcome IN ({_in(CURFEW_OUTCOMES)})", name="outcome"),)

    device_id: int = Field(
        sa_column=Column(Integer, ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    )
    night: date = Field(primary_key=True)  # the school-local date the curfew started on
    starts_at: datetime = Field(sa_column=instant())
    ends_at: datetime = Field(sa_column=instant())
    outcome: str = Field(max_length=20)
    reason: str = Field(default="", max_length=200)
    locked_seen_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))
    updated_at: datetime = Field(sa_column=instant())


class SchedulerLease(SQLModel, table=True):
    """One row per lease name; whoever holds an unexpired lease runs the scheduler."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=50)
    holder: str = Field(max_length=100)
    acquired_at: datetime = Field(sa_column=instant())
    expires_at: datetime = Field(sa_column=instant())
