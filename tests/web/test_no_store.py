"""No answer about a person may be kept by a browser or a proxy: every API answer says
``Cache-Control: no-store`` (unless its endpoint chose its own caching), and so does
every page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.permits.conftest import application_fields


def _resident_token(client: Any, register_person: Callable[..., Any]) -> dict[str, str]:
    register_person()
    signed = client.post("/api/sessions", json={"document_kind": "hkid",
                                                "document_number": "A123456(3)",
                                                "password": "password-123"})
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['token']}"}


def test_personal_api_answers_are_never_stored(
    client: Any, register_person: Callable[..., Any]
) -> None:
    bearer = _resident_token(client, register_person)
    for path in ("/api/me", "/api/health-code", "/api/health-code.png", "/api/health-code.svg",
                 "/api/evidence/mine"):
        answer = client.get(path, headers=bearer)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["cache-control"] == "no-store", path
    uploaded = client.post("/api/checkin/uploads", headers=bearer, json={})
    assert uploaded.headers["cache-control"] == "no-store"
    applied = client.post("/api/permits/applications", json=application_fields())
    assert applied.status_code == 201, applied.text
    body = applied.json()
    shown = client.get(f"/api/permits/applications/{body['application']['id']}",
                       headers={"Authorization": f"Bearer {body['access']['token']}"})
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    started = client.post("/api/registrations")
    assert started.headers["cache-control"] == "no-store"


def test_refusals_and_errors_are_not_stored_either(client: Any) -> None:
    for answer in (client.get("/api/me"), client.get("/api/me", headers={
            "Authorization": "Bearer not-a-token"}), client.get("/api/no-such-thing")):
        assert answer.status_code in (401, 404)
        assert answer.headers["cache-control"] == "no-store"


def test_pages_are_not_stored(client: Any) -> None:
    for path in ("/", "/sign-in", "/register"):
        assert client.get(path).headers["cache-control"] == "no-store", path
