"""secrets stay secret: PINs made at delivery, server-side web sessions

Revision ID: 0008c
Revises: 0007
Create Date: 2026-11-30 10:00:00.000000

- ``outbox.secret_ref``: a message that carries a secret is queued as a template naming
  the record its secret belongs to; the secret is made at delivery and never stored.
  The bodies already queued or sent with a PIN in them are blanked: an unsent one is
  dropped (its resident asks for a new PIN), a sent one keeps its text without the PIN.
- ``activation_pins.pin_hash`` may be empty: a PIN asked for and not yet delivered.
- ``web_sessions``: the site's sessions, keyed by the SHA-256 of the random id that is
  all the cookie holds; the data is sealed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008c"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_ref", sa.String(length=64), nullable=True))
    # PINs written into bodies before now leave the table. An unsent one is marked done:
    # its resident asks for a new PIN.
    op.execute("UPDATE outbox SET body = '(activation PIN removed)', "
               "sent_at = COALESCE(sent_at, created_at) WHERE purpose = 'activation_pin'")
    with op.batch_alter_table("activation_pins", schema=None) as batch_op:
        batch_op.alter_column("pin_hash", existing_type=sa.String(length=200), nullable=True)

    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("data_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_expires_at"), ["expires_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_expires_at"))
    op.drop_table("web_sessions")
    # Templates would go out with their placeholder: mark them done, and drop the PINs
    # that were never made.
    op.execute("UPDATE outbox SET sent_at = COALESCE(sent_at, created_at) "
               "WHERE secret_ref IS NOT NULL")
    op.execute("DELETE FROM activation_pins WHERE pin_hash IS NULL")
    with op.batch_alter_table("activation_pins", schema=None) as batch_op:
        batch_op.alter_column("pin_hash", existing_type=sa.String(length=200), nullable=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("secret_ref")
