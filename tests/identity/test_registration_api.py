"""Registration through the API: start, details with proof, the PIN as the phone gets it,
activate."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import DEMO_PDF, NOW
from tests.messages import pin_sent

FORM = {
    "name_zh": "陳美玲",
    "name_en": "CHAN Mei Ling",
    "document_kind": "hkid",
    "document_number": "A123456(3)",
    "document_issued_on": "2018-03-01",
    "hrp_number": "H12345678",
    "will_cross": "true",
    "phone": "+852 9123 4567",
    "address": "Flat C, 8/F, 3 Harbour Road, Wan Chai",
    "password": "correct horse battery",
    "locale": "en",
}


def pin_received(session: Any, registration_id: str, *, now: datetime = NOW) -> str:
    """Deliver the queued messages and return the PIN the registrant's phone received."""
    return pin_sent(session, registration_id, now=now)


def start_and_submit(client: Any, form: dict[str, str] | None = None,
                     proof: bytes = DEMO_PDF, filename: str = "bill.pdf") -> tuple[str, Any]:
    started = client.post("/api/registrations")
    assert started.status_code == 201
    registration = started.json()["id"]
    response = client.post(
        f"/api/registrations/{registration}/details",
        data=form or FORM,
        files={"proof": (filename, proof, "application/octet-stream")},
    )
    return registration, response


def test_register_activate_and_read_own_record(client: Any, session: Any) -> None:
    registration, response = start_and_submit(client)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "submitted"
    pin = pin_received(session, registration)
    activated = client.post(f"/api/registrations/{registration}/activate", json={"pin": pin})
    assert activated.status_code == 200, activated.text
    token = activated.json()["access"]["token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["document_number"] == "A123456(3)"
    assert me["document_masked"] == "A1*****(3)"
    assert me["phone"] == "+85291234567"
    assert me["initials"] == "CML"
    assert me["status"] == "active"


def test_wrong_pin_counts_attempts_then_locks(client: Any, session: Any) -> None:
    registration, _ = start_and_submit(client)
    pin = pin_received(session, registration)
    wrong = "000000" if pin != "000000" else "111111"
    for left, said in ((4, "4 attempts left."), (3, "3 attempts left."),
                       (2, "2 attempts left."), (1, "1 attempt left.")):
        response = client.post(f"/api/registrations/{registration}/activate", json={"pin": wrong})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "wrong_pin"
        assert response.json()["error"]["message"].endswith(f"; {said}"), left
    locked = client.post(f"/api/registrations/{registration}/activate", json={"pin": wrong})
    assert locked.json()["error"]["code"] == "too_many_attempts"
    still_locked = client.post(f"/api/registrations/{registration}/activate", json={"pin": pin})
    assert still_locked.status_code == 429


def test_registration_expires_after_45_minutes(client: Any, app: Any, session: Any) -> None:
    registration, _ = start_and_submit(client)
    pin = pin_received(session, registration)
    app.state.now = app.state.now + timedelta(minutes=45)
    response = client.post(f"/api/registrations/{registration}/activate", json={"pin": pin})
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "registration_expired"


def test_pin_expires(client: Any, app: Any, session: Any) -> None:
    registration, _ = start_and_submit(client)
    pin = pin_received(session, registration)
    app.state.now = app.state.now + timedelta(minutes=11)
    response = client.post(f"/api/registrations/{registration}/activate", json={"pin": pin})
    assert response.json()["error"]["code"] == "pin_expired"
    resent = client.post(f"/api/registrations/{registration}/pin")
    assert resent.status_code == 200
    fresh = pin_received(session, registration, now=app.state.now)
    ok = client.post(f"/api/registrations/{registration}/activate", json={"pin": fresh})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"document_number": "A123456(4)"}, "document_number", "invalid_document_number"),
        ({"hrp_number": "X1234"}, "hrp_number", "invalid_document_number"),
        ({"hrp_number": ""}, "hrp_number", "invalid_input"),
        ({"phone": "+1 555 1234"}, "phone", "invalid_phone"),
        ({"phone": "+852 1234 5678"}, "phone", "invalid_phone"),
        ({"name_en": "陳"}, "name_en", "invalid_input"),
        ({"document_kind": "passport"}, "document_kind", "invalid_input"),
        ({"document_issued_on": "2099-01-01"}, "document_issued_on", "invalid_input"),
        ({"document_issued_on": "not a date"}, "document_issued_on", "invalid_input"),
        ({"password": "short"}, "password", "invalid_input"),
    ],
)
def test_bad_details_name_the_field_and_write_nothing(
    client: Any, session: Any, change: dict[str, str], field: str, code: str
) -> None:
    from sqlalchemy import func, select

    from borderpass.identity.models import Person

    before = session.scalar(select(func.count()).select_from(Person))
    _, response = start_and_submit(client, {**FORM, **change})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["field"] == field
    assert "A123456" not in response.text
    assert session.scalar(select(func.count()).select_from(Person)) == before


@pytest.mark.parametrize(
    ("content", "filename", "status", "code"),
    [
        (b"GIF89a....", "bill.pdf", 422, "invalid_proof"),
        (b"", "bill.pdf", 422, "invalid_proof"),
        (b"%PDF-" + b"0" * (5 * 1024 * 1024), "bill.pdf", 413, "proof_too_large"),
    ],
)
def test_proof_is_judged_by_content(
    client: Any, content: bytes, filename: str, status: int, code: str
) -> None:
    _, response = start_and_submit(client, proof=content, filename=filename)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "content",
    [b"\xff\xd8\xff\xe0JFIF", b"\x89PNG\r\n\x1a\n....", b"%PDF-1.7\n"],
)
def test_proof_of_any_accepted_type_even_misnamed(client: Any, content: bytes) -> None:
    _, response = start_and_submit(client, proof=content, filename="photo.txt")
    assert response.status_code == 200, response.text


def test_a_claimed_document_stays_open_and_a_proven_one_is_closed(
        client: Any, session: Any, register_person: Any) -> None:
    registration, _ = start_and_submit(client)
    pin = pin_received(session, registration)
    client.post(f"/api/registrations/{registration}/activate", json={"pin": pin})
    # A claimed account (typed number, SMS PIN) does not close the document: whoever proves
    # they hold it wins it (tests/identity/test_assurance.py).
    _, again = start_and_submit(client)
    assert again.status_code == 200, again.text
    register_person("B123456(6)")  # at a help desk: proven
    _, closed = start_and_submit(client, {**FORM, "document_number": "B123456(6)"})
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "already_registered"


def test_sign_in_and_delete_account(client: Any, session: Any) -> None:
    registration, _ = start_and_submit(client)
    client.post(f"/api/registrations/{registration}/activate",
                json={"pin": pin_received(session, registration)})
    bad = client.post("/api/sessions", json={"document_kind": "hkid",
                                             "document_number": "A1234563", "password": "nope"})
    assert bad.status_code == 401
    good = client.post("/api/sessions", json={"document_kind": "hkid",
                                              "document_number": "a1234563",
                                              "password": FORM["password"]})
    assert good.status_code == 200
    headers = {"Authorization": f"Bearer {good.json()['token']}"}
    assert client.delete("/api/me", headers=headers).status_code == 204
    assert client.get("/api/me", headers=headers).status_code == 401


def test_unknown_registration_and_malformed_ids(client: Any) -> None:
    missing = client.post("/api/registrations/00000000-0000-0000-0000-000000000000/pin")
    assert missing.status_code == 404
    malformed = client.post("/api/registrations/not-a-uuid/activate", json={"pin": "123456"})
    assert malformed.status_code == 422
    assert malformed.json()["error"]["field"] == "registration_id"
    bad_pin = client.post("/api/registrations/00000000-0000-0000-0000-000000000000/activate",
                          json={"pin": "12ab56"})
    assert bad_pin.json()["error"]["field"] == "pin"


def test_expired_registrations_are_purged_with_their_personal_data(
    client: Any, app: Any, session: Any
) -> None:
    from sqlalchemy import func, select

    from borderpass.identity import service
    from borderpass.identity.models import Person, ProofDocument

    registration, _ = start_and_submit(client)
    assert session.scalar(select(func.count()).select_from(Person)) == 1
    later = app.state.now + timedelta(minutes=46)
    assert service.purge_expired_registrations(session, now=later) == 1
    assert session.scalar(select(func.count()).select_from(Person)) == 0
    assert session.scalar(select(func.count()).select_from(ProofDocument)) == 0
    response = client.post(f"/api/registrations/{registration}/pin")
    assert response.status_code == 410


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", "borderpass: your activation PIN is {pin}. It expires in 10 minutes."),
    ("zh_Hant", "你的啟用密碼（PIN）是 {pin}，10 分鐘後失效"),
    ("zh_Hans", "你的启用密码（PIN）是 {pin}，10 分钟后失效"),
])
def test_the_activation_sms_is_in_the_persons_language(client: Any, session: Any, locale: str,
                                                       expected: str) -> None:
    registration, response = start_and_submit(client, {**FORM, "locale": locale})
    assert response.status_code == 200, response.text
    from borderpass.kit import outbox

    pin = pin_received(session, registration)
    [message] = [m for m in outbox.messages_for(session, registration)
                 if m.purpose == "activation_pin"]
    assert "{pin}" in message.body and pin not in message.body  # filled at delivery only
    from tests.messages import delivered_body

    assert expected.format(pin=pin) in delivered_body(message.id)
