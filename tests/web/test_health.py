"""Readiness and metrics of one web process (several: tests/web/test_processes.py)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from tests.web.served import hkid


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in Prometheus' text, or None when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    found = re.search(rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def test_ready_when_the_database_answers_and_the_keys_load(client: Any) -> None:
    reply = client.get("/readyz")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"status": "ready", "checks": {"database": "ok", "keys": "ok"}}
    assert client.get("/healthz").json() == {"status": "ok"}


def test_not_ready_when_the_database_does_not_answer(
    app: Any, client: Any, tmp_path: Path
) -> None:
    nowhere = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}")
    app.state.session_factory = sessionmaker(bind=nowhere)
    try:
        reply = client.get("/readyz")
    finally:
        nowhere.dispose()
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "not_ready"
    assert body["checks"] == {"database": "failed: OperationalError", "keys": "ok"}


def test_requests_are_counted_by_route_template_never_by_raw_path(client: Any) -> None:
    office = f"NO-{uuid.uuid4().hex[:6].upper()}"
    before = client.get("/metrics").text
    template = "/api/permits/offices/{code}/slots"
    counted = metric(before, "borderpass_request_seconds_count", method="GET", route=template,
                     status="4xx") or 0.0
    unmatched = metric(before, "borderpass_request_seconds_count", method="GET",
                       route="unmatched", status="4xx") or 0.0
    for _ in range(3):
        assert client.get(f"/api/permits/offices/{office}/slots").status_code == 404
    assert client.get(f"/api/{office}").status_code == 404
    assert client.request("BREW", "/healthz").status_code == 405

    after = client.get("/metrics")
    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    assert metric(text, "borderpass_request_seconds_count", method="GET", route=template,
                  status="4xx") == counted + 3
    assert metric(text, "borderpass_request_seconds_count", method="GET", route="unmatched",
                  status="4xx") == unmatched + 1
    assert office not in text  # neither the office's code nor the unmatched path
    assert "BREW" not in text
    assert metric(text, "borderpass_request_seconds_count", method="other", route="/healthz",
                  status="4xx") is not None


def test_codes_issued_today_and_the_age_of_the_lists(
    client: Any, app: Any, session: Any, register_person: Any, now: datetime
) -> None:
    from borderpass.healthcode import service as healthcode

    text = client.get("/metrics").text
    before = {colour: metric(text, "borderpass_codes_issued_today", colour=colour)
              for colour in ("green", "amber", "red")}
    person = register_person(hkid(uuid.uuid4().int % 1_000_000, "K"))
    issued = healthcode.issue(session, person.id, now=now)
    session.flush()

    text = client.get("/metrics").text
    for colour, count in before.items():
        expected = (count or 0) + (1 if colour == issued.colour else 0)
        assert metric(text, "borderpass_codes_issued_today", colour=colour) == expected
    trust = metric(text, "borderpass_list_age_seconds", list="trust")
    assert trust is not None and trust >= 0
    assert client.get("/api/checkin/exposure-list").status_code == 200
    exposure = metric(client.get("/metrics").text, "borderpass_list_age_seconds",
                      list="exposure")
    assert exposure == 0.0  # generated just now, at the app's pinned clock
