"""The applicant's and the officers' API, end to end, and the decision letter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from io import BytesIO
from typing import Any

import pypdf

from tests.permits.conftest import application_fields, resident_id

StaffToken = Callable[[str], tuple[Any, str]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def setup_office(client: Any, staff_token: StaffToken, day: date) -> tuple[str, str, list[Any]]:
    _supervisor, supervisor = staff_token("supervisor")
    _officer, officer = staff_token("exit_entry_officer")
    code = "SZ-FUTIAN"
    created = client.post("/api/permits/offices", headers=bearer(supervisor), json={
        "code": code, "name": "深圳市出入境接待大厅", "address": "深圳市福田区"})
    assert created.status_code == 201, created.text
    published = client.post(f"/api/permits/offices/{code}/slots", headers=bearer(officer), json={
        "day": day.isoformat(), "opens": "09:00", "closes": "10:00", "minutes": 30,
        "capacity": 1})
    assert published.status_code == 201, published.text
    return code, officer, published.json()


def test_apply_book_review_approve_and_letter(
    client: Any, staff_token: StaffToken, now: datetime, tomorrow: date
) -> None:
    code, officer, slots = setup_office(client, staff_token, tomorrow)
    policy = client.get("/api/permits/policy", params={"locale": "en"}).json()
    assert {t["kind"]: t["open"] for t in policy["types"]} == {
        "emergency": True, "business": True, "regular": False}
    created = client.post("/api/permits/applications", json=application_fields(
        reason="visit_critically_ill", relationship="sibling", locale="zh_Hans"))
    assert created.status_code == 201, created.text
    body = created.json()
    application_id, token = body["application"]["id"], body["access"]["token"]
    assert body["application"]["status"] == "submitted"
    listed = client.get(f"/api/permits/offices/{code}/slots",
                        params={"day": tomorrow.isoformat()}).json()
    assert [s["free"] for s in listed] == [1, 1]

    booked = client.post(f"/api/permits/applications/{application_id}/appointment",
                         headers=bearer(token), json={"slot_id": slots[0]["id"]})
    assert booked.status_code == 201, booked.text
    moved = client.put(f"/api/permits/applications/{application_id}/appointment",
                       headers=bearer(token), json={"slot_id": slots[1]["id"]})
    assert moved.json()["appointment"]["slot_id"] == slots[1]["id"]

    today = client.get(f"/api/permits/offices/{code}/appointments", headers=bearer(officer),
                       params={"day": tomorrow.isoformat()}).json()
    assert [(row["time"], row["status"]) for row in today] == [("09:30", "booked")]
    for check in moved.json()["checklist"]:
        marked = client.put(
            f"/api/permits/applications/{application_id}/evidence/{check['item']}",
            headers=bearer(officer), json={"state": "seen"})
        assert marked.status_code == 200, marked.text
    decided = client.post(f"/api/permits/applications/{application_id}/decision",
                          headers=bearer(officer), json={"outcome": "approve", "stay_days": 7})
    assert decided.status_code == 200, decided.text
    endorsement = decided.json()["endorsement"]
    assert (endorsement["entries"], endorsement["stay_days"]) == (1, 7)

    letter = client.get(f"/api/permits/applications/{application_id}/letter",
                        headers=bearer(token))
    assert letter.status_code == 200
    assert letter.headers["content-type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF-")
    text = pdf_text(letter.content)
    assert "签注申请决定书" in text
    assert "申请获批准" in text
    assert endorsement["number"] in text
    assert "每次逗留：7天" in text
    assert "核酸检测阴性报告" in text  # the trip and return conditions
    assert "14天集中隔离" in text
    english = pdf_text(client.get(f"/api/permits/applications/{application_id}/letter",
                                  headers=bearer(token), params={"locale": "en"}).content)
    assert "APPROVED" in english and "quarantine" in english
    assert "李明" in english


def test_refusal_letter_states_the_reasons(
    client: Any, staff_token: StaffToken, tomorrow: date
) -> None:
    _code, officer, slots = setup_office(client, staff_token, tomorrow)
    body = client.post("/api/permits/applications", json=application_fields(
        reason="litigation", locale="zh_Hant")).json()
    application_id, token = body["application"]["id"], body["access"]["token"]
    client.post(f"/api/permits/applications/{application_id}/appointment",
                headers=bearer(token), json={"slot_id": slots[0]["id"]})
    refused = client.post(f"/api/permits/applications/{application_id}/decision",
                          headers=bearer(officer),
                          json={"outcome": "refuse", "reasons": ["未能出示法院傳票原件。"]})
    assert refused.status_code == 200, refused.text
    assert refused.json()["decision"]["reasons"] == ["未能出示法院傳票原件。"]
    text = pdf_text(client.get(f"/api/permits/applications/{application_id}/letter",
                               headers=bearer(token)).content)
    assert "申請不獲批准" in text
    assert "未能出示法院傳票原件" in text
    assert "集中隔離" not in text  # conditions go with a trip, not with a refusal


def test_cancel_frees_the_place_over_the_api(
    client: Any, staff_token: StaffToken, tomorrow: date
) -> None:
    code, _officer, slots = setup_office(client, staff_token, tomorrow)
    tokens = []
    for _ in range(2):
        body = client.post("/api/permits/applications", json=application_fields()).json()
        tokens.append((body["application"]["id"], body["access"]["token"]))
    (first, first_token), (second, second_token) = tokens
    url = "/api/permits/applications/{}/appointment"
    assert client.post(url.format(first), headers=bearer(first_token),
                       json={"slot_id": slots[0]["id"]}).status_code == 201
    full = client.post(url.format(second), headers=bearer(second_token),
                       json={"slot_id": slots[0]["id"]})
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "slot_full"
    assert client.delete(url.format(first), headers=bearer(first_token)).status_code == 204
    assert client.post(url.format(second), headers=bearer(second_token),
                       json={"slot_id": slots[0]["id"]}).status_code == 201


def test_callers_are_kept_to_their_own(client: Any, staff_token: StaffToken,
                                       tomorrow: date) -> None:
    _code, _officer, _slots = setup_office(client, staff_token, tomorrow)
    first = client.post("/api/permits/applications", json=application_fields()).json()
    second = client.post("/api/permits/applications", json=application_fields()).json()
    other = client.get(f"/api/permits/applications/{second['application']['id']}",
                       headers=bearer(first["access"]["token"]))
    assert other.status_code == 403
    _health, health_token = staff_token("health_officer")
    assert client.get(f"/api/permits/applications/{first['application']['id']}",
                      headers=bearer(health_token)).status_code == 403
    assert client.get(f"/api/permits/applications/{first['application']['id']}").status_code \
        == 401
    decision = client.post(f"/api/permits/applications/{first['application']['id']}/decision",
                           headers=bearer(first["access"]["token"]), json={"outcome": "approve"})
    assert decision.status_code == 403
    no_letter = client.get(f"/api/permits/applications/{first['application']['id']}/letter",
                           headers=bearer(first["access"]["token"]))
    assert no_letter.status_code == 409


def test_bad_input_names_the_field(client: Any) -> None:
    bad_id = client.post("/api/permits/applications",
                         json=application_fields(mainland_id="11010519491231002"))
    assert bad_id.status_code == 422
    assert bad_id.json()["error"]["field"] == "mainland_id"
    bad_kind = client.post("/api/permits/applications", json=application_fields(kind="tourism"))
    assert bad_kind.status_code == 422
    assert bad_kind.json()["error"]["field"] == "kind"
    bad_phone = client.post("/api/permits/applications",
                            json=application_fields(phone="12345", mainland_id=resident_id()))
    assert bad_phone.json()["error"]["field"] == "phone"
