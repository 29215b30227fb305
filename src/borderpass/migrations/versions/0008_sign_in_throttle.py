"""sign-in throttling: failures over a sliding window, and locked accounts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_failures_key", ["scope", "key", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_failures_at"), ["at"], unique=False)
    op.create_table(
        "sign_in_locks",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_sign_in_locks")),
    )
    with op.batch_alter_table("sign_in_locks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_locks_locked_at"), ["locked_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_locks_locked_at"))
    op.drop_table("sign_in_locks")
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_at"))
        batch_op.drop_index("ix_sign_in_failures_key")
    op.drop_table("sign_in_failures")
