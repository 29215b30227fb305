"""reevaluation runs and their chunks, taken by workers under a lease

Revision ID: 0011r
Revises: 0009p
Create Date: 2026-11-30 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011r"
down_revision = "0009p"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reevaluation_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reevaluation_runs")),
    )
    op.create_table(
        "reevaluation_chunks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("low", sa.Uuid(), nullable=True),
        sa.Column("high", sa.Uuid(), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("green", sa.Integer(), nullable=True),
        sa.Column("amber", sa.Integer(), nullable=True),
        sa.Column("red", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["reevaluation_runs.id"],
            name=op.f("fk_reevaluation_chunks_run_id_reevaluation_runs"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reevaluation_chunks")),
    )
    op.create_index("ix_reevaluation_chunks_run_id_state", "reevaluation_chunks",
                    ["run_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reevaluation_chunks_run_id_state", table_name="reevaluation_chunks")
    op.drop_table("reevaluation_chunks")
    op.drop_table("reevaluation_runs")
