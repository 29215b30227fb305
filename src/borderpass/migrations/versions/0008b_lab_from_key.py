"""a test result's laboratory is the source that sent it

Revision ID: 0008b
Revises: 0007
Create Date: 2026-11-28 09:00:00.000000

Until now the ``lab`` column of ``test_results`` held whatever the batch wrote there, so
one laboratory's key could file results under another's name. From now on ingestion
writes the sending source's name; this sets the rows already on file the same way, so
that each names the source whose key sent it (``source_id``, unchanged) and a batch sent
again still matches what is on file. Specimen ids stay unique per source
(``uq_test_results_specimen`` on ``source_id, specimen_id``): another laboratory's
result with the same specimen id is a record of its own.

The names the batches wrote are not kept, so there is nothing to restore on downgrade.
"""

from __future__ import annotations

from alembic import op

revision = "0008b"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE test_results SET lab = (SELECT s.name FROM evidence_sources s "
        "WHERE s.id = test_results.source_id) "
        "WHERE lab <> (SELECT s.name FROM evidence_sources s "
        "WHERE s.id = test_results.source_id)"
    )


def downgrade() -> None:
    pass
