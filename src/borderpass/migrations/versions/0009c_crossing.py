"""crossing: control points, crossing policies, quarantine-free quotas, bookings, decisions

Revision ID: 0009c
Revises: 0007
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009c"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crossing_control_points",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name_zh_hant", sa.String(length=120), nullable=False),
        sa.Column("name_zh_hans", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossing_control_points")),
        sa.UniqueConstraint("code", name=op.f("uq_crossing_control_points_code")),
    )
    op.create_table(
        "crossing_policies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossing_policies")),
        sa.UniqueConstraint("identifier", "version", name="uq_crossing_policies_version"),
    )
    with op.batch_alter_table("crossing_policies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crossing_policies_jurisdiction"), ["jurisdiction"],
                              unique=False)

    op.create_table(
        "crossing_quotas",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("control_point_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("published_by", sa.Uuid(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity",
                           name=op.f("ck_crossing_quotas_booked_within_capacity")),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_crossing_quotas_capacity_not_negative")),
        sa.ForeignKeyConstraint(
            ["control_point_id"], ["crossing_control_points.id"],
            name=op.f("fk_crossing_quotas_control_point_id_crossing_control_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossing_quotas")),
        sa.UniqueConstraint("control_point_id", "day", name="uq_crossing_quotas_day"),
    )
    with op.batch_alter_table("crossing_quotas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crossing_quotas_control_point_id"),
                              ["control_point_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crossing_quotas_day"), ["day"], unique=False)

    op.create_table(
        "crossing_bookings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("quota_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("holder_day", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"],
            name=op.f("fk_crossing_bookings_person_id_people"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quota_id"], ["crossing_quotas.id"],
            name=op.f("fk_crossing_bookings_quota_id_crossing_quotas"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossing_bookings")),
        sa.UniqueConstraint("holder_day", name=op.f("uq_crossing_bookings_holder_day")),
        sa.UniqueConstraint("reference", name=op.f("uq_crossing_bookings_reference")),
    )
    with op.batch_alter_table("crossing_bookings", schema=None) as batch_op:
        batch_op.create_index("ix_crossing_bookings_person", ["person_id", "status"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_crossing_bookings_quota_id"), ["quota_id"],
                              unique=False)

    op.create_table(
        "crossing_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("control_point", sa.String(length=8), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("judged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_role", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("policy", sa.String(length=96), nullable=False),
        sa.Column("policy_digest", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("document_kind", sa.String(length=16), nullable=False),
        sa.Column("document_index", sa.String(length=64), nullable=False),
        sa.Column("code_issuer", sa.String(length=8), nullable=True),
        sa.Column("code_result", sa.String(length=16), nullable=False),
        sa.Column("endorsement", sa.String(length=20), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("quarantine_place", sa.String(length=16), nullable=True),
        sa.Column("quarantine_ends_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["crossing_bookings.id"],
            name=op.f("fk_crossing_decisions_booking_id_crossing_bookings"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossing_decisions")),
    )
    with op.batch_alter_table("crossing_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_crossing_decisions_place", ["control_point", "decided_at"],
                              unique=False)
        batch_op.create_index("ix_crossing_decisions_endorsement", ["endorsement"],
                              unique=False)
        batch_op.create_index("ix_crossing_decisions_quarantine",
                              ["quarantine_place", "quarantine_ends_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_crossing_decisions_document_index"),
                              ["document_index"], unique=False)


def downgrade() -> None:
    op.drop_table("crossing_decisions")
    op.drop_table("crossing_bookings")
    op.drop_table("crossing_quotas")
    op.drop_table("crossing_policies")
    op.drop_table("crossing_control_points")
