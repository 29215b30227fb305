"""levels of identity assurance; no silent takeover of a document

Revision ID: 0008d
Revises: 0007
Create Date: 2026-11-28 10:00:00.000000

An account is now ``claimed`` (a typed number and an SMS PIN) or ``proven`` (the card's
chip and a live face, a help desk, or the issuing registry and a letter). A document
may have several claimed accounts but at most one active proven holder, so the unique
constraint on the document becomes a partial unique index over proven active holders.

Existing accounts activated by an officer at a help desk become proven; the others are
claimed, and the laboratory, registry and officers' evidence attached to them is
detached again (it stays on file by document and attaches when the holder proves who
they are). The tables added hold the issuing registries and their records, the letters
that carry a proof PIN, the proof attempts and the cases an officer reviews.

On SQLite, dropping the constraint rebuilds ``people``; the migration environment turns
foreign keys off for that and checks them afterwards.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008d"
down_revision = "0007"
branch_labels = None
depends_on = None

_PROVEN_HOLDER = "status = 'active' AND assurance = 'proven'"
_EVIDENCE = ("test_results", "vaccinations", "health_flags", "travel_records")


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assurance", sa.String(length=16), nullable=False,
                                      server_default="claimed"))
        batch_op.add_column(sa.Column("proven_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("proof_method", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("proven_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("suspended_reason", sa.String(length=200),
                                      nullable=True))
        batch_op.drop_constraint("uq_people_document", type_="unique")
        batch_op.create_index("ix_people_document", ["doc_kind", "doc_index"], unique=False)
    op.create_index("uq_people_proven_holder", "people", ["doc_kind", "doc_index"],
                    unique=True, sqlite_where=sa.text(_PROVEN_HOLDER),
                    postgresql_where=sa.text(_PROVEN_HOLDER))

    # Accounts an officer activated at a help desk were checked in person: proven.
    op.execute(
        "UPDATE people SET assurance = 'proven', proof_method = 'help_desk', "
        "proven_at = activated_at, "
        "proven_by = (SELECT r.helped_by FROM registrations r WHERE r.person_id = people.id "
        "AND r.helped_by IS NOT NULL ORDER BY r.started_at DESC LIMIT 1) "
        "WHERE status = 'active' AND EXISTS (SELECT 1 FROM registrations r "
        "WHERE r.person_id = people.id AND r.helped_by IS NOT NULL)"
    )
    # Evidence from sources and officers is for proven holders only.
    for table in _EVIDENCE:
        op.execute(
            f"UPDATE {table} SET person_id = NULL WHERE person_id IN "  # noqa: S608 - constant names
            "(SELECT id FROM people WHERE assurance <> 'proven')"
        )

    op.create_table(
        "document_registries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("doc_kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_registries")),
        sa.UniqueConstraint("name", name=op.f("uq_document_registries_name")),
    )
    op.create_table(
        "document_registry_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("registry_id", sa.Uuid(), nullable=False),
        sa.Column("doc_kind", sa.String(length=16), nullable=False),
        sa.Column("doc_index", sa.String(length=64), nullable=False),
        sa.Column("name_en_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("born_on", sa.Date(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("address_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registry_id"], ["document_registries.id"],
            name=op.f("fk_document_registry_records_registry_id_document_registries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_registry_records")),
        sa.UniqueConstraint("doc_kind", "doc_index",
                            name="uq_document_registry_records_document"),
    )
    op.create_index(op.f("ix_document_registry_records_registry_id"),
                    "document_registry_records", ["registry_id"], unique=False)
    op.create_table(
        "identity_proof_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"],
            name=op.f("fk_identity_proof_attempts_person_id_people"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_proof_attempts")),
    )
    op.create_index(op.f("ix_identity_proof_attempts_person_id"), "identity_proof_attempts",
                    ["person_id"], unique=False)
    op.create_table(
        "identity_proof_letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"],
            name=op.f("fk_identity_proof_letters_person_id_people"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_proof_letters")),
    )
    op.create_index(op.f("ix_identity_proof_letters_person_id"), "identity_proof_letters",
                    ["person_id"], unique=False)
    op.create_table(
        "identity_cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("doc_kind", sa.String(length=16), nullable=False),
        sa.Column("doc_masked", sa.String(length=32), nullable=False),
        sa.Column("suspended_person_id", sa.Uuid(), nullable=True),
        sa.Column("proven_person_id", sa.Uuid(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["suspended_person_id"], ["people.id"],
            name=op.f("fk_identity_cases_suspended_person_id_people"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proven_person_id"], ["people.id"],
            name=op.f("fk_identity_cases_proven_person_id_people"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_cases")),
    )
    op.create_index(op.f("ix_identity_cases_suspended_person_id"), "identity_cases",
                    ["suspended_person_id"], unique=False)
    op.create_index(op.f("ix_identity_cases_proven_person_id"), "identity_cases",
                    ["proven_person_id"], unique=False)
    op.create_index(op.f("ix_identity_cases_opened_at"), "identity_cases", ["opened_at"],
                    unique=False)


def downgrade() -> None:
    # Only one account per document again: refuse rather than choose whose to delete.
    shared = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM (SELECT doc_kind, doc_index FROM people "
        "GROUP BY doc_kind, doc_index HAVING COUNT(*) > 1) AS shared")).scalar()
    if shared:
        raise RuntimeError(f"{shared} document(s) have more than one account; delete the "
                           "suspended and surplus accounts before downgrading")
    op.drop_table("identity_cases")
    op.drop_table("identity_proof_letters")
    op.drop_table("identity_proof_attempts")
    op.drop_table("document_registry_records")
    op.drop_table("document_registries")
    op.drop_index("uq_people_proven_holder", table_name="people")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("ix_people_document")
        batch_op.create_unique_constraint("uq_people_document", ["doc_kind", "doc_index"])
        batch_op.drop_column("suspended_reason")
        batch_op.drop_column("suspended_at")
        batch_op.drop_column("proven_by")
        batch_op.drop_column("proof_method")
        batch_op.drop_column("proven_at")
        batch_op.drop_column("assurance")
