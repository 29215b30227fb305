"""guardians' consents to minors' e-Channel enrolments

Revision ID: 0010g
Revises: 0008d
Create Date: 2026-11-30 12:20:00.000000

A person aged 11 to 17 who enrols in the app names a guardian by HKID number; the
enrolment waits (status ``pending_guardian``) until the proven holder of that number
signs in and approves it, stating the relationship, within 7 days. The table keeps each
request and its answer: who answered, when, in which relationship, and a withdrawal.
It builds on the levels of assurance (0008d): only a proven holder can answer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010g"
down_revision = "0008d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "echannel_guardian_consents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enrolment_id", sa.Uuid(), nullable=False),
        sa.Column("guardian_index", sa.String(length=64), nullable=False),
        sa.Column("guardian_masked", sa.String(length=32), nullable=False),
        sa.Column("child_masked", sa.String(length=32), nullable=False),
        sa.Column("child_name_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("child_age", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("guardian_person_id", sa.Uuid(), nullable=True),
        sa.Column("relationship", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["echannel_enrolments.id"],
            name=op.f("fk_echannel_guardian_consents_enrolment_id_echannel_enrolments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_echannel_guardian_consents")),
    )
    with op.batch_alter_table("echannel_guardian_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_echannel_guardian_consents_enrolment_id"),
                              ["enrolment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_echannel_guardian_consents_guardian_index"),
                              ["guardian_index"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("echannel_guardian_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_echannel_guardian_consents_guardian_index"))
        batch_op.drop_index(batch_op.f("ix_echannel_guardian_consents_enrolment_id"))
    op.drop_table("echannel_guardian_consents")
