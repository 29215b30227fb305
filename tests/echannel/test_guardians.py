"""A guardian's consent to a child's enrolment in the app: only the proven holder of the
HKID number the child named can approve it, stating the relationship, within 7 days; the
approval is recorded and can be withdrawn; until then the gates do not know the child."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from borderpass.echannel import qr, service
from borderpass.echannel.models import Enrolment, GuardianConsent
from borderpass.echannel.schemas import GuardianNamed
from borderpass.identity import service as identity
from borderpass.kit.errors import BorderpassError
from tests.conftest import DEMO_PDF
from tests.echannel.conftest import CHILD_BORN, TEEN_BORN, hkid, key_pair, photo
from tests.messages import pin_sent

KIT = hkid("K150150")
SISTER = hkid("K090090")
MOTHER = hkid("M404040")
STRANGER = hkid("S606060")


@pytest.fixture()
def family(session: Session, register_person: Callable[..., Any]) -> dict[str, Any]:
    """Kit (15), his sister (9) and their mother, registered at a help desk (proven)."""
    return {"kit": register_person(KIT), "sister": register_person(SISTER),
            "mother": register_person(MOTHER)}


def _kit_asks(session: Session, kit: Any, make_card: Callable[..., bytes], now: datetime,
              guardian: str = MOTHER, device: bytes | None = None) -> Enrolment:
    return service.enrol_in_app(
        session, person_id=kit.id, card=make_card(KIT, born_on=TEEN_BORN),
        live_photo=photo("obama2.jpg"),
        device_public_key=(device or key_pair()[1]).decode(),
        guardian=GuardianNamed(document_number=guardian), now=now)


def _request_of(session: Session, enrolment: Enrolment) -> GuardianConsent:
    consent = session.scalars(select(GuardianConsent).where(
        GuardianConsent.enrolment_id == enrolment.id)).one()
    return consent


def test_the_mother_approves_and_the_enrolment_becomes_active(
    session: Session, now: datetime, family: dict[str, Any], make_card: Callable[..., bytes],
) -> None:
    private, public = key_pair()
    pending = _kit_asks(session, family["kit"], make_card, now, device=public)
    assert pending.status == "pending_guardian"
    # the gates do not know a pending enrolment
    token = qr.make_token(pending.id, private, service.gates_public_key().encode(), now=now)
    with pytest.raises(BorderpassError) as refused:
        service.gate1_qr(session, gate="T1-01", token=token, now=now)
    assert refused.value.details == {"reason": "unknown_device"}

    listed = service.consents_for_guardian(session, family["mother"].id, now=now)
    assert [(item.child_name_en, item.child_masked, item.child_age, item.status)
            for item in listed] == [("CHAN Tai Man", "K1*****" + KIT[-3:], 15, "pending")]
    assert listed[0].expires_at == now + timedelta(days=7)
    later = now + timedelta(days=2)
    approved = service.approve_consent(session, listed[0].id, person_id=family["mother"].id,
                                       relationship="mother", now=later)
    assert (approved.status, approved.relationship, approved.decided_at) == (
        "approved", "mother", later)
    consent = _request_of(session, pending)
    assert consent.guardian_person_id == family["mother"].id  # who
    session.refresh(pending)
    assert pending.status == "active"
    assert (pending.guardian_relationship, pending.guardian_consented_at) == ("mother", later)
    assert pending.guardian_masked == "M4*****" + MOTHER[-3:]
    token = qr.make_token(pending.id, private, service.gates_public_key().encode(), now=later)
    assert service.gate1_qr(session, gate="T1-01", token=token, now=later).open
    # Kit sees the answer in his own list
    mine = service.my_enrolments(session, family["kit"].id)
    assert mine[0].enrolment.status == "active"
    assert mine[0].guardian_consent is not None
    assert mine[0].guardian_consent.status == "approved"


def test_an_unrelated_or_unproven_parent_cannot_approve(
    session: Session, now: datetime, family: dict[str, Any], make_card: Callable[..., bytes],
    register_person: Callable[..., Any],
) -> None:
    pending = _kit_asks(session, family["kit"], make_card, now)
    consent = _request_of(session, pending)
    # another proven resident does not see the request and cannot approve it
    stranger = register_person(STRANGER)
    assert service.consents_for_guardian(session, stranger.id, now=now) == []
    with pytest.raises(BorderpassError) as caught:
        service.approve_consent(session, consent.id, person_id=stranger.id,
                                relationship="father", now=now)
    assert (caught.value.code, caught.value.status) == ("consent_request_not_found", 404)
    # someone who registered the mother's number online (a typed number and an SMS PIN)
    # is not known to be her: refused until proven
    registration = identity.start_registration(session, now=now)
    identity.submit_registration(session, registration.id, identity.parse_details({
        "name_zh": "陳太", "name_en": "CHAN Mei", "document_kind": "hkid",
        "document_number": hkid("P505050"), "document_issued_on": "2015-01-01",
        "phone": "+85291230000", "address": "Flat B, 1 Test Road", "password": "pw-123456"}),
        DEMO_PDF, now=now)
    claimed, _token, _ = identity.activate(
        session, registration.id, pin_sent(session, str(registration.id), now=now), now=now)
    other = _kit_asks(session, family["kit"], make_card, now, guardian=hkid("P505050"))
    with pytest.raises(BorderpassError) as unproven:
        service.approve_consent(session, _request_of(session, other).id,
                                person_id=claimed.id, relationship="mother", now=now)
    assert (unproven.value.code, unproven.value.status) == ("guardian_not_proven", 403)
    with pytest.raises(BorderpassError):
        service.consents_for_guardian(session, claimed.id, now=now)
    session.refresh(other)
    assert other.status == "pending_guardian"
    # asking again replaced the first request
    session.refresh(consent)
    session.refresh(pending)
    assert (consent.status, pending.status, pending.template_sealed) == (
        "cancelled", "replaced", None)


def test_a_guardian_withdraws_consent_and_the_enrolment_closes(
    session: Session, now: datetime, family: dict[str, Any], make_card: Callable[..., bytes],
) -> None:
    pending = _kit_asks(session, family["kit"], make_card, now)
    consent = _request_of(session, pending)
    service.approve_consent(session, consent.id, person_id=family["mother"].id,
                            relationship="mother", now=now)
    later = now + timedelta(days=30)
    withdrawn = service.withdraw_consent(session, consent.id, person_id=family["mother"].id,
                                         now=later)
    assert (withdrawn.status, withdrawn.withdrawn_at, withdrawn.relationship) == (
        "withdrawn", later, "mother")  # the approval stays on record
    session.refresh(pending)
    assert (pending.status, pending.template_sealed, pending.device_kid) == (
        "withdrawn", None, None)
    with pytest.raises(BorderpassError) as again:
        service.withdraw_consent(session, consent.id, person_id=family["mother"].id, now=later)
    assert again.value.code == "consent_request_closed"
    # a pending request declined: the enrolment is refused
    second = _kit_asks(session, family["kit"], make_card, later)
    declined = service.withdraw_consent(session, _request_of(session, second).id,
                                        person_id=family["mother"].id, now=later)
    assert declined.status == "declined"
    session.refresh(second)
    assert (second.status, second.template_sealed) == ("refused", None)


def test_a_request_expires_after_seven_days(
    session: Session, now: datetime, family: dict[str, Any], make_card: Callable[..., bytes],
) -> None:
    pending = _kit_asks(session, family["kit"], make_card, now)
    consent = _request_of(session, pending)
    just_in_time = now + timedelta(days=7) - timedelta(seconds=1)
    assert service.consents_for_guardian(session, family["mother"].id,
                                         now=just_in_time)[0].status == "pending"
    too_late = now + timedelta(days=7)
    with pytest.raises(BorderpassError) as caught:
        service.approve_consent(session, consent.id, person_id=family["mother"].id,
                                relationship="mother", now=too_late)
    assert (caught.value.code, caught.value.status) == ("consent_request_expired", 410)
    assert "7 days" in caught.value.render("en")
    session.refresh(pending)
    assert (pending.status, pending.template_sealed) == ("expired", None)
    # the daily sweep expires the others, without the guardian signing in
    other = _kit_asks(session, family["kit"], make_card, too_late)
    assert service.expire_consents(session, now=too_late + timedelta(days=8)) == 1
    session.refresh(other)
    assert other.status == "expired"


def test_under_eleven_is_refused_in_the_app_and_no_request_is_made(
    session: Session, now: datetime, family: dict[str, Any], make_card: Callable[..., bytes],
) -> None:
    with pytest.raises(BorderpassError) as caught:
        service.enrol_in_app(
            session, person_id=family["sister"].id, card=make_card(SISTER, born_on=CHILD_BORN),
            live_photo=photo("obama2.jpg"), device_public_key=key_pair()[1].decode(),
            guardian=GuardianNamed(document_number=MOTHER), now=now)
    assert (caught.value.code, caught.value.details) == ("too_young", {"age": 10})
    assert service.consents_for_guardian(session, family["mother"].id, now=now) == []


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _bearer(session: Session, number: str, now: datetime) -> dict[str, str]:
    _person, token, _ = identity.sign_in(session, "hkid", number, "password-123", now=now)
    return {"Authorization": f"Bearer {token}"}


def test_the_consent_through_the_api(
    client: Any, session: Session, now: datetime, family: dict[str, Any],
    make_card: Callable[..., bytes],
) -> None:
    kit, mother = _bearer(session, KIT, now), _bearer(session, MOTHER, now)
    body = {"card": _b64(make_card(KIT, born_on=TEEN_BORN)),
            "live_photo": _b64(photo("obama2.jpg")),
            "device_public_key": key_pair()[1].decode()}
    missing = client.post("/api/echannel/enrolments/app", headers=kit, json=body)
    assert (missing.status_code, missing.json()["error"]["field"]) == (422, "guardian")
    body["guardian"] = {"document_number": MOTHER}
    asked = client.post("/api/echannel/enrolments/app", headers=kit, json=body)
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "pending_guardian"
    listed = client.get("/api/echannel/guardian/requests", headers=mother).json()
    assert [item["child_name_zh"] for item in listed] == ["陳大文"]
    wrong = client.post(f"/api/echannel/guardian/requests/{listed[0]['id']}/approve",
                        headers=mother, json={"relationship": "aunt", "consent": True})
    assert (wrong.status_code, wrong.json()["error"]["field"]) == (422, "relationship")
    approved = client.post(f"/api/echannel/guardian/requests/{listed[0]['id']}/approve",
                           headers=mother, json={"relationship": "mother", "consent": True})
    assert approved.status_code == 200, approved.text
    mine = client.get("/api/echannel/enrolments/mine", headers=kit).json()
    assert mine[0]["enrolment"]["status"] == "active"
    assert mine[0]["guardian_consent"]["relationship"] == "mother"
    # Kit cannot answer for himself, and an unknown id is not found
    own = client.post(f"/api/echannel/guardian/requests/{uuid.uuid4()}/withdraw", headers=kit)
    assert own.status_code == 404
