"""Levels of identity assurance: claimed and proven accounts, no silent takeover, the help
desk, the issuing registry and its letter, and the officers' cases."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.models import IdentityCase, Person
from borderpass.identity.schemas import RegistrationDetails
from borderpass.kit import outbox
from tests.conftest import DEMO_PDF
from tests.messages import Phone, pin_sent

NUMBER = "C668668(9)"
MACAU = "1234567(8)"
PASSWORD = "password-123"  # noqa: S105 - a test account's password


def _details(number: str = NUMBER, *, kind: str = "hkid", phone: str = "+85291111111",
             password: str = PASSWORD, **more: Any) -> RegistrationDetails:
    fields: dict[str, Any] = {
        "name_zh": "張三", "name_en": "CHEUNG Sam", "document_kind": kind,
        "document_number": number, "document_issued_on": "2016-05-02", "phone": phone,
        "address": "Flat 9, 9/F, 9 Typed Road, Sha Tin", "password": password,
    }
    fields.update(more)
    return RegistrationDetails.model_validate(fields)


def _submit(session: Session, now: datetime, **details: Any) -> uuid.UUID:
    registration = identity.start_registration(session, now=now)
    identity.submit_registration(session, registration.id, _details(**details), DEMO_PDF,
                                 now=now)
    return registration.id


def _claimed(session: Session, now: datetime, **details: Any) -> Person:
    """Register by typed number and SMS PIN: a claimed account."""
    registration = _submit(session, now, **details)
    person, _token, _expires = identity.activate(
        session, registration, pin_sent(session, str(registration), now=now), now=now)
    return person


@pytest.fixture()
def helper(session: Session, now: datetime) -> Any:
    return identity.create_staff(session, f"desk-{uuid.uuid4().hex[:6]}", "Desk", "help_desk",
                                 "password-123", now=now)


def test_a_pin_activation_is_claimed_and_a_help_desk_one_proven(
        session: Session, now: datetime, register_person: Any) -> None:
    claimed = _claimed(session, now)
    assert (claimed.status, claimed.assurance, claimed.proven_at) == ("active", "claimed", None)
    assert not identity.is_proven(session, claimed.id)
    proven = register_person("A123456(3)")
    assert (proven.assurance, proven.proof_method) == ("proven", "help_desk")
    assert proven.proven_by is not None and proven.proven_at == now
    assert identity.is_proven(session, proven.id)


def test_a_second_registration_deletes_and_replaces_nothing(
        session: Session, now: datetime) -> None:
    first = _submit(session, now, phone="+85291111111")
    first_pin = pin_sent(session, str(first), now=now)
    second = _submit(session, now + timedelta(minutes=1), phone="+85292222222")
    # The first registration's person is still there, and its own PIN still works.
    person, _token, _ = identity.activate(session, first, first_pin, now=now + timedelta(
        minutes=2))
    assert person.status == "active"
    other, _token, _ = identity.activate(
        session, second, pin_sent(session, str(second), now=now + timedelta(minutes=2)),
        now=now + timedelta(minutes=3))
    assert other.id != person.id
    accounts = session.scalars(select(Person).where(Person.doc_index == person.doc_index)).all()
    assert {p.status for p in accounts} == {"active"} and len(accounts) == 2


def test_each_claimed_account_signs_in_with_its_own_password(
        session: Session, now: datetime) -> None:
    mine = _claimed(session, now, password="first-password")
    theirs = _claimed(session, now, phone="+85292222222", password="second-password")
    signed, _token, _ = identity.sign_in(session, "hkid", NUMBER, "first-password", now=now)
    assert signed.id == mine.id
    signed, _token, _ = identity.sign_in(session, "hkid", NUMBER, "second-password", now=now)
    assert signed.id == theirs.id
    with pytest.raises(identity.SignInFailed):
        identity.sign_in(session, "hkid", NUMBER, "neither-password", now=now)


def test_a_document_takes_a_few_claimed_accounts_then_only_proof(
        session: Session, now: datetime, helper: Any) -> None:
    squatters = [_claimed(session, now, phone=f"+8529333333{n}") for n in range(3)]
    registration = _submit(session, now, phone="+85294444444")
    with pytest.raises(identity.TooManyClaims) as refused:
        identity.activate(session, registration,
                          pin_sent(session, str(registration), now=now), now=now)
    assert refused.value.code == "too_many_claims" and "3 accounts" in refused.value.render()
    # The holder is not blocked: at a help desk the document is theirs at once.
    desk = _submit(session, now, phone="+85295555555")
    holder = identity.activate_by_officer(session, desk, officer=helper.id, now=now)
    assert holder.assurance == "proven"
    for squatter in squatters:
        session.refresh(squatter)
        assert (squatter.status, squatter.suspended_reason) == ("suspended", "holder_proven")
    cases = session.scalars(select(IdentityCase).where(
        IdentityCase.proven_person_id == holder.id)).all()
    assert sorted(c.suspended_person_id for c in cases) == sorted(s.id for s in squatters)
    assert identity.claims_suspended_by(session, holder.id) == 3
    # Once proven, the document is closed to new registrations.
    with pytest.raises(identity.AlreadyRegistered):
        _submit(session, now, phone="+85296666666")


def test_a_pending_registration_cannot_activate_once_another_proved(
        session: Session, now: datetime, helper: Any) -> None:
    pending = _submit(session, now, phone="+85291111111")
    pin = pin_sent(session, str(pending), now=now)
    desk = _submit(session, now, phone="+85297777777")
    identity.activate_by_officer(session, desk, officer=helper.id, now=now)
    with pytest.raises(identity.AlreadyRegistered):
        identity.activate(session, pending, pin, now=now)


def test_at_most_one_proven_holder_even_if_two_proofs_cross(
        session: Session, now: datetime) -> None:
    first = _claimed(session, now, phone="+85291111111")
    second = _claimed(session, now, phone="+85292222222")
    identity.prove_holder(session, first.id, method="help_desk", officer=uuid.uuid4(), now=now)
    session.refresh(second)
    assert second.status == "suspended"
    with pytest.raises(identity.ProofRefused):
        identity.prove_holder(session, second.id, method="help_desk", now=now)
    # Even written around the service, the database keeps one proven holder per document.
    from sqlalchemy.exc import IntegrityError

    second.status, second.assurance = "active", "proven"
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_help_desk_proves_an_existing_account_by_its_phone(
        client: TestClient, session: Session, now: datetime, staff_token: Any) -> None:
    squatter = _claimed(session, now, phone="+85298888888")
    holder = _claimed(session, now, phone="+85291111111")
    _member, token = staff_token("help_desk")
    body = {"document_kind": "hkid", "document_number": NUMBER, "phone": "+852 9111 1111",
            "card_checked": True}
    unchecked = client.post("/api/identity/help-desk/proofs", headers=_headers(token),
                            json={**body, "card_checked": False})
    assert unchecked.status_code == 422 and unchecked.json()["error"]["field"] == "card_checked"
    unknown = client.post("/api/identity/help-desk/proofs", headers=_headers(token),
                          json={**body, "phone": "+852 9000 0000"})
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "phone"
    _resident, resident_token, _ = identity.sign_in(session, "hkid", NUMBER, "password-123",
                                                    now=now)
    assert client.post("/api/identity/help-desk/proofs", headers=_headers(resident_token),
                       json=body).status_code == 403
    proved = client.post("/api/identity/help-desk/proofs", headers=_headers(token), json=body)
    assert proved.status_code == 200, proved.text
    assert proved.json() == {**proved.json(), "person_id": str(holder.id),
                             "assurance": "proven", "proof_method": "help_desk",
                             "suspended_claims": 1}
    session.refresh(squatter)
    assert squatter.status == "suspended"
    again = client.post("/api/identity/help-desk/proofs", headers=_headers(token), json=body)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "holder_already_proven"


def test_officer_closes_a_case_with_a_note(
        client: TestClient, session: Session, now: datetime, staff_token: Any,
        helper: Any) -> None:
    _claimed(session, now, phone="+85298888888")
    desk = _submit(session, now, phone="+85291111111")
    identity.activate_by_officer(session, desk, officer=helper.id, now=now)
    _member, token = staff_token("supervisor")
    [case] = client.get("/api/identity/cases", headers=_headers(token)).json()
    assert case["method"] == "help_desk" and case["suspended_initials"] == "CS"
    empty = client.post(f"/api/identity/cases/{case['id']}/close", headers=_headers(token),
                        json={"note": ""})
    assert empty.status_code == 422
    closed = client.post(f"/api/identity/cases/{case['id']}/close", headers=_headers(token),
                         json={"note": "Second account of the holder; told them."})
    assert closed.status_code == 200 and closed.json()["closed_at"] is not None
    assert client.get("/api/identity/cases", headers=_headers(token)).json() == []
    every = client.get("/api/identity/cases?state=all", headers=_headers(token)).json()
    assert [c["note"] for c in every] == ["Second account of the holder; told them."]
    twice = client.post(f"/api/identity/cases/{case['id']}/close", headers=_headers(token),
                        json={"note": "again"})
    assert twice.status_code == 409
    missing = client.post(f"/api/identity/cases/{uuid.uuid4()}/close", headers=_headers(token),
                          json={"note": "x"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "case_not_found"


# --- the issuing registry and its letter ----------------------------------------------------

REGISTRY_CSV = (
    "document_number,name_en,born_on,issued_on,address\n"
    f"{MACAU},CHEUNG Sam,1988-02-29,2016-05-02,\"Rua do Registo 1, 3 andar, Macau\"\n"
)


@pytest.fixture()
def macau_registry(client: TestClient, session: Session, now: datetime) -> str:
    """An issuing registry of Macau identity cards with one record loaded; its API key."""
    _registry, key = identity.create_registry(session, f"Macau Registry {uuid.uuid4().hex[:6]}",
                                              "macau", now=now)
    loaded = client.post("/api/identity/registry-records", content=REGISTRY_CSV,
                         headers={"X-API-Key": key, "Content-Type": "text/csv"})
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["inserted"] == 1
    return key


def _letters(session: Session, now: datetime) -> list[outbox.Delivery]:
    phone = Phone()
    outbox.deliver(session, phone, now=now)
    return [d for d in phone.received.values() if d.purpose == "identity_letter"]


def test_a_document_without_a_chip_is_proven_by_the_registry_and_a_letter(
        client: TestClient, session: Session, now: datetime, macau_registry: str,
        lab: Any) -> None:
    person = _claimed(session, now, number=MACAU, kind="macau", phone="+85361234567")
    _source, lab_key = lab
    collected = now - timedelta(hours=5)
    client.post("/api/evidence/tests", headers={"X-API-Key": lab_key, "Content-Type": "text/csv"},
                content="specimen_id,document_kind,document_number,collected_at,reported_at,"
                        f"method,result,lab\nMO-1,macau,{MACAU},{collected.isoformat()},"
                        f"{(collected + timedelta(hours=1)).isoformat()},PCR,negative,\n")
    _p, token, _ = identity.sign_in(session, "macau", MACAU, "password-123", now=now)
    headers = _headers(token)
    assert client.get("/api/evidence/mine", headers=headers).json()["tests"] == []

    wrong = client.post("/api/me/proof/letter", headers=headers, json={"born_on": "1988-03-01"})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "registry_mismatch"
    assert _letters(session, now) == []
    sent = client.post("/api/me/proof/letter", headers=headers, json={"born_on": "1988-02-29"})
    assert sent.status_code == 202, sent.text
    assert sent.json()["channel"] == "letter"
    too_soon = client.post("/api/me/proof/letter", headers=headers,
                           json={"born_on": "1988-02-29"})
    assert too_soon.status_code == 409 and too_soon.json()["error"]["code"] == "letter_too_soon"

    not_yet = client.post("/api/me/proof/letter/confirm", headers=headers, json={"pin": "000000"})
    assert not_yet.status_code == 409 and not_yet.json()["error"]["code"] == "letter_not_sent"
    [letter] = _letters(session, now)
    # The letter goes to the address the registry holds, not the one typed at registration.
    assert letter.channel == "letter" and "Rua do Registo 1" in letter.recipient
    assert "Typed Road" not in letter.recipient
    pin = re.search(r"\b(\d{6})\b", letter.body)
    assert pin is not None
    wrong_pin = "000000" if pin.group(1) != "000000" else "111111"
    bad = client.post("/api/me/proof/letter/confirm", headers=headers, json={"pin": wrong_pin})
    assert bad.status_code == 422 and "4 attempts left" in bad.json()["error"]["message"]
    good = client.post("/api/me/proof/letter/confirm", headers=headers,
                       json={"pin": pin.group(1)})
    assert good.status_code == 200, good.text
    assert good.json()["proof_method"] == "registry_letter"
    session.refresh(person)
    assert person.assurance == "proven"
    assert [t["specimen_id"] for t in client.get("/api/evidence/mine",
                                                 headers=headers).json()["tests"]] == ["MO-1"]
    used = client.post("/api/me/proof/letter/confirm", headers=headers,
                       json={"pin": pin.group(1)})
    assert used.status_code == 409 and used.json()["error"]["code"] == "already_proven"


def test_the_letter_is_for_documents_without_a_chip(
        client: TestClient, session: Session, now: datetime) -> None:
    _claimed(session, now)
    _p, token, _ = identity.sign_in(session, "hkid", NUMBER, "password-123", now=now)
    refused = client.post("/api/me/proof/letter", headers=_headers(token),
                          json={"born_on": "1988-02-29"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "chip_document"


def test_failed_proofs_are_limited_per_day(
        client: TestClient, session: Session, now: datetime, macau_registry: str) -> None:
    _claimed(session, now, number=MACAU, kind="macau", phone="+85361234567")
    _p, token, _ = identity.sign_in(session, "macau", MACAU, "password-123", now=now)
    for _ in range(identity.PROOF_FAILURES_PER_DAY):
        wrong = client.post("/api/me/proof/letter", headers=_headers(token),
                            json={"born_on": "1970-01-01"})
        assert wrong.json()["error"]["code"] == "registry_mismatch"
    right = client.post("/api/me/proof/letter", headers=_headers(token),
                        json={"born_on": "1988-02-29"})
    assert right.status_code == 429
    assert right.json()["error"]["code"] == "too_many_proof_attempts"


def test_the_registry_name_matches_in_any_order_and_case(
        session: Session, now: datetime) -> None:
    registry, _key = identity.create_registry(session, "MO Registry", "macau", now=now)
    identity.load_registry_records(session, registry.id, REGISTRY_CSV.replace(
        "CHEUNG Sam", "sam cheung").encode(), "csv", now=now)
    person = _claimed(session, now, number=MACAU, kind="macau", phone="+85361234567")
    letter = identity.request_letter(session, person.id, born_on=date(1988, 2, 29), now=now)
    assert letter.expires_at == now + timedelta(days=30)
