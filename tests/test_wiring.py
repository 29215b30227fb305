"""Side effects between domains are wired by the app factory and the command line, not
by whichever modules a process happened to import."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from borderpass.evidence import events as evidence_events
from borderpass.evidence.events import EvidenceChanged
from borderpass.identity.events import AccountSuspended, HolderProven, PersonDeleted
from borderpass.kit import events
from borderpass.wiring import wire

HEADER = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,result,"
          "lab\n")


def _row(specimen: str, collected: datetime, result: str) -> str:
    reported = collected + timedelta(minutes=30)
    return (f"{specimen},hkid,A123456(3),{collected.isoformat()},{reported.isoformat()},PCR,"
            f"{result},\n")


def test_wire_connects_every_event_once() -> None:
    wire()
    wire()
    for kind in (HolderProven, AccountSuspended, PersonDeleted, EvidenceChanged,
                 evidence_events.TestingOrderRecorded):
        handlers = events.handlers_of(kind)
        assert handlers and len(handlers) == len(set(handlers)), kind.__name__


def test_the_app_factory_wires_an_evidence_change_to_revocation(
        factory: sessionmaker[Session], session: Session, now: datetime, register_person: Any,
        lab: Any) -> None:
    from borderpass.identity import service as identity
    from borderpass.web.app import create_app

    events.reset()  # as in a fresh process: no handler is registered by any import
    assert events.handlers_of(EvidenceChanged) == []
    app = create_app()
    app.state.session_factory = factory
    app.state.clock = lambda: now
    register_person("A123456(3)")
    _person, token, _ = identity.sign_in(session, "hkid", "A123456(3)", "password-123", now=now)
    _source, key = lab
    lab_headers = {"X-API-Key": key, "Content-Type": "text/csv"}
    with TestClient(app, raise_server_exceptions=False) as client:
        negative = HEADER + _row("W-1", now - timedelta(hours=2), "negative")
        assert client.post("/api/evidence/tests", content=negative,
                           headers=lab_headers).status_code == 200
        code = client.get("/api/health-code", headers={"Authorization": f"Bearer {token}"})
        assert code.status_code == 200 and code.json()["colour"] == "green"
        text = code.json()["text"]
        assert client.post("/api/health-codes/verify", json={"text": text}).json()["valid"]

        positive = HEADER + _row("W-2", now - timedelta(hours=1), "positive")
        assert client.post("/api/evidence/tests", content=positive,
                           headers=lab_headers).status_code == 200
        verdict = client.post("/api/health-codes/verify", json={"text": text}).json()
    assert verdict["valid"] is False and verdict["error"] == "revoked"
