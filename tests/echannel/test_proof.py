"""Proving a resident's identity with the smart identity card's chip and a live photo of
the face, on the site: what the pages show a claimed account, and how a proof goes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.models import Person, ProofAttempt
from tests.conftest import DEMO_PDF
from tests.echannel.conftest import photo
from tests.messages import pin_sent

NUMBER = "A123456(3)"
PASSWORD = "claimed-password"  # noqa: S105 - a test account's password


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _claimed_and_signed_in(client: TestClient, session: Session, now: datetime) -> Person:
    """Register on the site with a typed number and an SMS PIN, and stay signed in."""
    from borderpass.identity.schemas import RegistrationDetails

    registration = identity.start_registration(session, now=now)
    identity.submit_registration(session, registration.id, RegistrationDetails(
        name_zh="陳大文", name_en="CHAN Tai Man", document_kind="hkid", document_number=NUMBER,
        document_issued_on="2015-01-01", phone="+85291234567",
        address="Flat A, 12/F, 1 Test Road, Tsuen Wan", password=PASSWORD), DEMO_PDF, now=now)
    person, _token, _ = identity.activate(
        session, registration.id, pin_sent(session, str(registration.id), now=now), now=now)
    client.cookies.set("locale", "en")
    form = client.get("/sign-in")
    done = client.post("/sign-in", data={"csrf_token": _csrf(form.text), "document_kind": "hkid",
                                         "document_number": NUMBER, "password": PASSWORD,
                                         "next": "/"}, follow_redirects=False)
    assert done.status_code == 303, done.text
    return person


def _prove(client: TestClient, card: bytes, face: bytes) -> Any:
    page = client.get("/account/prove")
    return client.post("/account/prove/card", data={"csrf_token": _csrf(page.text)},
                       files={"card": ("card.bin", card, "application/octet-stream"),
                              "live_photo": ("me.jpg", face, "image/jpeg")},
                       follow_redirects=False)


def test_a_claimed_account_is_told_and_proves_with_card_and_face(
        client: TestClient, session: Session, now: datetime,
        make_card: Callable[..., bytes]) -> None:
    person = _claimed_and_signed_in(client, session, now)
    account = client.get("/account")
    assert "Not proven" in account.text and 'href="/account/prove"' in account.text
    home = client.get("/")
    assert 'id="identity-unproven"' in home.text
    assert 'id="identity-unproven"' in client.get("/code").text
    prove = client.get("/account/prove")
    assert prove.status_code == 200
    assert 'action="/account/prove/card"' in prove.text
    assert 'action="/account/prove/letter"' not in prove.text  # an HKID has a chip

    missing = client.post("/account/prove/card", data={"csrf_token": _csrf(prove.text)})
    assert missing.status_code == 422
    assert "Attach the chip of your identity card." in missing.text

    stranger = _prove(client, make_card(), photo("biden.jpg"))
    assert stranger.status_code == 422
    assert "does not match the photo on the card" in stranger.text
    # The failed attempt is kept, though the page reports an error.
    attempts = session.scalars(select(ProofAttempt).where(
        ProofAttempt.person_id == person.id)).all()
    assert [(a.succeeded, a.reason) for a in attempts] == [(False, "face_mismatch")]

    forged = bytearray(make_card())
    forged[-5] ^= 0x01
    refused = _prove(client, bytes(forged), photo("obama2.jpg"))
    assert refused.status_code == 422 and "could not be verified" in refused.text

    proved = _prove(client, make_card(), photo("obama2.jpg"))
    assert proved.status_code == 303 and proved.headers["location"] == "/account"
    shown = client.get("/account")
    assert "Your identity is proven" in shown.text and 'id="assurance"' in shown.text
    assert "Not proven" not in shown.text
    session.refresh(person)
    assert (person.assurance, person.proof_method) == ("proven", "card_face")
    assert 'id="identity-proven"' in client.get("/account/prove").text
    again = _prove(client, make_card(), photo("obama2.jpg"))
    assert again.status_code == 409 and "already proven" in again.text


def test_the_card_names_the_proven_holder(
        client: TestClient, session: Session, now: datetime,
        make_card: Callable[..., bytes]) -> None:
    """A proven account takes the chip's names and date of issue over what was typed."""
    person = _claimed_and_signed_in(client, session, now)
    from borderpass.echannel import service as echannel

    echannel.prove_with_card(session, person_id=person.id, card=make_card(),
                             live_photo=photo("obama3.jpg"), now=now)
    view = identity.person_view(person)
    assert (view.name_en, view.name_zh, view.document_issued_on.isoformat()) == (
        "CHAN Tai Man", "陳大文", "2020-01-01")
    assert view.assurance == "proven"


def test_five_failed_proofs_a_day_then_the_help_desk(
        session: Session, now: datetime, make_card: Callable[..., bytes]) -> None:
    from borderpass.echannel import service as echannel
    from borderpass.identity.schemas import RegistrationDetails
    from borderpass.kit.errors import BorderpassError

    registration = identity.start_registration(session, now=now)
    identity.submit_registration(session, registration.id, RegistrationDetails(
        name_zh="陳大文", name_en="CHAN Tai Man", document_kind="hkid", document_number=NUMBER,
        document_issued_on="2015-01-01", phone="+85291234567",
        address="Flat A, 12/F, 1 Test Road, Tsuen Wan", password=PASSWORD), DEMO_PDF, now=now)
    person, _token, _ = identity.activate(
        session, registration.id, pin_sent(session, str(registration.id), now=now), now=now)
    codes = []
    for _ in range(identity.PROOF_FAILURES_PER_DAY + 1):
        try:
            echannel.prove_with_card(session, person_id=person.id, card=make_card(),
                                     live_photo=photo("biden.jpg"), now=now)
        except BorderpassError as error:
            codes.append(error.code)
    assert codes == ["face_mismatch"] * 5 + ["too_many_proof_attempts"]
