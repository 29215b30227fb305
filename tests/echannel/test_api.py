"""The e-Channel through the API: app enrolment, both gates, withdrawal."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from borderpass.echannel import qr
from tests.echannel.conftest import TEEN_BORN, hkid, key_pair, photo


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_enrol_in_the_app_then_pass_both_gates_then_withdraw(
    client: Any, session: Any, now: datetime, register_person: Callable[..., Any],
    make_card: Callable[..., bytes], staff_token: Callable[[str], tuple[Any, str]],
) -> None:
    from borderpass.identity import service as identity

    register_person("A123456(3)")
    _person, token, _ = identity.sign_in(session, "hkid", "A123456(3)", "password-123", now=now)
    resident = {"Authorization": f"Bearer {token}"}
    _officer, officer_token = staff_token("border_officer")
    gate = {"Authorization": f"Bearer {officer_token}"}
    private, public = key_pair()

    gates_key = client.get("/api/echannel/gates/key").json()["public_key"]
    assert gates_key.startswith("-----BEGIN PUBLIC KEY-----")
    enrolled = client.post("/api/echannel/enrolments/app", headers=resident, json={
        "card": b64(make_card()), "live_photo": b64(photo("obama2.jpg")),
        "device_public_key": public.decode()})
    assert enrolled.status_code == 201, enrolled.text
    view = enrolled.json()
    assert (view["channel"], view["enrolled_by_kind"], view["doc_masked"]) == (
        "app", "resident", "A1*****(3)")
    assert "template" not in enrolled.text

    import uuid

    code = qr.make_token(uuid.UUID(view["id"]), private, gates_key.encode(), now=now)
    assert client.post("/api/echannel/gate1/qr", json={"gate": "LWS-01", "token": code}
                       ).status_code == 401
    first = client.post("/api/echannel/gate1/qr", headers=gate,
                        json={"gate": "LWS-01", "token": code})
    assert first.status_code == 200, first.text
    again = client.post("/api/echannel/gate1/qr", headers=gate,
                        json={"gate": "LWS-01", "token": code})
    assert again.status_code == 403
    assert again.json()["error"]["code"] == "token_refused"
    assert again.json()["error"]["details"] == {"reason": "replayed"}

    face = client.post("/api/echannel/gate2", headers=gate, json={
        "passage_id": first.json()["passage_id"], "live_photo": b64(photo("obama3.jpg"))})
    assert face.status_code == 200, face.text
    assert face.json()["open"] is True and face.json()["route"] == "open"

    withdrawn = client.delete(f"/api/echannel/enrolments/{view['id']}", headers=resident)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    later = qr.make_token(uuid.UUID(view["id"]), private, gates_key.encode(),
                          now=now + timedelta(seconds=1))
    refused = client.post("/api/echannel/gate1/qr", headers=gate,
                          json={"gate": "LWS-01", "token": later})
    assert refused.json()["error"]["details"] == {"reason": "unknown_device"}


def test_office_enrolment_of_a_teenager_names_the_missing_consent(
    client: Any, make_card: Callable[..., bytes], staff_token: Callable[[str], tuple[Any, str]],
) -> None:
    _officer, officer_token = staff_token("border_officer")
    headers = {"Authorization": f"Bearer {officer_token}"}
    body = {"card": b64(make_card(hkid("E778899"), born_on=TEEN_BORN)),
            "live_photo": b64(photo("obama3.jpg"))}
    refused = client.post("/api/echannel/enrolments/office", headers=headers, json=body)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "guardian_consent_required"
    assert refused.json()["error"]["field"] == "guardian"
    body["guardian"] = {"document_number": "A123456(3)", "relationship": "father",
                        "consent": True}
    accepted = client.post("/api/echannel/enrolments/office", headers=headers, json=body)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["guardian_relationship"] == "father"
    assert accepted.json()["guardian_masked"] == "A1*****(3)"


def test_bad_input_names_the_field(
    client: Any, staff_token: Callable[[str], tuple[Any, str]]
) -> None:
    _officer, officer_token = staff_token("border_officer")
    headers = {"Authorization": f"Bearer {officer_token}"}
    response = client.post("/api/echannel/enrolments/office", headers=headers,
                           json={"card": "***", "live_photo": "AAAA"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "card"
    tampered = client.post("/api/echannel/gate1/card", headers=headers,
                           json={"gate": "LWS-01", "card": b64(b"\xa0")})
    assert tampered.status_code == 422
    assert tampered.json()["error"]["code"] == "card_refused"
