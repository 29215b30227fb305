"""The three enrolment paths, the age rules, guardian consent and withdrawal."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from borderpass.echannel import service
from borderpass.echannel.face import NoFace
from borderpass.echannel.schemas import Guardian, GuardianNamed
from borderpass.kit.errors import BorderpassError
from tests.echannel.conftest import CHILD_BORN, TEEN_BORN, hkid, photo

GUARDIAN = Guardian(document_number="A123456(3)", relationship="mother", consent=True)


def test_enrolment_in_the_app_records_the_resident_and_device(
    enrolled_in_app: Any, device: tuple[bytes, bytes], now: datetime
) -> None:
    from borderpass.kit.signing import VerifyKey

    enrolment = enrolled_in_app
    assert enrolment.channel == "app"
    assert enrolment.enrolled_by_kind == "resident"
    assert enrolment.enrolled_by == str(enrolment.person_id)
    assert enrolment.device_kid == VerifyKey.from_pem(device[1]).kid.hex()
    assert enrolment.doc_masked == "A1*****(3)"
    assert enrolment.age_at_enrolment == 46
    assert enrolment.created_at == now
    # the template is sealed: 128 float32 values do not appear in the clear
    assert enrolment.template_sealed is not None
    assert len(enrolment.template_sealed) == 1 + 12 + 512 + 16


def test_the_app_refuses_someone_elses_card(
    session: Session, now: datetime, register_person: Callable[..., Any],
    make_card: Callable[..., bytes], device: tuple[bytes, bytes],
) -> None:
    person = register_person("A123456(3)")
    with pytest.raises(BorderpassError) as caught:
        service.enrol_in_app(session, person_id=person.id, card=make_card(hkid("B765432")),
                             live_photo=photo("obama2.jpg"),
                             device_public_key=device[1].decode(), now=now)
    assert caught.value.code == "card_not_yours"


def test_the_live_photo_must_match_the_card(
    session: Session, now: datetime, register_person: Callable[..., Any],
    make_card: Callable[..., bytes], device: tuple[bytes, bytes],
) -> None:
    person = register_person("A123456(3)")
    with pytest.raises(BorderpassError) as caught:
        service.enrol_in_app(session, person_id=person.id, card=make_card(),
                             live_photo=photo("biden.jpg"),
                             device_public_key=device[1].decode(), now=now)
    assert caught.value.code == "face_mismatch"
    assert caught.value.field == "live_photo"


def test_a_bad_device_key_names_the_field(
    session: Session, now: datetime, register_person: Callable[..., Any],
    make_card: Callable[..., bytes],
) -> None:
    person = register_person("A123456(3)")
    with pytest.raises(BorderpassError) as caught:
        service.enrol_in_app(session, person_id=person.id, card=make_card(),
                             live_photo=photo("obama2.jpg"), device_public_key="not a key",
                             now=now)
    assert (caught.value.code, caught.value.field) == ("bad_device_key", "device_public_key")


def test_enrolment_at_the_gate_needs_consent_and_records_the_gate(
    session: Session, now: datetime, make_card: Callable[..., bytes]
) -> None:
    card = make_card(hkid("C112233"))
    with pytest.raises(BorderpassError) as caught:
        service.enrol_at_gate(session, gate="LWS-07", card=card, live_photo=photo("obama3.jpg"),
                              consent=False, now=now)
    assert caught.value.code == "consent_required"
    enrolment = service.enrol_at_gate(session, gate="LWS-07", card=card,
                                      live_photo=photo("obama3.jpg"), consent=True, now=now)
    assert (enrolment.channel, enrolment.enrolled_by_kind, enrolment.enrolled_by) == (
        "gate", "gate", "LWS-07")
    assert enrolment.person_id is None  # not registered with the platform: still eligible


def test_enrolment_at_the_gate_is_for_adults_only(
    session: Session, now: datetime, make_card: Callable[..., bytes]
) -> None:
    with pytest.raises(BorderpassError) as caught:
        service.enrol_at_gate(session, gate="LWS-07", card=make_card(born_on=TEEN_BORN),
                              live_photo=photo("obama3.jpg"), consent=True, now=now)
    assert caught.value.code == "adults_only_at_gate"


def test_enrolment_at_an_office_records_the_officer(
    session: Session, now: datetime, make_card: Callable[..., bytes], officer: Any,
    register_person: Callable[..., Any],
) -> None:
    person = register_person(hkid("D445566"))
    enrolment = service.enrol_at_office(session, officer=officer.id,
                                        card=make_card(hkid("D445566")),
                                        live_photo=photo("obama3.jpg"), now=now)
    assert (enrolment.channel, enrolment.enrolled_by_kind, enrolment.enrolled_by) == (
        "office", "officer", str(officer.id))
    assert enrolment.person_id == person.id  # linked through identity's service


def test_a_teenager_needs_a_guardians_consent(
    session: Session, now: datetime, make_card: Callable[..., bytes], officer: Any
) -> None:
    card = make_card(hkid("E778899"), born_on=TEEN_BORN)
    for guardian, field in ((None, "guardian"),
                            (GUARDIAN.model_copy(update={"consent": False}), "guardian.consent")):
        with pytest.raises(BorderpassError) as caught:
            service.enrol_at_office(session, officer=officer.id, card=card,
                                    live_photo=photo("obama3.jpg"), guardian=guardian, now=now)
        assert (caught.value.code, caught.value.field) == ("guardian_consent_required", field)
    bad = GUARDIAN.model_copy(update={"document_number": "A123456(4)"})
    with pytest.raises(BorderpassError) as caught:
        service.enrol_at_office(session, officer=officer.id, card=card,
                                live_photo=photo("obama3.jpg"), guardian=bad, now=now)
    assert caught.value.field == "guardian.document_number"
    enrolment = service.enrol_at_office(session, officer=officer.id, card=card,
                                        live_photo=photo("obama3.jpg"), guardian=GUARDIAN,
                                        now=now)
    assert enrolment.age_at_enrolment == 15
    assert enrolment.guardian_masked == "A1*****(3)"
    assert enrolment.guardian_relationship == "mother"
    assert enrolment.guardian_consented_at == now
    assert enrolment.guardian_index is not None and "A123456" not in enrolment.guardian_index


def test_a_teenager_enrols_in_the_app_with_a_guardian(
    session: Session, now: datetime, register_person: Callable[..., Any],
    make_card: Callable[..., bytes], device: tuple[bytes, bytes],
) -> None:
    person = register_person(hkid("F101010"))
    enrolment = service.enrol_in_app(
        session, person_id=person.id, card=make_card(hkid("F101010"), born_on=TEEN_BORN),
        live_photo=photo("obama2.jpg"), device_public_key=device[1].decode(),
        guardian=GuardianNamed(document_number="A123456(3)"), now=now)
    # the guardian approves in their own account (tests/echannel/test_guardians.py)
    assert enrolment.status == "pending_guardian"
    assert enrolment.guardian_relationship is None and enrolment.guardian_consented_at is None


def test_under_eleven_is_refused_with_the_reason(
    session: Session, now: datetime, make_card: Callable[..., bytes], officer: Any
) -> None:
    with pytest.raises(BorderpassError) as caught:
        service.enrol_at_office(session, officer=officer.id,
                                card=make_card(hkid("G202020"), born_on=CHILD_BORN),
                                live_photo=photo("obama3.jpg"), guardian=GUARDIAN, now=now)
    assert caught.value.code == "too_young"
    assert caught.value.status == 403
    assert "aged 11 or over" in caught.value.render("en")
    assert "is 10" in caught.value.render("en")


def test_eleven_on_the_birthday_in_hong_kong(
    session: Session, now: datetime, make_card: Callable[..., bytes], officer: Any
) -> None:
    from datetime import date

    # 26 November in Hong Kong (02:00 UTC is 10:00 HKT): the eleventh birthday is today
    card = make_card(hkid("H303030"), born_on=date(2015, 11, 26))
    enrolment = service.enrol_at_office(session, officer=officer.id, card=card,
                                        live_photo=photo("obama3.jpg"), guardian=GUARDIAN,
                                        now=now)
    assert enrolment.age_at_enrolment == 11
    tomorrow = make_card(hkid("H404040"), born_on=date(2015, 11, 27))
    with pytest.raises(BorderpassError) as caught:
        service.enrol_at_office(session, officer=officer.id, card=tomorrow,
                                live_photo=photo("obama3.jpg"), guardian=GUARDIAN, now=now)
    assert caught.value.code == "too_young"


def test_a_photo_without_a_face_names_the_field(
    session: Session, now: datetime, make_card: Callable[..., bytes], officer: Any
) -> None:
    import io

    from PIL import Image

    blank = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 200, 200)).save(blank, format="PNG")
    with pytest.raises(NoFace) as caught:
        service.enrol_at_office(session, officer=officer.id, card=make_card(),
                                live_photo=blank.getvalue(), now=now)
    assert caught.value.field == "live_photo"
    with pytest.raises(BorderpassError) as bad:
        service.enrol_at_office(session, officer=officer.id, card=make_card(),
                                live_photo=b"GIF89a....", now=now)
    assert (bad.value.code, bad.value.field) == ("bad_photo", "live_photo")


def test_withdrawal_deletes_the_template(
    session: Session, now: datetime, enrolled_in_app: Any
) -> None:
    enrolment = enrolled_in_app
    with pytest.raises(BorderpassError):
        service.withdraw(session, enrolment.id, by="someone", person_id=uuid.uuid4(), now=now)
    service.withdraw(session, enrolment.id, by=str(enrolment.person_id),
                     person_id=enrolment.person_id, now=now)
    session.expire_all()
    stored = service.get_enrolment(session, enrolment.id)
    assert stored.status == "withdrawn"
    assert stored.template_sealed is None
    assert stored.device_key is None
    assert stored.withdrawn_at == now


def test_enrolling_again_replaces_the_old_record(
    session: Session, now: datetime, enrolled_in_app: Any, make_card: Callable[..., bytes],
    officer: Any,
) -> None:
    again = service.enrol_at_office(session, officer=officer.id, card=make_card(),
                                    live_photo=photo("obama3.jpg"), now=now)
    old = service.get_enrolment(session, enrolled_in_app.id)
    assert old.status == "replaced" and old.template_sealed is None
    assert again.status == "active"
