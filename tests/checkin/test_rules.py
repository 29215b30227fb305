"""Uploaded check-ins feed the Health Code rules: amber after a visit where a case was, red
under a testing order until a later negative test; phones that did not upload stay unknown."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from borderpass.checkin import service
from borderpass.checkin.schemas import CaseIn
from borderpass.evidence import service as evidence
from borderpass.evidence.models import CheckinFact
from borderpass.evidence.schemas import TestingOrderIn
from borderpass.healthcode import service as healthcode
from borderpass.healthcode.models import PersonStatus
from borderpass.identity import service as identity
from borderpass.rules import service as rules
from tests.healthcode.test_end_to_end import _batch

H = timedelta(hours=1)
D = timedelta(days=1)


def _negative(session: Any, lab: Any, number: str, collected: datetime, now: datetime) -> None:
    source, _key = lab
    evidence.ingest(session, source.id, "tests",
                    _batch(number, f"S-{uuid.uuid4().hex[:10]}", collected, "negative"), "csv",
                    now=now)


def _visit(phone: Any, code: str, at: datetime, hours: float = 1) -> None:
    phone.check_in(code, now=at)
    phone.check_out(now=at + hours * H)


def _order(session: Any, venue: Any, sunday: datetime, now: datetime) -> Any:
    return evidence.record_testing_order(session, TestingOrderIn.model_validate({
        "reference": f"CTO-{uuid.uuid4().hex[:6]}", "period_from": sunday.isoformat(),
        "period_to": (sunday + 4 * H).isoformat(), "test_by": (now + 2 * D).isoformat(),
        "premises": [{"address": "G/F, 18 Sai Lau Kok Road, Tsuen Wan", "venue_id": venue.code}],
    }), officer=uuid.uuid4(), now=now)


def _facts(session: Any, person_id: uuid.UUID) -> int:
    return int(session.scalar(select(func.count()).select_from(CheckinFact)
                              .where(CheckinFact.person_id == person_id)) or 0)


def test_an_upload_with_a_visit_where_a_case_was_turns_amber(
    session: Any, now: datetime, register_person: Any, lab: Any, make_venue: Any,
    make_phone: Any
) -> None:
    person = register_person()
    _negative(session, lab, "A123456(3)", now - 2 * H, now)
    venue, code = make_venue()
    phone = make_phone(since=now - 20 * D)
    sunday = now - 4 * D
    _visit(phone, code, sunday)
    service.record_case(session, CaseIn(venue_id=venue.code, starts_at=sunday + 0.5 * H,
                                        ends_at=sunday + 3 * H), officer=uuid.uuid4(), now=now)
    assert healthcode.issue(session, person.id, now=now).colour == "green"  # nothing uploaded

    service.receive_upload(session, person.id, phone.upload_bundle(now=now), consent=True,
                           now=now)
    saved = session.get(PersonStatus, person.id)
    assert (saved.colour, saved.reasons, saved.evaluated_at) == (
        "amber", "HK-AMBER-EXPOSURE", now)
    status = rules.status(session, person.id, now=now)
    assert status.colour == "amber"
    facts = evidence.facts_for(session, person.id, now)
    assert (facts.exposure_at, facts.exposure_venue) == (sunday + H, venue.code)
    assert status.changes_at == now - 2 * H + 48 * H  # the test's window closes first
    # 21 days after the visit the exposure no longer counts.
    _negative(session, lab, "A123456(3)", sunday + 21 * D - 2 * H, sunday + 21 * D - H)
    assert rules.status(session, person.id, now=sunday + H + 21 * D - timedelta(seconds=1)
                        ).colour == "amber"
    assert rules.status(session, person.id, now=sunday + H + 21 * D).colour == "green"

    # Withdrawing the upload withdraws what it told.
    service.withdraw_upload(session, person.id, now=now)
    assert _facts(session, person.id) == 0
    assert session.get(PersonStatus, person.id).colour == "green"


def test_a_case_recorded_after_the_upload_reaches_the_uploader(
    session: Any, now: datetime, register_person: Any, lab: Any, make_venue: Any,
    make_phone: Any
) -> None:
    person = register_person()
    _negative(session, lab, "A123456(3)", now - 2 * H, now)
    venue, code = make_venue()
    phone = make_phone(since=now - 20 * D)
    _visit(phone, code, now - 3 * D)
    phone.check_in_taxi("AB1234", now=now - 1 * D)
    phone.check_out(now=now - 1 * D + 0.25 * H)
    service.receive_upload(session, person.id, phone.upload_bundle(now=now), consent=True,
                           now=now)
    assert session.get(PersonStatus, person.id).colour == "green"

    # A taxi ride within a day after a case in it.
    service.record_case(session, CaseIn(plate="AB1234", starts_at=now - 1.5 * D,
                                        ends_at=now - 1.5 * D + H),
                        officer=uuid.uuid4(), now=now + H)
    assert session.get(PersonStatus, person.id).colour == "amber"
    assert evidence.facts_for(session, person.id, now + H).exposure_venue == "AB1234"


def test_an_order_on_a_visited_venue_is_red_until_a_later_negative_test(
    session: Any, now: datetime, register_person: Any, lab: Any, make_venue: Any,
    make_phone: Any
) -> None:
    person = register_person()
    _negative(session, lab, "A123456(3)", now - 2 * H, now)
    venue, code = make_venue()
    other_venue, other_code = make_venue(name_en="Elsewhere", name_zh="別處")
    phone = make_phone(since=now - 20 * D)
    sunday = now - 4 * D
    _visit(phone, code, sunday + H)
    _visit(phone, other_code, sunday + 3 * H)
    service.receive_upload(session, person.id, phone.upload_bundle(now=now), consent=True,
                           now=now)
    issued = healthcode.issue(session, person.id, now=now)
    assert issued.colour == "green"

    ordered_at = now + H
    order = _order(session, venue, sunday, ordered_at)
    saved = session.get(PersonStatus, person.id)
    assert (saved.colour, saved.reasons) == ("red", "HK-RED-TESTING-ORDER")
    facts = evidence.facts_for(session, person.id, ordered_at)
    assert (facts.order_reference, facts.order_issued_at) == (order.reference, ordered_at)
    assert healthcode.verify_code(session, issued.text, now=ordered_at).reason == "revoked"

    # The negative test of two hours ago was collected before the order: still red.
    red = healthcode.issue(session, person.id, now=ordered_at)
    assert red.colour == "red" and red.status.rule_ids == ("HK-RED-TESTING-ORDER",)
    tested = ordered_at + 2 * H
    _negative(session, lab, "A123456(3)", tested, tested + H)
    assert session.get(PersonStatus, person.id).colour == "green"
    assert healthcode.issue(session, person.id, now=tested + H).colour == "green"

    # An order on the other venue outside the visit's time touches no one.
    evidence.record_testing_order(session, TestingOrderIn.model_validate({
        "reference": "CTO-LATER", "period_from": (sunday + 6 * H).isoformat(),
        "period_to": (sunday + 8 * H).isoformat(), "test_by": (now + 2 * D).isoformat(),
        "premises": [{"address": "Somewhere else 1", "venue_id": other_venue.code}],
    }), officer=uuid.uuid4(), now=tested + 2 * H)
    assert session.get(PersonStatus, person.id).colour == "green"


def test_a_phone_that_did_not_upload_is_never_touched(
    session: Any, now: datetime, register_person: Any, lab: Any, make_venue: Any,
    make_phone: Any
) -> None:
    uploader = register_person()
    silent = register_person("Z437626(A)", address="Flat C, 8/F, 2 Quiet Road, Sha Tin")
    _negative(session, lab, "A123456(3)", now - 2 * H, now)
    _negative(session, lab, "Z437626(A)", now - 2 * H, now)
    venue, code = make_venue()
    sunday = now - 4 * D
    loud_phone, quiet_phone = make_phone("loud", since=now - 20 * D), make_phone(
        "quiet", since=now - 20 * D)
    _visit(loud_phone, code, sunday + H)
    _visit(quiet_phone, code, sunday + H)
    service.receive_upload(session, uploader.id, loud_phone.upload_bundle(now=now),
                           consent=True, now=now)
    healthcode.issue(session, silent.id, now=now)
    before = session.get(PersonStatus, silent.id).evaluated_at

    service.record_case(session, CaseIn(venue_id=venue.code, starts_at=sunday + H,
                                        ends_at=sunday + 2 * H), officer=uuid.uuid4(), now=now)
    _order(session, venue, sunday, now + H)
    assert session.get(PersonStatus, uploader.id).colour == "red"
    # The server never learnt where the other phone was: nothing about them changed.
    assert session.get(PersonStatus, silent.id).evaluated_at == before
    assert _facts(session, silent.id) == 0
    assert rules.status(session, silent.id, now=now + H).colour == "green"
    # Their phone still warns them, on the phone.
    listed = service.exposure_list(session, now=now + H)
    assert quiet_phone.warnings(listed, now=now + H)


def test_facts_go_with_the_uploads_after_31_days_and_with_the_account(
    session: Any, now: datetime, register_person: Any, lab: Any, make_venue: Any,
    make_phone: Any
) -> None:
    person = register_person()
    other = register_person("Z437626(A)", address="Flat C, 8/F, 2 Quiet Road, Sha Tin")
    venue, code = make_venue()
    sunday = now - 4 * D
    for who, name in ((person, "one"), (other, "two")):
        phone = make_phone(name, since=now - 20 * D)
        _visit(phone, code, sunday + H)
        service.receive_upload(session, who.id, phone.upload_bundle(now=now), consent=True,
                               now=now)
    service.record_case(session, CaseIn(venue_id=venue.code, starts_at=sunday + H,
                                        ends_at=sunday + 2 * H), officer=uuid.uuid4(), now=now)
    assert _facts(session, person.id) == _facts(session, other.id) == 1

    identity.delete_account(session, other.id, now=now)
    assert _facts(session, other.id) == 0

    # 31 days after the visit ended the visit and what it told are gone.
    service.purge_uploads(session, now=sunday + 2 * H + 31 * D - timedelta(seconds=1))
    assert _facts(session, person.id) == 1
    service.purge_uploads(session, now=sunday + 2 * H + 31 * D + timedelta(seconds=1))
    assert _facts(session, person.id) == 0
    assert evidence.facts_for(session, person.id, now + 31 * D).exposure_at is None
