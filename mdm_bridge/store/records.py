"""What staff record about pupils and iPads: home-use agreements, bans, exemptions and holds.

Rows mirror the frozen values of `policies` (Ban, Exemption, HomeUseAgreement, DeviceHold);
`mdm_bridge.store.repository` converts between them. Nothing here is
deleted: a ban is lifted, an exemption expires, a hold is released, each with who and why.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from mdm_bridge.store.tables import foreign_key, instant


class HomeUseAgreementRow(SQLModel, table=True):
    """Both parts must be on record for the academic year before an iPad counts as home-use."""

    __tablename__ = "home_use_agreements"
    __table_args__ = (UniqueConstraint("pupil_id", "academic_year"),)

    id: int | None = Field(default=None, primary_key=True)
    pupil_id: int = Field(sa_column=foreign_key("pupils.id", on_delete="CASCADE"))
    academic_year: str = Field(max_length=7)  # "2026-27"
    parent_meeting_on: date | None = Field(default=None)
    declaration_signed_on: date | None = Field(default=None)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(sa_column=instant())


class BanRow(SQLModel, table=True):
    __tablename__ = "bans"

    id: int | None = Field(default=None, primary_key=True)
    pupil_id: int = Field(sa_column=foreign_key("pupils.id", on_delete="RESTRICT"))
    level: int
    reason: str = Field(max_length=500)
    category: str = Field(max_length=100)
    notes: str = Field(default="", max_length=2000)
    issued_by: str = Field(max_length=100)
    issued_at: datetime = Field(sa_column=instant())
    starts_at: datetime = Field(sa_column=instant())
    ends_at: datetime = Field(sa_column=instant())
    approved_by: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))
    lifted_by: str | None = Field(default=None, max_length=100)
    lifted_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))
    lift_reason: str | None = Field(default=None, max_length=500)


class ExemptionRow(SQLModel, table=True):
    __tablename__ = "exemptions"
    __table_args__ = (CheckConstraint("kind IN ('web_allow', 'curfew')", name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(sa_column=foreign_key("schools.id", on_delete="RESTRICT"))
    kind: str = Field(max_length=20)
    group_name: str | None = Field(default=None, max_length=100)
    pupil_id: int | None = Field(
        default=None, sa_column=foreign_key("pupils.id", on_delete="RESTRICT", nullable=True)
    )
    domains: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=500)
    requested_by: str = Field(max_length=100)
    requested_at: datetime = Field(sa_column=instant())
    starts_at: datetime = Field(sa_column=instant())
    ends_at: datetime = Field(sa_column=instant())
    approved_by: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))


class DeviceHoldRow(SQLModel, table=True):
    """A lock for inspection or an evidence hold on one iPad (locked, never wiped)."""

    __tablename__ = "device_holds"
    __table_args__ = (CheckConstraint("kind IN ('inspection', 'evidence_hold')", name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(sa_column=foreign_key("devices.id", on_delete="RESTRICT"))
    kind: str = Field(max_length=20)
    reason: str = Field(max_length=500)
    placed_by: str = Field(max_length=100)
    placed_at: datetime = Field(sa_column=instant())
    released_by: str | None = Field(default=None, max_length=100)
    released_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))
    release_reason: str | None = Field(default=None, max_length=500)
