"""A result's laboratory is the source whose API key sent it, never what the batch says."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, inspect, select

from borderpass.evidence import service as evidence
from borderpass.evidence.models import EvidenceSource, IngestBatch, TestResult
from tests.conftest import NOW, database_url, is_postgres

HEADER = "specimen_id,document_kind,document_number,collected_at,reported_at,method,result,lab\n"
TIMES = "2026-11-25T15:00:00+08:00,2026-11-25T21:00:00+08:00"


def row(specimen: str, lab: str, number: str = "A123456(3)", result: str = "negative") -> str:
    return f"{specimen},hkid,{number},{TIMES},PCR,{result},{lab}\n"


def results(session: Any, specimen: str) -> list[TestResult]:
    return list(session.scalars(select(TestResult).where(TestResult.specimen_id == specimen)
                                .order_by(TestResult.lab)))


def test_a_row_naming_another_laboratory_is_refused_and_nothing_is_written(
    session: Any, now: Any, lab: Any
) -> None:
    source, _key = lab
    other, _ = evidence.create_source(session, "Other Lab", "lab", now=now)
    batch = (HEADER + row("L1", source.name) + row("L2", "Other Lab") + row("L3", "")
             + row("L4", "Someone Else"))
    with pytest.raises(evidence.BatchRejected) as caught:
        evidence.ingest(session, source.id, "tests", batch.encode(), "csv", now=now)
    problems = caught.value.details
    assert [(p["line"], p["field"]) for p in problems] == [(3, "lab"), (5, "lab")]
    assert "'Other Lab'" in problems[0]["reason"] and repr(source.name) in problems[0]["reason"]
    assert results(session, "L1") == []
    assert session.scalar(select(func.count()).select_from(IngestBatch)) == 0
    # The other laboratory's own key may of course file under its own name.
    mine = evidence.ingest(session, other.id, "tests", (HEADER + row("L2", "Other Lab")).encode(),
                           "csv", now=now)
    assert mine.inserted == 1


def test_the_stored_laboratory_is_the_keys_source_whatever_the_batch_leaves_out(
    session: Any, now: Any, lab: Any, register_person: Any
) -> None:
    person = register_person()
    source, _key = lab
    no_column = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,"
                 f"result\nN1,hkid,A123456(3),{TIMES},PCR,negative\n")
    evidence.ingest(session, source.id, "tests", no_column.encode(), "csv", now=now)
    same_name = HEADER + row("N2", f"  {source.name.upper()} ") + row("N3", "")
    evidence.ingest(session, source.id, "tests", same_name.encode(), "csv", now=now)
    as_json = [{"specimen_id": "N4", "document_kind": "hkid", "document_number": "A123456(3)",
                "collected_at": "2026-11-25T15:00:00+08:00",
                "reported_at": "2026-11-25T21:00:00+08:00", "method": "PCR",
                "result": "negative"}]
    evidence.ingest(session, source.id, "tests", json.dumps(as_json).encode(), "json", now=now)
    stored = session.scalars(select(TestResult).where(TestResult.source_id == source.id)).all()
    assert sorted(r.specimen_id for r in stored) == ["N1", "N2", "N3", "N4"]
    assert {r.lab for r in stored} == {source.name}
    shown = evidence.evidence_of(session, person.id).tests
    assert {t.lab for t in shown} == {source.name}
    wrong_json = [dict(as_json[0], specimen_id="N5", lab="Other Lab")]
    with pytest.raises(evidence.BatchRejected) as caught:
        evidence.ingest(session, source.id, "tests", json.dumps(wrong_json).encode(), "json",
                        now=now)
    assert [(p["line"], p["field"]) for p in caught.value.details] == [(1, "lab")]


def test_specimen_ids_are_unique_per_laboratory(session: Any, now: Any, lab: Any) -> None:
    first, _ = lab
    second, _ = evidence.create_source(session, f"Second {uuid.uuid4().hex[:6]}", "lab", now=now)
    mine = (HEADER + row("SAME-1", "") + row("SAME-2", "")).encode()
    theirs = (HEADER + row("SAME-1", "", result="positive")).encode()
    assert evidence.ingest(session, first.id, "tests", mine, "csv", now=now).inserted == 2
    # The same specimen id from another laboratory is a record of its own, not a conflict.
    assert evidence.ingest(session, second.id, "tests", theirs, "csv", now=now).inserted == 1
    on_file = results(session, "SAME-1")
    assert sorted((r.lab, r.result) for r in on_file) == sorted(
        [(first.name, "negative"), (second.name, "positive")])
    # Sending either batch again changes nothing.
    again = evidence.ingest(session, first.id, "tests", mine, "csv", now=now)
    assert (again.inserted, again.duplicates) == (0, 2)
    assert evidence.ingest(session, second.id, "tests", theirs, "csv", now=now).inserted == 0
    assert len(results(session, "SAME-1")) == 2
    # Within one laboratory a specimen id names one result: other values are a conflict.
    with pytest.raises(evidence.BatchRejected) as caught:
        evidence.ingest(session, first.id, "tests", (HEADER + row("SAME-1", "", result="positive"))
                        .encode(), "csv", now=now)
    assert "already on file" in caught.value.details[0]["reason"]


def test_over_http_a_key_cannot_file_under_another_laboratorys_name(
    client: Any, lab: Any, session: Any, now: Any
) -> None:
    source, key = lab
    evidence.create_source(session, "Other Lab", "lab", now=now)
    headers = {"X-API-Key": key, "Content-Type": "text/csv"}
    refused = client.post("/api/evidence/tests", headers=headers,
                          content=HEADER + row("H1", "") + row("H2", "Other Lab"))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "batch_rejected"
    assert [(p["line"], p["field"]) for p in error["details"]] == [(3, "lab")]
    accepted = client.post("/api/evidence/tests", headers=headers,
                           content=HEADER + row("H1", "") + row("H2", source.name))
    assert accepted.status_code == 200, accepted.text
    assert {r.lab for r in results(session, "H1") + results(session, "H2")} == {source.name}


# --------------------------------------------------------------------------- the migration

@pytest.fixture()
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """A database of the suite's kind with nothing in it, for migrating step by step."""
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'labs.sqlite3'}"
        return
    from sqlalchemy import text

    from tests.databases import worker_database

    url = worker_database(database_url(), f"labs_{uuid.uuid4().hex[:8]}")
    yield url
    admin = create_engine(database_url().rsplit("/", 1)[0] + "/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        name = url.rsplit("/", 1)[1]
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_migration_names_each_result_by_its_source_and_keeps_every_row(
    fresh_url: str,
) -> None:
    from borderpass.kit.db import engine_for
    from borderpass.migrations import upgrade

    upgrade(fresh_url, "0007")
    engine = engine_for(fresh_url)
    sources = [{"id": uuid.uuid4(), "name": name, "kind": "lab", "created_at": NOW}
               for name in ("Kowloon Laboratory", "Island Laboratory")]
    base = {"doc_kind": "hkid", "doc_index": "0" * 64, "person_id": None,
            "collected_at": NOW - timedelta(hours=6), "reported_at": NOW - timedelta(hours=1),
            "method": "PCR", "result": "negative", "batch_id": uuid.uuid4()}
    rows = [  # the first laboratory wrote the second's name on one of its results
        dict(base, source_id=sources[0]["id"], specimen_id="K-1", lab="Kowloon Laboratory"),
        dict(base, source_id=sources[0]["id"], specimen_id="I-9", lab="Island Laboratory"),
        dict(base, source_id=sources[1]["id"], specimen_id="I-9", lab="Island Laboratory"),
    ]
    with engine.begin() as connection:
        connection.execute(EvidenceSource.__table__.insert(), sources)
        connection.execute(TestResult.__table__.insert(), rows)
    upgrade(fresh_url, "0008b")
    table = TestResult.__table__
    with engine.connect() as connection:
        found = sorted((str(r.source_id), r.specimen_id, r.lab) for r in connection.execute(
            select(table.c.source_id, table.c.specimen_id, table.c.lab)))
    assert found == sorted([
        (str(sources[0]["id"]), "K-1", "Kowloon Laboratory"),
        (str(sources[0]["id"]), "I-9", "Kowloon Laboratory"),
        (str(sources[1]["id"]), "I-9", "Island Laboratory"),
    ])
    unique = {tuple(c["column_names"]) for c in inspect(engine).get_unique_constraints(
        "test_results")}
    assert ("source_id", "specimen_id") in unique
    engine.dispose()
