"""The issuing registries of identity documents: authorised by key, their records loaded
atomically (CSV, JSON, the command line), sealed, and replaced when sent again."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.models import RegistryRecord

HEADER = "document_number,name_en,born_on,issued_on,address\n"


def _post(client: TestClient, key: str, content: str, media: str = "text/csv") -> Any:
    return client.post("/api/identity/registry-records", content=content,
                       headers={"X-API-Key": key, "Content-Type": media})


def _registry(session: Session, now: datetime, kind: str = "macau") -> tuple[Any, str]:
    return identity.create_registry(session, f"Registry {uuid.uuid4().hex[:6]}", kind, now=now)


def test_a_batch_is_atomic_and_names_every_bad_line(
        client: TestClient, session: Session, now: datetime) -> None:
    registry, key = _registry(session, now)
    batch = HEADER + (
        "1234567(8),CHEUNG Sam,1988-02-29,2016-05-02,Rua do Registo 1\n"
        "2234567(8),CHEUNG Sam,1988-02-29,2016-05-02,Rua do Registo 1\n"
        "5215299(8),陳,1988-02-29,2016-05-02,Rua do Registo 2\n"
        "1234567(8),CHEUNG Sam,1988-02-29,2016-05-02,Rua do Registo 1\n"
        "5215299(8),LEI Ka,2030-01-01,2016-05-02,Rua do Registo 3\n"
        "5215299(8),LEI Ka,1990-01-01,1980-01-01,Rua do Registo 3\n"
    )
    refused = _post(client, key, batch)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "registry_batch_rejected"
    assert [(d["line"], d["field"]) for d in error["details"]] == [
        (3, "document_number"), (4, "name_en"), (5, "document_number"), (6, "born_on"),
        (7, "issued_on")]
    assert "1234567" not in refused.text.replace('"line"', "")  # no number echoed back
    assert session.scalars(select(RegistryRecord).where(
        RegistryRecord.registry_id == registry.id)).all() == []


def test_records_are_sealed_and_replaced_when_sent_again(
        client: TestClient, session: Session, now: datetime) -> None:
    registry, key = _registry(session, now)
    first = _post(client, key, HEADER + "1234567(8),CHEUNG Sam,1988-02-29,2016-05-02,"
                                        "Rua Velha 1\n")
    assert first.json() == {"registry": registry.name, "rows": 1, "inserted": 1, "updated": 0}
    again = _post(client, key, json.dumps({"records": [
        {"document_number": "1234567(8)", "name_en": "CHEUNG Sam", "born_on": "1988-02-29",
         "issued_on": "2021-07-01", "address": "Rua Nova 2"}]}), "application/json")
    assert again.json()["updated"] == 1 and again.json()["inserted"] == 0
    [record] = session.scalars(select(RegistryRecord).where(
        RegistryRecord.registry_id == registry.id)).all()
    assert record.issued_on.isoformat() == "2021-07-01"
    assert b"Rua Nova" not in record.address_sealed and b"CHEUNG" not in record.name_en_sealed


def test_only_a_registrys_key_may_send_records(
        client: TestClient, session: Session, now: datetime, lab: Any) -> None:
    _source, lab_key = lab
    row = HEADER + "1234567(8),CHEUNG Sam,1988-02-29,2016-05-02,Rua do Registo 1\n"
    assert _post(client, lab_key, row).status_code == 403
    assert client.post("/api/identity/registry-records", content=row,
                       headers={"Content-Type": "text/csv"}).status_code == 401
    _registry_row, key = _registry(session, now)
    wrong_media = _post(client, key, row, "text/plain")
    assert wrong_media.status_code == 422 and wrong_media.json()["error"]["field"] == "content-type"


def test_malformed_batches_are_refused_with_a_reason(
        client: TestClient, session: Session, now: datetime) -> None:
    _registry_row, key = _registry(session, now)
    for content, media, field in [
        ("document_number,name_en\n1234567(8),X\n", "text/csv", "header"),
        (HEADER + "1234567(8),A,1988-02-29,2016-05-02,Rua 12345,extra\n", "text/csv", "content"),
        (HEADER + "1234567(8),A,1988-02-29,2016-05-02,\"" + "x" * 200_000 + "\"\n", "text/csv",
         "content"),
        ("[" * 5000 + "]" * 5000, "application/json", "records"),
        ('{"records": "none"}', "application/json", "records"),
        (HEADER, "text/csv", None),
    ]:
        refused = _post(client, key, content, media)
        assert refused.status_code == 422, (content[:40], refused.text)
        assert refused.json()["error"]["code"] == "registry_batch_rejected"
        assert refused.json()["error"].get("field") == field
    unknown = _post(client, key, json.dumps({"records": [
        {"document_number": "1234567(8)", "name_en": "A", "born_on": "1988-02-29",
         "issued_on": "2016-05-02", "address": "Rua 12345", "shoe_size": "42"}]}),
        "application/json")
    assert unknown.json()["error"]["details"][0]["field"] == "shoe_size"


def test_registries_from_the_command_line(cli: Any, tmp_path: Path) -> None:
    name = f"CLI Registry {uuid.uuid4().hex[:6]}"
    added = cli("document-registries", "add", name, "--kind", "mainland")
    assert added.exit_code == 0, added.output
    assert len(added.stdout.strip()) > 20
    assert cli("document-registries", "add", name, "--kind", "mainland").exit_code == 1
    assert cli("document-registries", "add", "Other", "--kind", "passport").exit_code == 1
    records = tmp_path / "records.csv"
    records.write_text(HEADER + "11010519491231002X,WANG Wu,1949-12-31,2015-01-01,"
                                "\"1 Chang'an Avenue, Beijing\"\n", encoding="utf-8")
    loaded = cli("document-registries", "load", str(records), "--registry", name)
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout) == {"registry": name, "rows": 1, "inserted": 1,
                                         "updated": 0}
    missing = cli("document-registries", "load", str(records), "--registry", "Nobody")
    assert missing.exit_code == 2 and "unknown registry" in missing.output
    # The command committed; the test database gets its rows back.
    from borderpass.kit.db import unit_of_work

    with unit_of_work() as session:
        registry = identity.find_registry(session, name)
        assert registry is not None
        session.execute(RegistryRecord.__table__.delete().where(
            RegistryRecord.registry_id == registry.id))
        session.delete(registry)
        from borderpass.identity.models import ApiToken

        session.execute(ApiToken.__table__.delete().where(ApiToken.principal_id == registry.id))
