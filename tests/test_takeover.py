"""The takeover of a document, refused at every step.

A laboratory reports a positive result for a document nobody has registered; a stranger
registers that document with their own phone. The stranger's claimed account sees nothing
of the result and its code rests on nothing of it; the stranger cannot prove with the card
(wrong face, wrong card); the real holder can still register, proves with the card's chip
and a live photo of their face (real photographs, tests/vectors/faces), and gets the
document and its evidence; the stranger's tokens, web session and codes die, and an
officer sees the case.
"""

from __future__ import annotations

import base64
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import DEMO_PDF
from tests.messages import pin_sent

FACES = Path(__file__).resolve().parent / "vectors" / "faces"
VICTIM = "K123456(0)"
STRANGERS_OWN = "G123456(A)"
SPECIMEN = "SPEC-VICTIM-0001"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _card(number: str, face: str) -> bytes:
    """A smart identity card as its chip holds it, its photo cut from a real photograph."""
    from borderpass.echannel import service as echannel

    return echannel.make_demo_card(photo=(FACES / face).read_bytes(), number=number,
                                   name_en="WONG Siu Fung", name_zh="黃小峰",
                                   born_on=date(1961, 8, 4), issued_on=date(2019, 3, 1))


def _register(client: TestClient, session: Any, *, phone: str, name: str, password: str,
              now: datetime) -> str:
    """Register the victim's number through the API with a phone; return the access token."""
    started = client.post("/api/registrations").json()["id"]
    submitted = client.post(f"/api/registrations/{started}/details", data={
        "name_zh": "黃小峰", "name_en": name, "document_kind": "hkid",
        "document_number": VICTIM, "document_issued_on": "2019-03-01", "phone": phone,
        "address": "Flat 1, 2/F, 3 Any Street, Kowloon", "password": password,
        "locale": "en"}, files={"proof": ("bill.pdf", DEMO_PDF, "application/pdf")})
    assert submitted.status_code == 200, submitted.text
    pin = pin_sent(session, started, now=now)
    activated = client.post(f"/api/registrations/{started}/activate", json={"pin": pin})
    assert activated.status_code == 200, activated.text
    return str(activated.json()["access"]["token"])


def _csrf(page: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_the_takeover_is_refused_at_every_step(
        app: Any, client: TestClient, session: Any, now: datetime, lab: Any,
        staff_token: Any) -> None:
    _source, lab_key = lab
    collected = now - timedelta(hours=20)
    batch = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,"
             "result,lab\n"
             f"{SPECIMEN},hkid,{VICTIM},{collected.isoformat()},"
             f"{(collected + timedelta(hours=3)).isoformat()},PCR,positive,\n")
    posted = client.post("/api/evidence/tests", content=batch,
                         headers={"X-API-Key": lab_key, "Content-Type": "text/csv"})
    assert posted.status_code == 200, posted.text

    # A stranger registers the victim's number with their own phone: a claimed account.
    stranger = _register(client, session, phone="+85262222222", name="WONG Siu Fung",
                         password="stranger-password", now=now)
    as_stranger = {"Authorization": f"Bearer {stranger}"}
    assert client.get("/api/me", headers=as_stranger).json()["assurance"] == "claimed"
    mine = client.get("/api/evidence/mine", headers=as_stranger)
    assert mine.status_code == 200
    assert mine.json()["tests"] == [] and mine.json()["withheld"] is True
    assert SPECIMEN not in mine.text and "positive" not in mine.text
    code = client.get("/api/health-code", headers=as_stranger)
    assert code.status_code == 200
    assert code.json()["identity"] == "claimed"
    # Its status rests on nothing the laboratory said: no negative test, not the positive.
    assert [reason["rule"] for reason in code.json()["status"]["reasons"]] == [
        "HK-RED-TEST-48H"]
    stranger_code = code.json()["text"]

    # The stranger's browser: signed in on the site, the evidence page shows nothing.
    browser = TestClient(app, raise_server_exceptions=False)
    form = browser.get("/sign-in")
    signed_in = browser.post("/sign-in", data={
        "csrf_token": _csrf(form), "document_kind": "hkid", "document_number": VICTIM,
        "password": "stranger-password", "next": "/evidence"}, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    page = browser.get("/evidence", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'id="identity-unproven"' in page.text and SPECIMEN not in page.text

    # The stranger cannot prove with the victim's card: their face is not its photo.
    card = _card(VICTIM, "obama.jpg")
    wrong_face = client.post("/api/me/proof/card", headers=as_stranger, json={
        "card": _b64(card), "live_photo": _b64((FACES / "biden.jpg").read_bytes())})
    assert wrong_face.status_code == 422
    assert wrong_face.json()["error"]["code"] == "face_mismatch"
    # Nor with their own card, which is another document.
    own_card = client.post("/api/me/proof/card", headers=as_stranger, json={
        "card": _b64(_card(STRANGERS_OWN, "biden.jpg")),
        "live_photo": _b64((FACES / "biden.jpg").read_bytes())})
    assert own_card.status_code == 403
    assert own_card.json()["error"]["code"] == "card_not_yours"

    # The real holder is not blocked: registering the same number proceeds.
    holder = _register(client, session, phone="+85263333333", name="WONG Siu Fung",
                       password="holder-password", now=now)
    as_holder = {"Authorization": f"Bearer {holder}"}
    assert client.get("/api/evidence/mine", headers=as_holder).json()["tests"] == []
    # The holder proves with the card's chip and a live photo of their own face.
    proved = client.post("/api/me/proof/card", headers=as_holder, json={
        "card": _b64(card), "live_photo": _b64((FACES / "obama2.jpg").read_bytes())})
    assert proved.status_code == 200, proved.text
    assert proved.json()["assurance"] == "proven"
    assert proved.json()["proof_method"] == "card_face"
    assert proved.json()["suspended_claims"] == 1

    # The document is the holder's: the laboratory's result is shown and counts.
    theirs = client.get("/api/evidence/mine", headers=as_holder).json()
    assert [t["specimen_id"] for t in theirs["tests"]] == [SPECIMEN]
    assert theirs["withheld"] is False
    holder_code = client.get("/api/health-code", headers=as_holder).json()
    assert holder_code["identity"] == "proven"
    assert "HK-RED-POSITIVE" in [reason["rule"] for reason in holder_code["status"]["reasons"]]

    # The stranger's tokens, web session and code die; signing in again is refused.
    assert client.get("/api/me", headers=as_stranger).status_code == 401
    assert client.get("/api/evidence/mine", headers=as_stranger).status_code == 401
    gone = browser.get("/evidence", follow_redirects=False)
    assert gone.status_code in (302, 303) and "/sign-in" in gone.headers["location"]
    verdict = client.post("/api/health-codes/verify", json={"text": stranger_code}).json()
    assert verdict["valid"] is False and verdict["error"] == "revoked"
    again = client.post("/api/sessions", json={"document_kind": "hkid",
                                               "document_number": VICTIM,
                                               "password": "stranger-password"})
    assert again.status_code == 403
    assert again.json()["error"]["code"] == "account_suspended"
    # The holder signs in with their own password, to their own account.
    own = client.post("/api/sessions", json={"document_kind": "hkid", "document_number": VICTIM,
                                             "password": "holder-password"})
    assert own.status_code == 200
    me = client.get("/api/me", headers={"Authorization": f"Bearer {own.json()['token']}"})
    assert me.json()["assurance"] == "proven" and me.json()["phone"] == "+85263333333"

    # An officer sees the case; a resident does not.
    _officer, officer_token = staff_token("help_desk")
    cases = client.get("/api/identity/cases",
                       headers={"Authorization": f"Bearer {officer_token}"})
    assert cases.status_code == 200
    [case] = [c for c in cases.json() if c["document_masked"] == "K1*****(0)"]
    assert case["method"] == "card_face" and case["reason"] == "holder_proven"
    assert case["suspended_phone"] == "+852 ******22" and case["closed_at"] is None
    assert client.get("/api/identity/cases", headers=as_holder).status_code == 403
    browser.close()
