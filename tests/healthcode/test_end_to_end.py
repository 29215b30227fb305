"""Register, test, code, verify offline, turn red, revoke; and the 48-hour window closing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from borderpass.healthcode import service as healthcode
from borderpass.healthcode.lists import TrustStore
from borderpass.healthcode.verifier import verify
from borderpass.kit.config import get_settings


def _batch(number: str, specimen: str, collected: datetime, result: str) -> bytes:
    reported = collected + timedelta(minutes=30)
    return (
        "specimen_id,document_kind,document_number,collected_at,reported_at,method,result,lab\n"
        f"{specimen},hkid,{number},{collected.isoformat()},{reported.isoformat()},PCR,{result},"
        "\n"
    ).encode()


def _offline(session: Any, now: datetime) -> TrustStore:
    # What `borderpass trust-list export` writes, read back as a file would be.
    return TrustStore.from_bundle(json.loads(json.dumps(healthcode.export(session, now=now))))


def test_green_then_revoked_then_expired(session: Any, now: datetime, register_person: Any,
                                         lab: Any, client: Any, app: Any) -> None:
    from borderpass.evidence import service as evidence

    person = register_person("A123456(3)")
    source, _key = lab
    tested = now - timedelta(hours=1)
    evidence.ingest(session, source.id, "tests", _batch("A123456(3)", "S-1", tested, "negative"),
                    "csv", now=now)
    issued = healthcode.issue(session, person.id, now=now)
    assert issued.colour == "green"
    prefix = get_settings().code_prefix
    assert issued.text.startswith(prefix)
    verdict = verify(issued.text, _offline(session, now), now=now, prefix=prefix)
    assert verdict.as_json()["valid"] is True
    assert verdict.colour == "green" and verdict.reason is None
    assert verdict.holder == {"initials": "CTM", "document": "A1*****(3)", "document_kind": "hkid"}

    later = now + timedelta(hours=4)
    evidence.ingest(session, source.id, "tests",
                    _batch("A123456(3)", "S-2", now + timedelta(minutes=5), "positive"),
                    "csv", now=later)
    verdict = verify(issued.text, _offline(session, later), now=later, prefix=prefix)
    assert (verdict.result, verdict.reason) == ("invalid", "revoked")
    red = healthcode.issue(session, person.id, now=later)
    assert red.colour == "red"
    assert "HK-RED-POSITIVE" in red.status.rule_ids


def test_code_expires_with_the_48_hour_window(session: Any, now: datetime, register_person: Any,
                                              lab: Any) -> None:
    from borderpass.evidence import service as evidence

    person = register_person("A123456(3)")
    source, _key = lab
    tested = now - timedelta(hours=1)
    evidence.ingest(session, source.id, "tests", _batch("A123456(3)", "S-9", tested, "negative"),
                    "csv", now=now)
    issued = healthcode.issue(session, person.id, now=now)
    assert issued.status.changes_at == tested + timedelta(hours=48)
    prefix = get_settings().code_prefix
    store = _offline(session, now)
    at = tested + timedelta(hours=49)
    verdict = verify(issued.text, store, now=at, prefix=prefix)
    assert (verdict.result, verdict.reason) == ("invalid", "expired")
    new = healthcode.issue(session, person.id, now=at)
    assert new.colour == "red"
    assert new.status.rule_ids == ("HK-RED-TEST-48H",)
    verdict = verify(new.text, _offline(session, at), now=at, prefix=prefix)
    assert verdict.valid and verdict.colour == "red"


def test_api_code_and_verify(session: Any, now: datetime, register_person: Any, lab: Any,
                             client: Any) -> None:
    from borderpass.evidence import service as evidence
    from borderpass.identity import service as identity

    register_person("A123456(3)")
    source, _key = lab
    evidence.ingest(session, source.id, "tests",
                    _batch("A123456(3)", "S-3", now - timedelta(hours=2), "negative"), "csv",
                    now=now)
    _person, token, _ = identity.sign_in(session, "hkid", "A123456(3)", "password-123", now=now)
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get("/api/health-code", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["colour"] == "green" and body["status"]["reasons"] == []
    png = client.get("/api/health-code.png", headers=headers)
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = client.get("/api/health-code.svg", headers=headers)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    checked = client.post("/api/health-codes/verify", json={"text": body["text"]})
    assert checked.json()["valid"] is True and checked.json()["colour"] == "green"
    bad = client.post("/api/health-codes/verify", json={"text": body["text"][:-5]})
    assert bad.status_code == 200 and bad.json()["valid"] is False and bad.json()["error"]
