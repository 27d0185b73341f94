"""People records (agreements, bans, exemptions, holds) and the reconcile loop's tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:07:53.396515
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mdm_bridge.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("acquired_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "reconcile_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=100), nullable=False),
        sa.Column("started_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("converged", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("superseded", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconcile_runs")),
    )
    op.create_table(
        "bans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("starts_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("approved_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=100), nullable=True),
        sa.Column("lifted_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("lift_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_bans_pupil_id_pupils"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bans")),
    )
    with op.batch_alter_table("bans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bans_pupil_id"), ["pupil_id"], unique=False)

    op.create_table(
        "exemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=True),
        sa.Column("pupil_id", sa.Integer(), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column(
            "requested_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("starts_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("approved_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('web_allow', 'curfew')", name=op.f("ck_exemptions_kind")),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_exemptions_pupil_id_pupils"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_exemptions_school_id_schools"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exemptions")),
    )
    with op.batch_alter_table("exemptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exemptions_pupil_id"), ["pupil_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exemptions_school_id"), ["school_id"], unique=False)

    op.create_table(
        "home_use_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("academic_year", sa.String(length=7), nullable=False),
        sa.Column("parent_meeting_on", sa.Date(), nullable=True),
        sa.Column("declaration_signed_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_home_use_agreements_pupil_id_pupils"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_use_agreements")),
        sa.UniqueConstraint(
            "pupil_id", "academic_year", name=op.f("uq_home_use_agreements_pupil_id_academic_year")
        ),
    )
    with op.batch_alter_table("home_use_agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_home_use_agreements_pupil_id"), ["pupil_id"], unique=False
        )

    op.create_table(
        "curfew_nights",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("starts_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column(
            "locked_seen_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("updated_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('on_time', 'late', 'never', 'not_applicable')",
            name=op.f("ck_curfew_nights_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_curfew_nights_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", "night", name=op.f("pk_curfew_nights")),
    )
    op.create_table(
        "device_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("placed_by", sa.String(length=100), nullable=False),
        sa.Column("placed_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=100), nullable=True),
        sa.Column("released_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "kind IN ('inspection', 'evidence_hold')", name=op.f("ck_device_holds_kind")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_holds_device_id_devices"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_holds")),
    )
    with op.batch_alter_table("device_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_holds_device_id"), ["device_id"], unique=False)

    op.create_table(
        "device_observations",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("observed_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("lock", sa.String(length=10), nullable=False),
        sa.Column("profiles", sa.JSON(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column(
            "last_check_in", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_observations_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_observations")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("mdm_instance_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("profile_identifier", sa.String(length=200), nullable=True),
        sa.Column("target_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "available_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column(
            "lease_expires_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("finished_at", mdm_bridge.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("vendor_reference", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'claimed', 'sent', 'failed', 'refused', 'superseded')",
            name=op.f("ck_outbox_status"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_outbox_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mdm_instance_id"],
            ["mdm_instances.id"],
            name=op.f("fk_outbox_mdm_instance_id_mdm_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconcile_runs.id"],
            name=op.f("fk_outbox_run_id_reconcile_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_claimable", ["mdm_instance_id", "status", "available_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbox_device_id"), ["device_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_mdm_instance_id"), ["mdm_instance_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbox_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            "uq_outbox_open_key",
            ["idempotency_key"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'claimed')"),
            postgresql_where=sa.text("status IN ('queued', 'claimed')"),
        )

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("takes_home", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("pupils", schema=None) as batch_op:
        batch_op.add_column(sa.Column("year_group", sa.Integer(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("pupils", schema=None) as batch_op:
        batch_op.drop_column("year_group")

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("takes_home")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_outbox_open_key",
            sqlite_where=sa.text("status IN ('queued', 'claimed')"),
            postgresql_where=sa.text("status IN ('queued', 'claimed')"),
        )
        batch_op.drop_index(batch_op.f("ix_outbox_run_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_mdm_instance_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_device_id"))
        batch_op.drop_index("ix_outbox_claimable")

    op.drop_table("outbox")
    op.drop_table("device_observations")
    with op.batch_alter_table("device_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_holds_device_id"))

    op.drop_table("device_holds")
    op.drop_table("curfew_nights")
    with op.batch_alter_table("home_use_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_home_use_agreements_pupil_id"))

    op.drop_table("home_use_agreements")
    with op.batch_alter_table("exemptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exemptions_school_id"))
        batch_op.drop_index(batch_op.f("ix_exemptions_pupil_id"))

    op.drop_table("exemptions")
    with op.batch_alter_table("bans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bans_pupil_id"))

    op.drop_table("bans")
    op.drop_table("reconcile_runs")
    op.drop_table("leases")
