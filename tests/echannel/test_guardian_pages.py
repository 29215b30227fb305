"""The guardian's pages: the children's requests, approving with the relationship, and
withdrawing, in the three languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from borderpass.echannel import service
from borderpass.echannel.schemas import GuardianNamed
from tests.echannel.conftest import TEEN_BORN, hkid, key_pair, photo

KIT = hkid("K151515")
MOTHER = hkid("M414141")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _sign_in(client: TestClient, number: str, locale: str) -> None:
    client.cookies.set("locale", locale)
    form = client.get("/sign-in")
    done = client.post("/sign-in", data={"csrf_token": _csrf(form.text), "document_kind": "hkid",
                                         "document_number": number, "password": "password-123",
                                         "next": "/"}, follow_redirects=False)
    assert done.status_code == 303, done.text


def test_a_mother_approves_and_withdraws_on_the_page(
    client: TestClient, session: Session, now: datetime, register_person: Callable[..., Any],
    make_card: Callable[..., bytes],
) -> None:
    kit = register_person(KIT)
    register_person(MOTHER)
    enrolment = service.enrol_in_app(
        session, person_id=kit.id, card=make_card(KIT, born_on=TEEN_BORN),
        live_photo=photo("obama2.jpg"), device_public_key=key_pair()[1].decode(),
        guardian=GuardianNamed(document_number=MOTHER), now=now)
    _sign_in(client, MOTHER, "zh_Hant")
    page = client.get("/account/children")
    assert page.status_code == 200
    assert "陳大文" in page.text and "等待你的批准" in page.text, page.text
    consent_id = re.search(r'id="request-([0-9a-f-]+)"', page.text)
    assert consent_id is not None
    action = f"/account/children/{consent_id.group(1)}"
    token = _csrf(page.text)
    refused = client.post(f"{action}/approve", data={"csrf_token": token, "relationship": ""})
    assert refused.status_code == 422
    assert "請選擇你與孩子的關係" in refused.text and "請剔選" in refused.text
    done = client.post(f"{action}/approve", data={"csrf_token": token, "relationship": "mother",
                                                  "consent": "yes"})
    assert done.status_code == 200 and "你已批准陳大文的e-道登記" in done.text, done.text
    session.refresh(enrolment)
    assert (enrolment.status, enrolment.guardian_relationship) == ("active", "mother")
    client.cookies.set("locale", "en")
    page = client.get("/account/children")
    assert "Approved" in page.text and "Mother" in page.text
    withdrawn = client.post(f"{action}/withdraw", data={"csrf_token": token})
    assert "You withdrew your consent" in withdrawn.text
    session.refresh(enrolment)
    assert enrolment.status == "withdrawn"
    client.cookies.set("locale", "zh_Hans")
    assert "已撤回同意" in client.get("/account/children").text


def test_an_unproven_account_is_told_to_prove_first(
    client: TestClient, session: Session, now: datetime,
) -> None:
    from borderpass.identity import service as identity
    from tests.conftest import DEMO_PDF
    from tests.messages import pin_sent

    registration = identity.start_registration(session, now=now)
    identity.submit_registration(session, registration.id, identity.parse_details({
        "name_zh": "陳太", "name_en": "CHAN Mei", "document_kind": "hkid",
        "document_number": MOTHER, "document_issued_on": "2015-01-01",
        "phone": "+85291230000", "address": "Flat B, 1 Test Road", "password": "password-123"}),
        DEMO_PDF, now=now)
    identity.activate(session, registration.id,
                      pin_sent(session, str(registration.id), now=now), now=now)
    _sign_in(client, MOTHER, "en")
    page = client.get("/account/children")
    assert page.status_code == 200
    assert 'id="guardian-not-proven"' in page.text and "/account/prove" in page.text
