"""The crossing's JSON endpoints: quotas and bookings for residents, decisions for border
officers, the crossing policy for officers; each refusal with its code and field."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from borderpass.crossing.policy import default_document
from borderpass.demo import DEMO_PASSWORD
from borderpass.identity import service as identity
from borderpass.kit.clock import hk_date
from tests.crossing.conftest import CHAN, LEE, LI, Demo


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def resident_token(session: Session, now: datetime, document: tuple[str, str]) -> str:
    _person, token, _expires = identity.sign_in(session, *document, DEMO_PASSWORD, now=now)
    return token


def test_residents_book_and_cancel_places_through_the_api(
    client: Any, session: Session, now: datetime, demo: Demo, staff_token: Any
) -> None:
    today = hk_date(now)
    tomorrow = (today + timedelta(days=1)).isoformat()
    chan = resident_token(session, now, CHAN)
    points = client.get("/api/crossing/control-points").json()
    assert [p["code"] for p in points] == ["AIR", "HZM", "LMC", "LWU", "SBC"]
    free = client.get("/api/crossing/quotas", params={"control_point": "SBC", "days": 2}).json()
    assert [(q["day"], q["free"]) for q in free] == [(today.isoformat(), 50), (tomorrow, 50)]

    booked = client.post("/api/crossing/bookings", headers=bearer(chan),
                         json={"control_point": "SBC", "day": tomorrow})
    assert booked.status_code == 201, booked.text
    assert booked.json()["status"] == "booked" and booked.json()["control_point"] == "SBC"
    mine = client.get("/api/crossing/bookings", headers=bearer(chan)).json()
    assert [(b["control_point"], b["day"]) for b in mine] == [
        ("LWU", today.isoformat()), ("SBC", tomorrow)]
    again = client.post("/api/crossing/bookings", headers=bearer(chan),
                        json={"control_point": "LWU", "day": tomorrow})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_booked"
    cancelled = client.post(f"/api/crossing/bookings/{booked.json()['id']}/cancel",
                            headers=bearer(chan))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    after = client.get("/api/crossing/quotas", params={"control_point": "SBC", "day": tomorrow,
                                                       "days": 1}).json()
    assert after[0]["free"] == 50

    _member, officer = staff_token("border_officer")
    assert client.post("/api/crossing/bookings", headers=bearer(officer),
                       json={"control_point": "SBC", "day": tomorrow}).status_code == 403
    assert client.post("/api/crossing/bookings",
                       json={"control_point": "SBC", "day": tomorrow}).status_code == 401
    bad = client.post("/api/crossing/bookings", headers=bearer(chan),
                      json={"control_point": "Lo Wu", "day": tomorrow})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "control_point"
    nowhere = client.post("/api/crossing/bookings", headers=bearer(chan),
                          json={"control_point": "SBC",
                                "day": (today + timedelta(days=20)).isoformat()})
    assert nowhere.status_code == 404 and nowhere.json()["error"]["code"] == "no_quota"


def test_a_full_day_is_refused_through_the_api(
    client: Any, session: Session, now: datetime, demo: Demo, staff_token: Any
) -> None:
    _member, supervisor = staff_token("supervisor")
    day = (hk_date(now) + timedelta(days=2)).isoformat()
    set_ = client.post("/api/crossing/quotas", headers=bearer(supervisor),
                       json={"control_point": "HZM", "day": day, "places": 1})
    assert set_.status_code == 200 and set_.json() == [
        {"control_point": "HZM", "day": day, "capacity": 1, "booked": 0, "free": 1}]
    _member, border = staff_token("border_officer")
    assert client.post("/api/crossing/quotas", headers=bearer(border), json={
        "control_point": "HZM", "day": day, "places": 9}).status_code == 403
    chan, lee = resident_token(session, now, CHAN), resident_token(session, now, LEE)
    assert client.post("/api/crossing/bookings", headers=bearer(chan),
                       json={"control_point": "HZM", "day": day}).status_code == 201
    full = client.post("/api/crossing/bookings", headers=bearer(lee),
                       json={"control_point": "HZM", "day": day})
    assert full.status_code == 409 and full.json()["error"]["code"] == "quota_full"


def test_border_officers_decide_through_the_api(
    client: Any, session: Session, now: datetime, demo: Demo, staff_token: Any,
    code_of: Callable[..., str]
) -> None:
    _member, officer = staff_token("border_officer")
    body = {"control_point": "LWU", "direction": "south", "document_kind": LEE[0],
            "document_number": LEE[1], "code": code_of(LEE)}
    decided = client.post("/api/crossing/decisions", headers=bearer(officer),
                          json={**body, "language": "zh_Hans"})
    assert decided.status_code == 201, decided.text
    view = decided.json()
    assert (view["outcome"], view["may_cross"], view["language"]) == ("refused", False,
                                                                      "zh_Hans")
    assert view["reasons"][0]["message"].startswith("健康码不是绿码")
    heard = client.post("/api/crossing/decisions", json=body,
                        headers={**bearer(officer), "Accept-Language": "zh-HK"})
    assert heard.json()["language"] == "zh_Hant"
    assert heard.json()["control_point_name"] == "羅湖"
    li = client.post("/api/crossing/decisions", headers=bearer(officer), json={
        **body, "document_kind": LI[0], "document_number": LI[1], "code": code_of(LI),
        "endorsement": demo.endorsement, "language": "en"}).json()
    assert li["outcome"] == "quarantine" and li["quarantine"]["place"] == "PBH"
    on_record = client.get(f"/api/crossing/decisions/{li['id']}", headers=bearer(officer))
    assert on_record.status_code == 200
    assert {key: on_record.json()[key] for key in (
        "outcome", "reasons", "document_kind", "endorsement", "quarantine_place", "channel",
        "decided_role", "policy")} == {
        "outcome": "quarantine", "reasons": ["quarantine_free_for_residents"],
        "document_kind": "mainland", "endorsement": demo.endorsement,
        "quarantine_place": "PBH", "channel": "api", "decided_role": "border_officer",
        "policy": "HK-CROSSING@1.0.0"}
    assert LI[1] not in on_record.text and "document_index" not in on_record.json()
    today = client.get("/api/crossing/decisions", params={"control_point": "LWU"},
                       headers=bearer(officer)).json()
    assert [row["outcome"] for row in today] == ["quarantine", "refused", "refused"]
    assert client.get(f"/api/crossing/decisions/{'0' * 32}",
                      headers=bearer(officer)).status_code == 404

    _clerk, clerk = staff_token("help_desk")
    assert client.post("/api/crossing/decisions", headers=bearer(clerk),
                       json=body).status_code == 403
    missing = client.post("/api/crossing/decisions", headers=bearer(officer),
                          json={**body, "document_number": ""})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "document_number"
    wrong = client.post("/api/crossing/decisions", headers=bearer(officer),
                        json={**body, "document_number": "Z437626(1)"})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "invalid_document_number"
    assert wrong.json()["error"]["field"] == "document_number"


def test_the_policy_through_the_api(client: Any, session: Session, now: datetime,
                                    staff_token: Any) -> None:
    _member, border = staff_token("border_officer")
    shown = client.get("/api/crossing/policy", headers={**bearer(border),
                                                        "Accept-Language": "en"})
    assert shown.status_code == 200 and shown.json()["name"] == "HK-CROSSING@1.0.0"
    assert client.get("/api/crossing/policies", headers=bearer(border)).status_code == 403
    _member, health = staff_token("health_officer")
    assert client.get("/api/crossing/policies", headers=bearer(health)).json() == []
    document = json.loads(default_document())
    document["Version"] = "1.2.0"
    loaded = client.post("/api/crossing/policies?activate=true", headers=bearer(health),
                         content=json.dumps(document))
    assert loaded.status_code == 201 and loaded.json()["active"] is True
    assert loaded.json()["crossings"] == 2
    assert client.get("/api/crossing/policy", headers=bearer(border)).json()["version"] \
        == "1.2.0"
    document["Crossings"][0]["Rules"][0]["Logic"] = {"var": "payload.address"}
    document["Version"] = "1.3.0"
    refused = client.post("/api/crossing/policies", headers=bearer(health),
                          content=json.dumps(document))
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "Crossings.0.Rules.0.Logic"
    missing = client.post("/api/crossing/policies/00000000-0000-0000-0000-000000000000/activate",
                          headers=bearer(health))
    assert missing.status_code == 404
