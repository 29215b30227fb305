"""The migration to levels of identity assurance keeps every account and every row that
refers to one (SQLite rebuilds the table of people), proves the accounts a help desk
activated, detaches evidence from the others, and lets a document have several accounts
but one proven holder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import NOW, database_url, is_postgres

_PERSON = (
    "INSERT INTO people (id, doc_kind, doc_index, doc_number_sealed, doc_masked, "
    "doc_issued_on, name_zh_sealed, name_en_sealed, initials, phone_sealed, address_sealed, "
    "address_index, locale, status, created_at, activated_at{more}) VALUES (:id, 'hkid', "
    ":doc, :sealed, 'A1*****(3)', '2015-01-01', :sealed, :sealed, 'CTM', :sealed, :sealed, "
    "'addr', 'en', :status, :at, :at{values})"
)


@pytest.fixture()
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """A database of the suite's kind with nothing in it, for migrating step by step."""
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'assurance.sqlite3'}"
        return
    from tests.databases import worker_database

    url = worker_database(database_url(), f"assurance_{uuid.uuid4().hex[:8]}")
    yield url
    admin = create_engine(database_url().rsplit("/", 1)[0] + "/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        name = url.rsplit("/", 1)[1]
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _id(engine: object, value: uuid.UUID) -> object:
    """A uuid as the dialect's bound parameter wants it in plain SQL."""
    return value.hex if "sqlite" in str(getattr(engine, "url", "")) else value


def test_the_migration_keeps_accounts_and_their_rows(fresh_url: str) -> None:
    from borderpass.kit.db import engine_for
    from borderpass.migrations import upgrade

    upgrade(fresh_url, "0007")
    engine = engine_for(fresh_url)
    desk, online = uuid.uuid4(), uuid.uuid4()
    source = uuid.uuid4()
    with engine.begin() as connection:
        for person, doc in ((desk, "d" * 64), (online, "o" * 64)):
            connection.execute(text(_PERSON.format(more="", values="")), {
                "id": _id(engine, person), "doc": doc, "sealed": b"x", "status": "active",
                "at": NOW})
            connection.execute(text(
                "INSERT INTO proof_documents (id, person_id, media_type, size, content_sealed, "
                "uploaded_at) VALUES (:id, :person, 'application/pdf', 1, :sealed, :at)"),
                {"id": _id(engine, uuid.uuid4()), "person": _id(engine, person),
                 "sealed": b"x", "at": NOW})
            connection.execute(text(
                "INSERT INTO registrations (id, started_at, expires_at, state, person_id, "
                "helped_by) VALUES (:id, :at, :at, 'activated', :person, :helper)"),
                {"id": _id(engine, uuid.uuid4()), "at": NOW, "person": _id(engine, person),
                 "helper": _id(engine, uuid.uuid4()) if person == desk else None})
        connection.execute(text(
            "INSERT INTO evidence_sources (id, name, kind, created_at) "
            "VALUES (:id, 'Lab', 'lab', :at)"), {"id": _id(engine, source), "at": NOW})
        for person, doc, specimen in ((desk, "d" * 64, "S-DESK"), (online, "o" * 64, "S-WEB")):
            connection.execute(text(
                "INSERT INTO test_results (source_id, specimen_id, doc_kind, doc_index, "
                "person_id, collected_at, reported_at, method, result, lab, batch_id) VALUES "
                "(:source, :specimen, 'hkid', :doc, :person, :at, :at, 'PCR', 'positive', "
                "'Lab', :batch)"),
                {"source": _id(engine, source), "specimen": specimen, "doc": doc,
                 "person": _id(engine, person), "at": NOW - timedelta(hours=3),
                 "batch": _id(engine, uuid.uuid4())})
    engine.dispose()

    upgrade(fresh_url)
    engine = engine_for(fresh_url)
    with engine.connect() as connection:
        levels = dict(connection.execute(text(
            "SELECT doc_index, assurance FROM people")).all())
        assert levels == {"d" * 64: "proven", "o" * 64: "claimed"}
        attached = dict(connection.execute(text(
            "SELECT specimen_id, person_id IS NOT NULL FROM test_results")).all())
        assert attached == {"S-DESK": True, "S-WEB": False}
        assert connection.execute(text("SELECT COUNT(*) FROM proof_documents")).scalar() == 2
        assert connection.execute(text(
            "SELECT COUNT(*) FROM registrations WHERE person_id IS NOT NULL")).scalar() == 2
    with engine.begin() as connection:
        # A second, claimed account of the proven holder's document is allowed ...
        connection.execute(text(_PERSON.format(more=", assurance", values=", 'claimed'")), {
            "id": _id(engine, uuid.uuid4()), "doc": "d" * 64, "sealed": b"x",
            "status": "active", "at": NOW})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        # ... a second proven holder is not.
        connection.execute(text(_PERSON.format(more=", assurance", values=", 'proven'")), {
            "id": _id(engine, uuid.uuid4()), "doc": "d" * 64, "sealed": b"x",
            "status": "active", "at": NOW})
    engine.dispose()
