"""Batches that Python's own readers choke on are refused with a 4xx naming the problem."""

from __future__ import annotations

import json
from typing import Any

import pytest

from borderpass.evidence import service as evidence

TESTS_HEADER = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,"
                "result\n")
VACCINATIONS_HEADER = ("document_kind,document_number,dose_number,product,vaccinated_on,"
                       "provider\n")


def _test_row(**changes: Any) -> dict[str, Any]:
    row = {"specimen_id": "S1", "document_kind": "hkid", "document_number": "A123456(3)",
           "collected_at": "2026-11-25T15:00:00+08:00",
           "reported_at": "2026-11-25T21:00:00+08:00", "method": "PCR", "result": "negative"}
    return {**row, **changes}


@pytest.fixture()
def registry(session: Any, now: Any) -> tuple[Any, str]:
    source, key = evidence.create_source(session, "Vaccination registry", "registry", now=now)
    return source, key


def _post(client: Any, path: str, key: str, content: bytes, media: str) -> Any:
    return client.post(path, content=content, headers={"X-API-Key": key, "Content-Type": media})


@pytest.mark.parametrize(("content", "named"), [
    (b'{"results": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nest deeper"),
    (b'{"results": [{"specimen_id": ' + b"7" * 5000 + b"}]}", "more than 30 digits"),
    (b'{"results": [1e400]}', "out of range"),
    (b'{"results": [NaN]}', "NaN is not JSON"),
    (b'{"results": [], "results": []}', "appears twice"),
    (b'{"results": ["\\ud800"]}', "lone surrogate"),
])
def test_json_python_cannot_read_is_a_422(
    client: Any, lab: Any, content: bytes, named: str
) -> None:
    _source, key = lab
    response = _post(client, "/api/evidence/tests", key, content, "application/json")
    assert response.status_code == 422, response.text
    body = response.json()["error"]
    assert body["code"] == "batch_rejected"
    assert named in body["details"][0]["reason"]


def test_a_csv_field_over_the_csv_modules_limit_is_a_422(client: Any, lab: Any) -> None:
    _source, key = lab
    content = (TESTS_HEADER + "S1,hkid,A123456(3),2026-11-25T15:00:00+08:00,"
               "2026-11-25T21:00:00+08:00,PCR,\"" + "n" * 131_073 + "\"\n").encode()
    response = _post(client, "/api/evidence/tests", key, content, "text/csv")
    assert response.status_code == 422, response.text
    reason = response.json()["error"]["details"][0]["reason"]
    assert "line 2" in reason and "field larger than field limit" in reason


@pytest.mark.parametrize("dose", ["²", "٣", "１"])
def test_a_dose_number_of_other_digits_is_a_row_problem(
    client: Any, registry: Any, dose: str
) -> None:
    _source, key = registry
    content = (VACCINATIONS_HEADER + f"hkid,A123456(3),{dose},Comirnaty,2021-06-01,CVC\n")
    response = _post(client, "/api/evidence/vaccinations", key, content.encode(), "text/csv")
    assert response.status_code == 422, response.text
    [problem] = response.json()["error"]["details"]
    assert (problem["line"], problem["field"]) == (2, "dose_number")
    assert "whole number from 1 to 10" in problem["reason"]


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("specimen_id", "S\x001", "control character"),
    ("result", "negative\x00", "control character"),
    ("collected_at", "0001-01-01T00:00:00+23:59", "between the years 1900 and 2199"),
    ("reported_at", "9999-12-31T23:59:59-23:59", "between the years 1900 and 2199"),
])
def test_what_the_database_cannot_hold_is_a_row_problem(
    client: Any, lab: Any, name: str, value: str, reason: str
) -> None:
    _source, key = lab
    content = json.dumps({"results": [_test_row(**{name: value})]}).encode()
    response = _post(client, "/api/evidence/tests", key, content, "application/json")
    assert response.status_code == 422, response.text
    [problem] = response.json()["error"]["details"]
    assert problem["field"] == name and reason in problem["reason"], problem


def test_a_json_batch_with_a_byte_order_mark_is_still_read(
    session: Any, now: Any, lab: Any
) -> None:
    source, _key = lab
    content = "\ufeff".encode() + json.dumps({"results": [_test_row()]}).encode()
    report = evidence.ingest(session, source.id, "tests", content, "json", now=now)
    assert report.inserted == 1
