"""Venues through the API, cases and the published list, rotation, uploads, purge, and the
facts the Health Code rules read."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from borderpass.checkin import service
from borderpass.checkin.models import Upload, UploadedVisit
from borderpass.checkin.schemas import CaseIn
from borderpass.evidence import service as evidence
from borderpass.evidence.schemas import TestingOrderIn
from borderpass.identity import service as identity
from tests.checkin.conftest import LEGACY_CODE

H = timedelta(hours=1)
D = timedelta(days=1)
VENUE = {"name_zh": "金龍酒家", "name_en": "Golden Dragon", "type": "restaurant",
         "address": "G/F, 18 Sai Lau Kok Road, Tsuen Wan"}


def _operator_token(session: Any, now: Any) -> tuple[Any, str]:
    name = f"op-{uuid.uuid4().hex[:6]}"
    identity.create_staff(session, name, name, "venue_operator", "password-123", now=now)
    member, token, _ = identity.sign_in_staff(session, name, "password-123", now=now)
    return member, token


def test_register_approve_and_print_through_the_api(
    client: Any, session: Any, staff_token: Any, now: Any
) -> None:
    _member, token = _operator_token(session, now)
    operator = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/checkin/venues", headers=operator, json=VENUE)
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert created.json()["status"] == "pending"
    assert created.json()["name_zh_hans"] == "金龙酒家"  # converted from the Traditional
    assert client.get(f"/api/checkin/venues/{code}/qr", headers=operator).status_code == 409
    _border, border = staff_token("border_officer")
    refused = client.post(f"/api/checkin/venues/{code}/approve",
                          headers={"Authorization": f"Bearer {border}"})
    assert refused.status_code == 403
    _officer, officer = staff_token("health_officer")
    approved = client.post(f"/api/checkin/venues/{code}/approve",
                           headers={"Authorization": f"Bearer {officer}"})
    assert approved.json()["status"] == "approved"
    qr = client.get(f"/api/checkin/venues/{code}/qr", headers=operator)
    assert service.parse_code(qr.text).venue_id == code
    poster = client.get(f"/api/checkin/venues/{code}/poster.pdf", headers=operator)
    assert poster.status_code == 200 and poster.content.startswith(b"%PDF-")
    assert poster.headers["content-type"] == "application/pdf"
    _other, other = _operator_token(session, now)
    assert client.get(f"/api/checkin/venues/{code}/qr",
                      headers={"Authorization": f"Bearer {other}"}).status_code == 403


def test_bad_venues_and_cases_name_the_field(
    client: Any, session: Any, staff_token: Any, now: Any
) -> None:
    _member, token = _operator_token(session, now)
    operator = {"Authorization": f"Bearer {token}"}
    for change, field in [({"type": "casino"}, "type"), ({"name_zh": ""}, "name_zh"),
                          ({"address": "x"}, "address"), ({"extra": 1}, "extra")]:
        response = client.post("/api/checkin/venues", headers=operator, json={**VENUE, **change})
        assert response.status_code == 422 and response.json()["error"]["field"] == field
    _officer, officer = staff_token("health_officer")
    headers = {"Authorization": f"Bearer {officer}"}
    base = {"venue_id": "WHBvLDSa", "starts_at": "2026-11-25T10:00:00+08:00",
            "ends_at": "2026-11-25T11:00:00+08:00"}
    for change, field, status in [
        ({"ends_at": "2026-11-25T09:00:00+08:00"}, "ends_at", 422),
        ({"venue_id": "NOSUCHVENU"}, "venue_id", 404),
        ({"venue_id": None, "plate": "AB0"}, "plate", 422),
        ({"plate": "AB1"}, "body", 422),
        ({"starts_at": "2027-01-01T00:00:00+08:00", "ends_at": "2027-01-01T01:00:00+08:00"},
         "starts_at", 422),
    ]:
        response = client.post("/api/checkin/cases", headers=headers, json={**base, **change})
        assert response.status_code == status, (change, response.text)
        assert response.json()["error"]["field"] == field, (change, response.text)
    assert client.post("/api/checkin/cases", headers=headers, json=base).status_code == 201


def test_a_case_is_published_within_a_minute(
    client: Any, app: Any, session: Any, staff_token: Any, make_venue: Any, make_phone: Any,
    now: Any,
) -> None:
    venue, code = make_venue()
    phone = make_phone()
    phone.check_in(code, now=now - 3 * H)
    phone.check_out(now=now - 2 * H)
    first = client.get("/api/checkin/exposure-list")
    assert first.status_code == 200 and first.text.startswith("BPX1 ")
    assert phone.warnings(first.text, now=now) == []
    _officer, officer = staff_token("health_officer")
    recorded = client.post("/api/checkin/cases", headers={"Authorization": f"Bearer {officer}"},
                           json={"venue_id": venue.code,
                                 "starts_at": (now - 2.5 * H).isoformat(),
                                 "ends_at": (now - 1 * H).isoformat()})
    assert recorded.status_code == 201
    app.state.now = now + timedelta(seconds=30)  # still the cached list
    assert phone.warnings(client.get("/api/checkin/exposure-list").text, now=now) == []
    app.state.now = now + timedelta(seconds=60)  # regenerated: the case is in
    listed = client.get("/api/checkin/exposure-list").text
    assert [w.kind for w in phone.warnings(listed, now=now)] == ["direct"]
    assert venue.code not in listed and "Golden Dragon" not in listed


def test_rotation_keeps_warnings_for_visits_under_the_old_secret(
    session: Any, make_venue: Any, make_phone: Any, operator: Any, now: Any
) -> None:
    venue, old_code = make_venue()
    before, after = make_phone("before"), make_phone("after")
    before.check_in(old_code, now=now - 6 * H)
    before.check_out(now=now - 5 * H)
    service.rotate_venue_secret(session, venue.code, caller=operator, now=now - 4 * H)
    new_code = service.venue_qr(session, venue.code, caller=operator)
    assert service.parse_code(new_code).generation == 2
    assert service.parse_code(new_code).secret != service.parse_code(old_code).secret
    after.check_in(new_code, now=now - 3 * H)
    after.check_out(now=now - 2 * H)
    service.record_case(session, CaseIn(venue_id=venue.code, starts_at=now - 7 * H,
                                        ends_at=now - 1 * H), officer=uuid.uuid4(), now=now)
    listed = service.exposure_list(session, now=now)
    assert [w.kind for w in before.warnings(listed, now=now)] == ["direct"]
    assert [w.kind for w in after.warnings(listed, now=now)] == ["direct"]


def _upload(client: Any, phone: Any, token: str, now: Any, consent: bool = True) -> Any:
    return client.post("/api/checkin/uploads", headers={"Authorization": f"Bearer {token}"},
                       json={"consent": consent, "bundle": phone.upload_bundle(now=now)})


def _resident_token(session: Any, register_person: Any, now: Any,
                    number: str = "A123456(3)") -> tuple[Any, str]:
    person = register_person(number)
    _p, token, _ = identity.sign_in(session, "hkid", number, "password-123", now=now)
    return person, token


def test_upload_needs_consent_a_resident_and_a_valid_signature(
    client: Any, session: Any, register_person: Any, staff_token: Any, make_phone: Any,
    now: Any,
) -> None:
    person, token = _resident_token(session, register_person, now)
    phone = make_phone(since=now - 20 * D)
    phone.check_in(LEGACY_CODE, now=now - 2 * D)
    refused = _upload(client, phone, token, now, consent=False)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "consent_missing"
    _officer, officer = staff_token("health_officer")
    assert _upload(client, phone, officer, now).status_code == 403
    bundle = phone.upload_bundle(now=now)
    bundle["records"][0]["place_id"] = "AAAAAAAA"
    forged = client.post("/api/checkin/uploads", headers={"Authorization": f"Bearer {token}"},
                         json={"consent": True, "bundle": bundle})
    assert forged.status_code == 422
    assert forged.json()["error"]["field"] == "bundle.signature"
    assert session.scalar(select(func.count()).select_from(UploadedVisit)) == 0
    accepted = _upload(client, phone, token, now)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json() == {"records": 1, "covered_days": 20, "covers_last_14_days": True}
    stored = session.scalars(select(UploadedVisit).where(UploadedVisit.person_id == person.id))
    assert [(v.place_kind, v.place_id) for v in stored] == [("legacy", "WHBvLDSa")]
    assert client.delete("/api/checkin/uploads",
                         headers={"Authorization": f"Bearer {token}"}).status_code == 204
    assert session.scalar(select(func.count()).select_from(UploadedVisit)) == 0


def test_uploads_are_deleted_after_31_days(
    session: Any, register_person: Any, make_phone: Any, now: Any
) -> None:
    person = register_person()
    phone = make_phone(since=now - 40 * D)
    phone.check_in(LEGACY_CODE, now=now - 30 * D)
    phone.check_in_taxi("AB1234", now=now - 2 * D)
    phone.check_out(now=now - 2 * D + H)
    receipt = service.receive_upload(session, person.id, phone.upload_bundle(now=now),
                                     consent=True, now=now)
    assert receipt.records == 2 and receipt.covered_days == 31

    def stored() -> list[str]:
        return [v.place_id for v in session.scalars(
            select(UploadedVisit).where(UploadedVisit.person_id == person.id)
            .order_by(UploadedVisit.starts_at))]

    assert stored() == ["WHBvLDSa", "AB1234"]
    assert service.purge_uploads(session, now=now + 1 * D) == 0
    assert service.purge_uploads(session, now=now + 2 * D) == 1  # the first visit is 31 days old
    assert stored() == ["AB1234"]
    service.purge_uploads(session, now=now + 32 * D)
    assert stored() == []
    assert session.scalar(select(func.count()).select_from(Upload)
                          .where(Upload.person_id == person.id)) == 0


def test_upload_facts_for_the_rules(
    session: Any, register_person: Any, make_venue: Any, make_phone: Any, now: Any
) -> None:
    person = register_person()
    venue, code = make_venue()
    phone = make_phone(since=now - 10 * D)
    sunday = now - 4 * D
    phone.check_in(code, now=sunday)  # 4 days ago, one hour
    phone.check_out(now=sunday + H)
    phone.check_in(LEGACY_CODE, now=now - 2 * D)
    phone.check_out(now=now - 2 * D + H)
    phone.check_in_taxi("AB1234", now=now - 1 * D)
    phone.check_out(now=now - 1 * D + timedelta(minutes=20))
    officer = uuid.uuid4()
    service.record_case(session, CaseIn(venue_id=venue.code, starts_at=sunday + 0.5 * H,
                                        ends_at=sunday + 3 * H), officer=officer, now=now)
    service.record_case(session, CaseIn(plate="AB1234", starts_at=now - 1.5 * D,
                                        ends_at=now - 1.5 * D + H), officer=officer, now=now)
    # A case at the legacy venue, but not while the person was there.
    service.record_case(session, CaseIn(venue_id="WHBvLDSa", starts_at=now - 2 * D + 2 * H,
                                        ends_at=now - 2 * D + 3 * H), officer=officer, now=now)
    order = evidence.record_testing_order(session, TestingOrderIn.model_validate({
        "reference": "CTO-TEST-1", "period_from": sunday.isoformat(),
        "period_to": (sunday + 4 * H).isoformat(), "test_by": (now + D).isoformat(),
        "premises": [{"address": "G/F, 18 Sai Lau Kok Road", "venue_id": venue.code}],
    }), officer=officer, now=now)

    empty = service.upload_facts(session, person.id, now=now)
    assert (empty.exposures, empty.orders, empty.covered_days) == ([], [], 0)
    assert not empty.covers_last_14_days

    service.receive_upload(session, person.id, phone.upload_bundle(now=now), consent=True,
                           now=now)
    facts = service.upload_facts(session, person.id, now=now)
    assert sorted((e.kind, e.place_id) for e in facts.exposures) == [
        ("direct", venue.code), ("indirect", "AB1234")]
    assert [(o.reference, o.place_id, o.order_id) for o in facts.orders] == [
        ("CTO-TEST-1", venue.code, order.id)]
    assert facts.orders[0].visit_from == sunday
    assert facts.covered_days == 10 and not facts.covers_last_14_days
    # 22 days later the visits are outside the 21 days the rules look at.
    later = service.upload_facts(session, person.id, now=now + 22 * D)
    assert later.exposures == [] and later.orders == []


@pytest.mark.parametrize("days, covered", [(0, False), (13, False), (14, True), (40, True)])
def test_covered_days(session: Any, register_person: Any, make_phone: Any, now: Any,
                      days: int, covered: bool) -> None:
    person = register_person()
    phone = make_phone(since=now - days * D)
    service.receive_upload(session, person.id, phone.upload_bundle(now=now), consent=True,
                           now=now)
    facts = service.upload_facts(session, person.id, now=now)
    assert facts.covered_days == min(days, 31) and facts.covers_last_14_days is covered
    stale = service.upload_facts(session, person.id, now=now + 2 * D)
    assert not stale.covers_last_14_days
