"""Health officers record cases, close contacts, quarantine, testing orders and areas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from borderpass.evidence.models import HealthFlag, TestingOrderPremises


def test_flags_through_the_api(client: Any, staff_token: Any, register_person: Any,
                               session: Any) -> None:
    person = register_person()
    _officer, token = staff_token("health_officer")
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/api/evidence/flags", headers=headers, json={
        "document_kind": "hkid", "document_number": "A1234563", "kind": "close_contact",
        "starts_at": "2026-11-25T00:00:00+08:00", "ends_at": "2026-12-09T00:00:00+08:00"})
    assert response.status_code == 201, response.text
    flag = session.get(HealthFlag, __import__("uuid").UUID(response.json()["id"]))
    assert flag.person_id == person.id
    assert client.delete(f"/api/evidence/flags/{flag.id}", headers=headers).status_code == 204
    session.refresh(flag)
    assert flag.lifted_at is not None


def test_flags_need_a_health_officer(client: Any, staff_token: Any) -> None:
    _border, token = staff_token("border_officer")
    response = client.post("/api/evidence/flags", headers={"Authorization": f"Bearer {token}"},
                           json={"document_kind": "hkid", "document_number": "A1234563",
                                 "kind": "confirmed", "starts_at": "2026-11-25T00:00:00+08:00"})
    assert response.status_code == 403


def test_bad_flags_name_the_field(client: Any, staff_token: Any) -> None:
    _officer, token = staff_token("health_officer")
    headers = {"Authorization": f"Bearer {token}"}
    base = {"document_kind": "hkid", "document_number": "A1234563", "kind": "confirmed",
            "starts_at": "2026-11-25T00:00:00+08:00"}
    cases = [
        ({"document_number": "A1234564"}, "document_number"),
        ({"kind": "cured"}, "kind"),
        ({"starts_at": "soon"}, "starts_at"),
        ({"ends_at": "2026-11-24T00:00:00+08:00"}, "ends_at"),
        ({"extra": 1}, "extra"),
    ]
    for change, field in cases:
        response = client.post("/api/evidence/flags", headers=headers, json={**base, **change})
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["field"] == field
        assert "A1234564" not in response.text


def test_testing_order_and_high_risk_area(client: Any, staff_token: Any, session: Any) -> None:
    _officer, token = staff_token("health_officer")
    headers = {"Authorization": f"Bearer {token}"}
    order = {
        "reference": "CTO-2026-1126-01",
        "period_from": "2026-11-22T18:00:00+08:00", "period_to": "2026-11-22T22:00:00+08:00",
        "test_by": "2026-11-27T23:59:59+08:00",
        "premises": [{"address": "Shop 3, G/F, 1 Test Road, Tsuen Wan", "venue_id": "WHBvLDSa"},
                     {"address": "Block 2, Demo Estate, Sha Tin"}],
    }
    created = client.post("/api/evidence/testing-orders", headers=headers, json=order)
    assert created.status_code == 201, created.text
    premises = session.scalars(select(TestingOrderPremises)).all()
    assert {p.venue_id for p in premises} == {"WHBvLDSa", None}
    duplicate = client.post("/api/evidence/testing-orders", headers=headers, json=order)
    assert duplicate.status_code == 409
    backwards = dict(order, reference="CTO-2", period_to="2026-11-22T17:00:00+08:00")
    assert client.post("/api/evidence/testing-orders", headers=headers,
                       json=backwards).json()["error"]["field"] == "period_to"
    area = client.post("/api/evidence/high-risk-areas", headers=headers, json={
        "region_code": "CN-44-03", "name_en": "Shenzhen", "name_zh": "深圳",
        "starts_at": "2026-11-20T00:00:00+08:00"})
    assert area.status_code == 201
    bad_area = client.post("/api/evidence/high-risk-areas", headers=headers, json={
        "region_code": "shenzhen", "name_en": "Shenzhen", "name_zh": "深圳",
        "starts_at": "2026-11-20T00:00:00+08:00"})
    assert bad_area.json()["error"]["field"] == "region_code"
