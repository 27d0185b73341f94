"""Schools, MDM instances, groups, pupils and devices: the first tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mdm_bridge.store.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", mdm_bridge.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
        sa.UniqueConstraint("name", name=op.f("uq_schools_name")),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "kind IN ('class', 'year_group', 'key_stage', 'custom')", name=op.f("ck_groups_kind")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_groups_school_id_schools"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint(
            "school_id", "kind", "name", name=op.f("uq_groups_school_id_kind_name")
        ),
    )
    op.create_index(op.f("ix_groups_school_id"), "groups", ["school_id"])

    op.create_table(
        "mdm_instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("vendor", sa.String(length=32), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("credentials_encrypted", sa.String(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", mdm_bridge.store.types.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "vendor IN ('jamf_pro', 'jamf_school', 'apple_school_manager')",
            name=op.f("ck_mdm_instances_vendor"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_mdm_instances_school_id_schools"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mdm_instances")),
        sa.UniqueConstraint("school_id", "name", name=op.f("uq_mdm_instances_school_id_name")),
    )
    op.create_index(op.f("ix_mdm_instances_school_id"), "mdm_instances", ["school_id"])

    op.create_table(
        "pupils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", mdm_bridge.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_pupils_school_id_schools"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pupils")),
        sa.UniqueConstraint("school_id", "reference", name=op.f("uq_pupils_school_id_reference")),
    )
    op.create_index(op.f("ix_pupils_school_id"), "pupils", ["school_id"])

    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mdm_instance_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("serial_number", sa.String(length=32), nullable=False),
        sa.Column("udid", sa.String(length=64), nullable=True),
        sa.Column("management_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=True),
        sa.Column("last_check_in_at", mdm_bridge.store.types.UtcDateTime(), nullable=True),
        sa.Column("last_observed_at", mdm_bridge.store.types.UtcDateTime(), nullable=True),
        sa.Column("created_at", mdm_bridge.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mdm_instance_id"],
            ["mdm_instances.id"],
            name=op.f("fk_devices_mdm_instance_id_mdm_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_devices_pupil_id_pupils"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint(
            "mdm_instance_id", "vendor_id", name=op.f("uq_devices_mdm_instance_id_vendor_id")
        ),
    )
    op.create_index(op.f("ix_devices_mdm_instance_id"), "devices", ["mdm_instance_id"])
    op.create_index(op.f("ix_devices_pupil_id"), "devices", ["pupil_id"])
    op.create_index(op.f("ix_devices_serial_number"), "devices", ["serial_number"])

    op.create_table(
        "pupil_groups",
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_pupil_groups_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_pupil_groups_pupil_id_pupils"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pupil_id", "group_id", name=op.f("pk_pupil_groups")),
    )
    op.create_index(op.f("ix_pupil_groups_group_id"), "pupil_groups", ["group_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pupil_groups_group_id"), table_name="pupil_groups")

    op.drop_table("pupil_groups")
    op.drop_index(op.f("ix_devices_serial_number"), table_name="devices")
    op.drop_index(op.f("ix_devices_pupil_id"), table_name="devices")
    op.drop_index(op.f("ix_devices_mdm_instance_id"), table_name="devices")

    op.drop_table("devices")
    op.drop_index(op.f("ix_pupils_school_id"), table_name="pupils")

    op.drop_table("pupils")
    op.drop_index(op.f("ix_mdm_instances_school_id"), table_name="mdm_instances")

    op.drop_table("mdm_instances")
    op.drop_index(op.f("ix_groups_school_id"), table_name="groups")

    op.drop_table("groups")
    op.drop_table("schools")
