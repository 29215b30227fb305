"""The officers' pages of identity assurance: proving an account at the help desk, the
identity cases, and what the scanner says about a holder whose identity is not proven;
and the letter's steps on a resident's page."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.schemas import RegistrationDetails
from tests.conftest import DEMO_PDF
from tests.messages import pin_sent

NUMBER = "C668668(9)"
PASSWORD = "claimed-password"  # noqa: S105 - a test account's password


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _claimed(session: Session, now: datetime, *, number: str = NUMBER, kind: str = "hkid",
             phone: str = "+85291111111") -> Any:
    registration = identity.start_registration(session, now=now)
    identity.submit_registration(session, registration.id, RegistrationDetails(
        name_zh="張三", name_en="CHEUNG Sam", document_kind=kind, document_number=number,
        document_issued_on="2016-05-02", phone=phone, address="Flat 9, 9 Typed Road, Sha Tin",
        password=PASSWORD), DEMO_PDF, now=now)
    person, _token, _ = identity.activate(
        session, registration.id, pin_sent(session, str(registration.id), now=now), now=now)
    return person


def _staff(client: TestClient, staff_token: Any, role: str) -> Any:
    member, _token = staff_token(role)
    client.cookies.set("locale", "en")
    page = client.get("/staff/sign-in")
    done = client.post("/staff/sign-in", data={
        "csrf_token": _csrf(page.text), "username": member.username,
        "password": "password-123", "next": ""}, follow_redirects=False)
    assert done.status_code == 303
    return member


def test_help_desk_proves_an_account_and_reviews_the_case(
        client: TestClient, session: Session, now: datetime, staff_token: Any) -> None:
    squatter = _claimed(session, now, phone="+85298888888")
    _claimed(session, now, phone="+85291111111")
    _staff(client, staff_token, "help_desk")
    desk = client.get("/officer/help-desk")
    assert 'href="/officer/help-desk/prove"' in desk.text
    form = client.get("/officer/help-desk/prove")
    assert form.status_code == 200
    values = {"csrf_token": _csrf(form.text), "document_kind": "hkid",
              "document_number": NUMBER, "phone": "+852 9111 1111"}
    unchecked = client.post("/officer/help-desk/prove", data=values)
    assert unchecked.status_code == 422
    assert "Confirm that you have seen the original identity card." in unchecked.text
    wrong = client.post("/officer/help-desk/prove",
                        data={**values, "phone": "+852 9000 0000", "card_checked": "yes"})
    assert wrong.status_code == 404 and "No account of this document" in wrong.text
    done = client.post("/officer/help-desk/prove", data={**values, "card_checked": "yes"})
    assert done.status_code == 200
    assert "The account is proven" in done.text
    assert "1 other account that claimed this document is suspended" in done.text

    cases = client.get("/officer/identity-cases")
    assert cases.status_code == 200
    assert "C6*****(9)" in cases.text and "+852 ******88" in cases.text
    case_id = re.search(r'action="/officer/identity-cases/([0-9a-f-]+)/close"', cases.text)
    assert case_id is not None
    empty = client.post(f"/officer/identity-cases/{case_id.group(1)}/close",
                        data={"csrf_token": _csrf(cases.text), "note": " "})
    assert empty.status_code == 422 and "1 to 500 characters" in empty.text
    closed = client.post(f"/officer/identity-cases/{case_id.group(1)}/close",
                         data={"csrf_token": _csrf(cases.text),
                               "note": "Registered with a borrowed card; reported."},
                         follow_redirects=False)
    assert closed.status_code == 303
    assert "No cases." in client.get("/officer/identity-cases").text
    history = client.get("/officer/identity-cases?closed=true")
    assert "Registered with a borrowed card; reported." in history.text
    session.refresh(squatter)
    assert squatter.status == "suspended"


def test_a_resident_cannot_see_the_cases(client: TestClient, session: Session,
                                         now: datetime, staff_token: Any) -> None:
    _staff(client, staff_token, "border_officer")
    assert client.get("/officer/identity-cases").status_code == 403
    assert client.get("/officer/help-desk/prove").status_code == 403


def test_the_scanner_says_when_the_holders_identity_is_not_proven(
        client: TestClient, session: Session, now: datetime, staff_token: Any,
        register_person: Any) -> None:
    from borderpass.healthcode import service as healthcode

    claimed = _claimed(session, now)
    proven = register_person("A123456(3)")
    claimed_code = healthcode.issue(session, claimed.id, now=now).text
    proven_code = healthcode.issue(session, proven.id, now=now).text
    _staff(client, staff_token, "border_officer")
    page = client.get("/officer/scan")
    shown = client.post("/officer/scan/text", data={"csrf_token": _csrf(page.text),
                                                    "code_text": claimed_code})
    assert shown.status_code == 200
    assert 'id="identity-unproven"' in shown.text and "Check the identity document" in shown.text
    shown = client.post("/officer/scan/text", data={"csrf_token": _csrf(page.text),
                                                    "code_text": proven_code})
    assert 'id="identity-proven"' in shown.text and 'id="identity-unproven"' not in shown.text


def test_the_letters_steps_on_the_residents_page(
        client: TestClient, session: Session, now: datetime) -> None:
    registry, _key = identity.create_registry(session, f"MO {uuid.uuid4().hex[:6]}", "macau",
                                              now=now)
    identity.load_registry_records(session, registry.id, (
        b"document_number,name_en,born_on,issued_on,address\n"
        b"1234567(8),CHEUNG Sam,1988-02-29,2016-05-02,Rua do Registo 1\n"), "csv",
        now=now)
    _claimed(session, now, number="1234567(8)", kind="macau", phone="+85361234567")
    client.cookies.set("locale", "en")
    form = client.get("/sign-in")
    client.post("/sign-in", data={"csrf_token": _csrf(form.text), "document_kind": "macau",
                                  "document_number": "1234567(8)", "password": PASSWORD,
                                  "next": "/"})
    prove = client.get("/account/prove")
    assert 'action="/account/prove/letter"' in prove.text
    assert 'action="/account/prove/card"' not in prove.text
    bad_date = client.post("/account/prove/letter", data={"csrf_token": _csrf(prove.text),
                                                          "born_on": "29/02/1988"})
    assert bad_date.status_code == 422 and "Give a date." in bad_date.text
    mismatch = client.post("/account/prove/letter", data={"csrf_token": _csrf(prove.text),
                                                          "born_on": "1988-03-01"})
    assert mismatch.status_code == 422 and "does not match" in mismatch.text
    sent = client.post("/account/prove/letter", data={"csrf_token": _csrf(prove.text),
                                                      "born_on": "1988-02-29"},
                       follow_redirects=False)
    assert sent.status_code == 303
    shown = client.get("/account/prove")
    expires = (now + timedelta(days=30)).date().isoformat()
    assert f"Enter the PIN here before {expires}" in shown.text
    early = client.post("/account/prove/letter/confirm",
                        data={"csrf_token": _csrf(shown.text), "pin": "123456"})
    assert early.status_code == 409 and "has not been sent yet" in early.text
    short = client.post("/account/prove/letter/confirm",
                        data={"csrf_token": _csrf(shown.text), "pin": "123"})
    assert short.status_code == 422 and "The PIN has 6 digits." in short.text
