"""when a person's saved status may stand in for evaluating it again

Revision ID: 0012s
Revises: 0002
Create Date: 2026-11-30 15:40:00.000000

``fresh_until``: until when the saved status holds with no new evidence (its own
``changes_at``, or earlier when the facts it was evaluated from change with the clock);
NULL while it is not known to hold (a re-evaluation is due). ``basis``: what the
evaluation rested on besides the person's own evidence (the rule set's digest and the
version of the high-risk areas). Existing rows get NULL: each is evaluated again once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012s"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_statuses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fresh_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("basis", sa.String(length=160), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person_statuses", schema=None) as batch_op:
        batch_op.drop_column("basis")
        batch_op.drop_column("fresh_until")
