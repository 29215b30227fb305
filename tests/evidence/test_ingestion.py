"""Ingestion of test results and vaccinations: atomic, idempotent, row by row reasons."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from borderpass.evidence import service as evidence
from borderpass.evidence.models import IngestBatch, TestResult, Vaccination

HEADER = "specimen_id,document_kind,document_number,collected_at,reported_at,method,result,lab\n"


def row(specimen: str, number: str = "A123456(3)", *, result: str = "negative",
        collected: str = "2026-11-25T15:00:00+08:00", reported: str = "2026-11-25T21:00:00+08:00",
        method: str = "PCR", kind: str = "hkid", lab: str = "") -> str:
    return f"{specimen},{kind},{number},{collected},{reported},{method},{result},{lab}\n"


def count(session: Any, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)))


def test_a_batch_lands_and_attaches_to_registered_people(
    session: Any, now: Any, lab: Any, register_person: Any
) -> None:
    person = register_person("A123456(3)")
    source, _key = lab
    batch = HEADER + row("S1") + row("S2", "Z437626(A)", result="positive")
    report = evidence.ingest(session, source.id, "tests", batch.encode(), "csv", now=now)
    assert (report.rows, report.inserted, report.duplicates) == (2, 2, 0)
    assert report.people == [person.id]
    on_file = evidence.evidence_of(session, person.id)
    assert [t.specimen_id for t in on_file.tests] == ["S1"]
    assert on_file.tests[0].method == "PCR"


def test_the_same_batch_twice_changes_nothing(session: Any, now: Any, lab: Any) -> None:
    source, _ = lab
    batch = (HEADER + row("S1") + row("S2")).encode()
    evidence.ingest(session, source.id, "tests", batch, "csv", now=now)
    before = count(session, TestResult)
    again = evidence.ingest(session, source.id, "tests", batch, "csv", now=now)
    assert (again.inserted, again.duplicates) == (0, 2)
    assert count(session, TestResult) == before


def test_one_bad_row_rejects_the_whole_batch_and_names_each_line(
    session: Any, now: Any, lab: Any
) -> None:
    source, _ = lab
    batch = (
        HEADER
        + row("S1")
        + row("S2", "A123456(4)")
        + row("S3", method="LAMP")
        + row("S4", collected="yesterday")
        + row("S5", reported="2026-11-25T10:00:00+08:00")
        + row("S6", result="maybe")
        + row("S7", kind="passport")
        + "S8,hkid,A123456(3)\n"
        + row("S9", collected="2026-12-25T10:00:00+08:00", reported="2026-12-25T11:00:00+08:00")
    )
    before = count(session, TestResult)
    with pytest.raises(evidence.BatchRejected) as caught:
        evidence.ingest(session, source.id, "tests", batch.encode(), "csv", now=now)
    problems = {(p["line"], p["field"]) for p in caught.value.details}
    assert problems == {
        (3, "document_number"), (4, "method"), (5, "collected_at"), (6, "reported_at"),
        (7, "result"), (8, "document_kind"), (9, None), (10, "collected_at"),
    }
    reasons = {p["line"]: p["reason"] for p in caught.value.details}
    assert "expected 3" in reasons[3]
    assert "A123456" not in json.dumps(caught.value.details)
    assert count(session, TestResult) == before
    assert count(session, IngestBatch) == 0


def test_a_changed_record_is_a_conflict_not_a_silent_overwrite(
    session: Any, now: Any, lab: Any
) -> None:
    source, _ = lab
    evidence.ingest(session, source.id, "tests", (HEADER + row("S1")).encode(), "csv", now=now)
    changed = HEADER + row("S0") + row("S1", result="positive")
    with pytest.raises(evidence.BatchRejected) as caught:
        evidence.ingest(session, source.id, "tests", changed.encode(), "csv", now=now)
    assert [p["line"] for p in caught.value.details] == [3]
    assert "already on file" in caught.value.details[0]["reason"]
    twice_in_batch = HEADER + row("S7") + row("S7", result="positive")
    with pytest.raises(evidence.BatchRejected) as caught:
        evidence.ingest(session, source.id, "tests", twice_in_batch.encode(), "csv", now=now)
    assert [p["line"] for p in caught.value.details] == [3]


@pytest.mark.parametrize(
    ("content", "media", "words"),
    [
        (b"", "csv", "empty"),
        (b"specimen_id,document_kind\nS1,hkid\n", "csv", "lacks the column"),
        (b"\xff\xfe\x00bad", "csv", "UTF-8"),
        (b"{not json", "json", "not valid JSON"),
        (b'{"results": 3}', "json", "expected a list"),
        (HEADER.encode(), "csv", "no rows"),
    ],
)
def test_unreadable_batches_are_refused_whole(
    session: Any, now: Any, lab: Any, content: bytes, media: str, words: str
) -> None:
    source, _ = lab
    with pytest.raises(evidence.BatchRejected) as caught:
        evidence.ingest(session, source.id, "tests", content, media, now=now)
    assert words in json.dumps(caught.value.details) + caught.value.render("en")


def test_json_batches_report_positions(session: Any, now: Any, lab: Any) -> None:
    source, _ = lab
    good = {"specimen_id": "J1", "document_kind": "hkid", "document_number": "A1234563",
            "collected_at": "2026-11-25T15:00:00+08:00",
            "reported_at": "2026-11-25T21:00:00+08:00", "method": "rat", "result": "Negative",
            "lab": source.name}
    report = evidence.ingest(session, source.id, "tests",
                             json.dumps({"results": [good]}).encode(), "json", now=now)
    assert report.inserted == 1
    bad = [dict(good, specimen_id="J2"), "not an object", dict(good, specimen_id=None)]
    with pytest.raises(evidence.BatchRejected) as caught:
        evidence.ingest(session, source.id, "tests", json.dumps(bad).encode(), "json", now=now)
    assert [(p["line"], p["field"]) for p in caught.value.details] == [(2, None),
                                                                      (3, "specimen_id")]


def test_results_wait_for_a_person_who_registers_later(
    session: Any, now: Any, lab: Any, register_person: Any
) -> None:
    source, _ = lab
    evidence.ingest(session, source.id, "tests",
                    (HEADER + row("EARLY", "Z437626(A)")).encode(), "csv", now=now)
    waiting = session.scalars(select(TestResult).where(TestResult.specimen_id == "EARLY")).one()
    assert waiting.person_id is None
    person = register_person("Z437626(A)", name_en="LEE Siu Ming")
    on_file = evidence.evidence_of(session, person.id)
    assert [t.specimen_id for t in on_file.tests] == ["EARLY"]


def test_vaccinations(session: Any, now: Any, register_person: Any) -> None:
    person = register_person("A123456(3)")
    registry, _ = evidence.create_source(session, "Registry", "registry", now=now)
    batch = (
        "document_kind,document_number,dose_number,product,vaccinated_on,provider\n"
        "hkid,A123456(3),1,Comirnaty,2021-06-01,CVC\n"
        "hkid,A123456(3),2,Comirnaty,2021-06-22,CVC\n"
        "hkid,A123456(3),3,CoronaVac,2026-10-02,Clinic\n"
    )
    report = evidence.ingest(session, registry.id, "vaccinations", batch.encode(), "csv", now=now)
    assert report.inserted == 3
    again = evidence.ingest(session, registry.id, "vaccinations", batch.encode(), "csv", now=now)
    assert again.inserted == 0
    doses = evidence.evidence_of(session, person.id).vaccinations
    assert [v.dose_number for v in doses] == [1, 2, 3]
    bad = batch.replace("2026-10-02", "2031-01-01").replace(",3,", ",three,", 0)
    with pytest.raises(evidence.BatchRejected) as caught:
        evidence.ingest(session, registry.id, "vaccinations", bad.encode(), "csv", now=now)
    assert [(p["line"], p["field"]) for p in caught.value.details] == [(4, "vaccinated_on")]
    assert count(session, Vaccination) == 3


def test_http_ingestion_with_api_keys(client: Any, lab: Any, session: Any, now: Any) -> None:
    _source, key = lab
    batch = HEADER + row("H1") + row("H2", "Z437626(A)")
    response = client.post("/api/evidence/tests", content=batch,
                           headers={"X-API-Key": key, "Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 2
    again = client.post("/api/evidence/tests", content=batch,
                        headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"})
    assert again.json()["inserted"] == 0
    bad = client.post("/api/evidence/tests", content=HEADER + row("H3", method="X"),
                      headers={"X-API-Key": key, "Content-Type": "text/csv"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "batch_rejected"
    assert bad.json()["error"]["details"] == [
        {"line": 2, "field": "method", "reason": "method must be PCR or RAT"}]
    wrong_type = client.post("/api/evidence/tests", content=batch,
                             headers={"X-API-Key": key, "Content-Type": "text/plain"})
    assert wrong_type.json()["error"]["field"] == "content-type"
    assert client.post("/api/evidence/tests", content=batch,
                       headers={"Content-Type": "text/csv"}).status_code == 401
    assert client.post("/api/evidence/tests", content=batch,
                       headers={"X-API-Key": "nope", "Content-Type": "text/csv"}).status_code == 401
    assert client.post("/api/evidence/vaccinations", content=batch,
                       headers={"X-API-Key": key, "Content-Type": "text/csv"}).status_code == 403


def test_old_results_and_ordering(session: Any, now: Any, lab: Any, register_person: Any) -> None:
    person = register_person()
    source, _ = lab
    older = (now - timedelta(days=3)).isoformat()
    newer = (now - timedelta(hours=3)).isoformat()
    batch = HEADER + row("OLD", collected=older, reported=newer) + row(
        "NEW", collected=newer, reported=now.isoformat())
    evidence.ingest(session, source.id, "tests", batch.encode(), "csv", now=now)
    assert [t.specimen_id for t in evidence.evidence_of(session, person.id).tests] == ["NEW", "OLD"]
