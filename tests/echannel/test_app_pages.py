"""The e-Channel app's pages as the server serves them: enrolling on the phone (a child
waits for the guardian; under 11 is refused with the reason) and the gates' demonstration."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from borderpass.echannel import qr, service
from tests.echannel.conftest import CHILD_BORN, TEEN_BORN, hkid, key_pair, photo
from tests.echannel.test_guardian_pages import _csrf, _sign_in

KIT = hkid("K161616")
SISTER = hkid("K191919")
MOTHER = hkid("M424242")


def _enrol(client: TestClient, card: bytes, face: bytes, public: bytes, guardian: str = "") -> Any:
    page = client.get("/app/echannel")
    return client.post("/app/echannel/enrol", data={
        "csrf_token": _csrf(page.text), "device_public_key": public.decode(),
        "guardian_number": guardian},
        files={"card": ("card.bin", card, "application/octet-stream"),
               "live_photo": ("face.jpg", face, "image/jpeg")})


def test_a_child_enrols_on_the_page_then_waits_for_the_guardian(
    client: TestClient, session: Session, now: datetime, register_person: Callable[..., Any],
    make_card: Callable[..., bytes], staff_token: Callable[[str], tuple[Any, str]],
) -> None:
    register_person(KIT)
    mother = register_person(MOTHER)
    register_person(SISTER)
    _sign_in(client, KIT, "en")
    page = client.get("/app/echannel")
    assert page.status_code == 200 and 'id="enrol-form"' in page.text
    missing = client.post("/app/echannel/enrol", data={"csrf_token": _csrf(page.text)})
    assert missing.status_code == 422 and 'id="e-card"' in missing.text
    private, public = key_pair()
    card = make_card(KIT, born_on=TEEN_BORN)
    no_guardian = _enrol(client, card, photo("obama2.jpg"), public)
    assert no_guardian.status_code == 422 and 'id="e-guardian_number"' in no_guardian.text
    asked = _enrol(client, card, photo("obama2.jpg"), public, guardian=MOTHER)
    assert asked.status_code == 200, asked.text
    assert 'data-status="pending_guardian"' in asked.text
    assert "approve your enrolment" in asked.text and 'id="gate-qr"' not in asked.text
    request = service.consents_for_guardian(session, mother.id, now=now)[0]
    service.approve_consent(session, request.id, person_id=mother.id, relationship="mother",
                            now=now)
    page = client.get("/app/echannel")
    enrolment = re.search(r'data-enrolment="([0-9a-f-]+)"', page.text)
    assert enrolment is not None and 'id="gate-qr"' in page.text

    # the gates' demonstration, for a border officer
    client.post("/sign-out", data={"csrf_token": _csrf(page.text)})
    member, _token = staff_token("border_officer")
    form = client.get("/staff/sign-in")
    client.post("/staff/sign-in", data={"csrf_token": _csrf(form.text),
                                        "username": member.username,
                                        "password": "password-123", "next": ""})
    gates = client.get("/app/echannel/gates")
    token = _csrf(gates.text)
    import uuid

    text = qr.make_token(uuid.UUID(enrolment.group(1)), private,
                         service.gates_public_key().encode(), now=now)
    opened = client.post("/app/echannel/gates/1", data={"csrf_token": token, "token": text})
    assert 'id="gate1-open"' in opened.text, opened.text
    passage = re.search(r'name="passage_id" value="([0-9a-f-]+)"', opened.text)
    assert passage is not None
    face = client.post("/app/echannel/gates/2", data={"csrf_token": token,
                                                      "passage_id": passage.group(1)},
                       files={"live_photo": ("face.jpg", photo("obama3.jpg"), "image/jpeg")})
    assert 'id="gate2-open"' in face.text
    again = client.post("/app/echannel/gates/1", data={"csrf_token": token, "token": text})
    assert again.status_code == 403 and "replayed" in again.text


def test_under_eleven_is_refused_on_the_page_with_the_reason(
    client: TestClient, register_person: Callable[..., Any], make_card: Callable[..., bytes],
) -> None:
    register_person(SISTER)
    _sign_in(client, SISTER, "zh_Hant")
    refused = _enrol(client, make_card(SISTER, born_on=CHILD_BORN), photo("obama2.jpg"),
                     key_pair()[1], guardian=MOTHER)
    assert refused.status_code == 403
    assert "11" in refused.text and "10" in refused.text
