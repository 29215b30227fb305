"""evidence from uploaded check-ins

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-27 00:27:48.751327
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_checkin_facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("place_id", sa.String(length=16), nullable=False),
        sa.Column("visit_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visit_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["testing_orders.id"],
            name=op.f("fk_evidence_checkin_facts_order_id_testing_orders"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"],
            name=op.f("fk_evidence_checkin_facts_person_id_people"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_checkin_facts")),
    )
    with op.batch_alter_table("evidence_checkin_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_checkin_facts_order_id"), ["order_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_checkin_facts_person_id"), ["person_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_checkin_facts_visit_to"), ["visit_to"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_checkin_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_checkin_facts_visit_to"))
        batch_op.drop_index(batch_op.f("ix_evidence_checkin_facts_person_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_checkin_facts_order_id"))
    op.drop_table("evidence_checkin_facts")
