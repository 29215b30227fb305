"""partners: their lists, their revocations, codes converted from theirs, the relationship

Revision ID: 0009p
Revises: 0007
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009p"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_lists",
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("anchor", sa.String(length=16), nullable=False),
        sa.Column("trust_list", sa.Text(), nullable=False),
        sa.Column("trust_issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revocations_issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revocations_max_age", sa.Integer(), nullable=False),
        sa.Column("revocations_through", sa.BigInteger(), nullable=False),
        sa.Column("rule_set", sa.Text(), nullable=True),
        sa.Column("rule_set_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("site_url", sa.String(length=300), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jurisdiction", name=op.f("pk_partner_lists")),
    )
    op.create_table(
        "partner_revocations",
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("code_hash", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction"], ["partner_lists.jurisdiction"],
            name=op.f("fk_partner_revocations_jurisdiction_partner_lists"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jurisdiction", "code_hash", name=op.f("pk_partner_revocations")),
    )
    with op.batch_alter_table("partner_revocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_revocations_expires_at"), ["expires_at"],
                              unique=False)
    op.create_table(
        "converted_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=32), nullable=False),
        sa.Column("original_issuer", sa.String(length=8), nullable=False),
        sa.Column("original_hash", sa.String(length=32), nullable=False),
        sa.Column("colour", sa.String(length=8), nullable=False),
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_converted_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_converted_codes_code_hash")),
    )
    with op.batch_alter_table("converted_codes", schema=None) as batch_op:
        batch_op.create_index("ix_converted_codes_original", ["original_issuer", "original_hash"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_converted_codes_valid_until"), ["valid_until"],
                              unique=False)
    op.create_table(
        "crossing_partners",
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("site_url", sa.String(length=300), nullable=True),
        sa.Column("anchor", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_result", sa.String(length=32), nullable=True),
        sa.Column("last_message", sa.String(length=300), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("jurisdiction", name=op.f("pk_crossing_partners")),
    )


def downgrade() -> None:
    op.drop_table("crossing_partners")
    with op.batch_alter_table("converted_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_converted_codes_valid_until"))
        batch_op.drop_index("ix_converted_codes_original")
    op.drop_table("converted_codes")
    with op.batch_alter_table("partner_revocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_revocations_expires_at"))
    op.drop_table("partner_revocations")
    op.drop_table("partner_lists")
