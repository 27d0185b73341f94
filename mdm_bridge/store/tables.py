"""The first tables: who the school is, which MDMs it has, its groups, pupils and iPads.

`records.py` adds what people record (agreements, bans, exemptions, holds) and `engine_tables.py`
what the reconcile loop keeps (observations, outbox, runs, curfew nights, the scheduler lease).
Every instant is stored in UTC through `UtcDateTime`; creation times are passed in from the
injected clock, never defaulted from the wall clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, MetaData, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from mdm_bridge.model import Vendor
from mdm_bridge.store.types import UtcDateTime

# Stable constraint names, so migrations can drop and alter them the same way on both databases.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

GROUP_KINDS = ("class", "year_group", "key_stage", "custom")
_VENDORS_SQL = ", ".join(f"'{vendor.value}'" for vendor in Vendor)
_GROUP_KINDS_SQL = ", ".join(f"'{kind}'" for kind in GROUP_KINDS)


def instant(*, nullable: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable)


def foreign_key(target: str, *, on_delete: str, nullable: bool = False) -> Column[int]:
    return Column(Integer, ForeignKey(target, ondelete=on_delete), nullable=nullable, index=True)


class School(SQLModel, table=True):
    __tablename__ = "schools"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    timezone: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=instant())


class MdmInstance(SQLModel, table=True):
    """One connection to an MDM or to Apple School Manager; credentials stay encrypted."""

    __tablename__ = "mdm_instances"
    __table_args__ = (
        UniqueConstraint("school_id", "name"),
        CheckConstraint(f"vendor IN ({_VENDORS_SQL})", name="vendor"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(sa_column=foreign_key("schools.id", on_delete="RESTRICT"))
    name: str = Field(max_length=100)
    vendor: str = Field(max_length=32)
    base_url: str = Field(max_length=500)
    credentials_encrypted: str | None = Field(default=None)
    enabled: bool = Field(default=True)
    created_at: datetime = Field(sa_column=instant())


class SchoolGroup(SQLModel, table=True):
    """A class, year group or key stage; policies are assigned to these."""

    __tablename__ = "groups"
    __table_args__ = (
        UniqueConstraint("school_id", "kind", "name"),
        CheckConstraint(f"kind IN ({_GROUP_KINDS_SQL})", name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(sa_column=foreign_key("schools.id", on_delete="RESTRICT"))
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    external_ref: str | None = Field(default=None, max_length=100)


class Pupil(SQLModel, table=True):
    """A pupil, by the school's pseudonymous reference; bans follow the pupil, not the iPad."""

    __tablename__ = "pupils"
    __table_args__ = (UniqueConstraint("school_id", "reference"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(sa_column=foreign_key("schools.id", on_delete="RESTRICT"))
    reference: str = Field(max_length=64)
    display_name: str = Field(max_length=200)
    year_group: int | None = Field(default=None)
    created_at: datetime = Field(sa_column=instant())


class PupilGroup(SQLModel, table=True):
    __tablename__ = "pupil_groups"

    pupil_id: int = Field(
        sa_column=Column(Integer, ForeignKey("pupils.id", ondelete="CASCADE"), primary_key=True)
    )
    group_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


class Device(SQLModel, table=True):
    """An iPad as one MDM instance knows it, and the pupil it is assigned to."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("mdm_instance_id", "vendor_id"),)

    id: int | None = Field(default=None, primary_key=True)
    mdm_instance_id: int = Field(sa_column=foreign_key("mdm_instances.id", on_delete="CASCADE"))
    vendor_id: str = Field(max_length=64)
    serial_number: str = Field(max_length=32, index=True)
    udid: str | None = Field(default=None, max_length=64)
    management_id: str | None = Field(default=None, max_length=64)
    name: str = Field(default="", max_length=200)
    supervised: bool = Field(default=False)
    # The school lets this iPad go home (1:1); class sets that stay in school never do.
    takes_home: bool = Field(default=False)
    pupil_id: int | None = Field(
        sa_column=foreign_key("pupils.id", on_delete="SET NULL", nullable=True), default=None
    )
    last_check_in_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))
    last_observed_at: datetime | None = Field(default=None, sa_column=instant(nullable=True))
    created_at: datetime = Field(sa_column=instant())
