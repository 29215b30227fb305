"""The endorsement pages through the app: three languages, the applicant's and officers'
flows, refusals with reasons, the supervisor's path, CSRF and roles."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.permits.conftest import resident_id
from tests.web.test_pages import csrf_of, english, sign_in_staff

REFERENCE = re.compile(r"PA[0-9A-Z]{10}")
TOKEN = re.compile(r'<code id="token" class="token">([^<]+)</code>')


@pytest.fixture()
def officer_client(app: Any) -> Iterator[TestClient]:
    """A second browser, for the officer, beside the applicant's ``client``."""
    with TestClient(app, raise_server_exceptions=False) as second:
        second.cookies.set("locale", "en")
        yield second


def apply_fields(**overrides: str) -> dict[str, str]:
    fields = {"name": "李明", "mainland_id": resident_id(), "permit_number": "C12345678",
              "phone": "+86 138 0013 8000", "kind": "emergency", "destination": "HK",
              "reason": "medical_treatment", "relationship": "", "relationship_detail": "",
              "employer": "", "inviter": ""}
    fields.update(overrides)
    return fields


def apply_through_page(client: TestClient, **overrides: str) -> tuple[str, str]:
    """Apply on the page; return the reference and the access token shown once."""
    form = client.get("/permits/apply")
    response = client.post("/permits/apply",
                           data={"csrf_token": csrf_of(form.text), **apply_fields(**overrides)})
    assert response.status_code == 201, response.text
    reference = REFERENCE.search(response.text)
    token = TOKEN.search(response.text)
    assert reference is not None and token is not None
    return reference.group(0), token.group(1)


def book_first_slot(client: TestClient, office: Any, day: date) -> None:
    page = client.get(f"/permits/application?office={office.code}&day={day}")
    slot = re.search(r'name="slot_id" value="([^"]+)"', page.text)
    assert slot is not None, page.text
    booked = client.post("/permits/application/appointment",
                         data={"csrf_token": csrf_of(page.text), "slot_id": slot.group(1)})
    assert booked.status_code == 200
    assert "Your appointment is booked." in booked.text


def application_id_of(officer_client: TestClient, office: Any, day: date,
                      reference: str) -> str:
    listing = officer_client.get(f"/officer/permits?office={office.code}&day={day}")
    assert listing.status_code == 200
    found = re.search(r'href="/officer/permits/applications/([0-9a-f-]+)">' + reference,
                      listing.text)
    assert found is not None, listing.text
    return found.group(1)


def mark_all_seen(officer_client: TestClient, application_id: str) -> None:
    page = officer_client.get(f"/officer/permits/applications/{application_id}")
    items = re.findall(rf'action="/officer/permits/applications/{application_id}/evidence/'
                       r'([a-z_]+)"', page.text)
    assert items
    for item in items:
        marked = officer_client.post(
            f"/officer/permits/applications/{application_id}/evidence/{item}",
            data={"csrf_token": csrf_of(page.text), "state": "seen", "reason": ""})
        assert marked.status_code == 200 and "Saved." in marked.text


def decide(officer_client: TestClient, application_id: str, **fields: str) -> Any:
    page = officer_client.get(f"/officer/permits/applications/{application_id}")
    return officer_client.post(f"/officer/permits/applications/{application_id}/decision",
                               data={"csrf_token": csrf_of(page.text), **fields})


# --- languages ---------------------------------------------------------------------

HEADINGS = {
    "zh_Hant": ("zh-Hant-HK", "申請簽注", "前往港澳的簽注"),
    "zh_Hans": ("zh-Hans", "申请签注", "前往港澳的签注"),
    "en": ("en", "Apply for an endorsement", "Endorsements to visit Hong Kong or Macau"),
}


@pytest.mark.parametrize("locale", ["zh_Hant", "zh_Hans", "en"])
def test_every_page_renders_in_each_language(
    client: TestClient, officer_client: TestClient, staff_token: Any, office: Any,
    publish: Callable[..., list[Any]], tomorrow: date, locale: str,
) -> None:
    publish()
    tag, apply_heading, home_heading = HEADINGS[locale]
    client.cookies.set("locale", locale)
    for path in ("/permits", "/permits/apply", "/permits/open"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert f'<html lang="{tag}">' in page.text
    assert apply_heading in client.get("/permits/apply").text
    assert home_heading in client.get("/permits").text
    client.cookies.set("locale", "en")
    reference, _token = apply_through_page(client)
    client.cookies.set("locale", locale)
    mine = client.get(f"/permits/application?office={office.code}&day={tomorrow}")
    assert mine.status_code == 200 and reference in mine.text
    assert f'<html lang="{tag}">' in mine.text
    officer_client.cookies.set("locale", locale)
    sign_in_staff(officer_client, staff_token, "supervisor")
    client.cookies.set("locale", "en")
    book_first_slot(client, office, tomorrow)
    application_id = application_id_of(officer_client, office, tomorrow, reference)
    for path in ("/officer/permits", f"/officer/permits/applications/{application_id}",
                 "/officer/permits/supervisor", "/officer/permits/slots"):
        page = officer_client.get(path)
        assert page.status_code == 200, path
        assert f'<html lang="{tag}">' in page.text
        if locale != "en":
            for english_text in ("Appointments", "Evidence", "Awaiting a supervisor",
                                 "Publish slots", "Not yet checked"):
                assert f">{english_text}<" not in page.text, (path, english_text)


def test_policy_page_lists_open_types_and_every_reasons_checklist(client: TestClient) -> None:
    english(client)
    page = client.get("/permits").text
    for reason, item in (("Medical treatment", "treatment plan"), ("Funeral", "Death certificate"),
                         ("Litigation", "Court&#39;s summons"),
                         ("Examination", "Examination admission ticket"),
                         ("Handling property", "Property title"),
                         ("Academic exchange", "Invitation to the academic exchange"),
                         ("Visiting a critically ill patient", "critical-condition notice")):
        assert reason in page and item in page, reason
    assert "Suspended" in page  # regular endorsements, on the pinned day
    form = client.get("/permits/apply").text
    assert 'value="emergency"' in form and 'value="business"' in form
    assert 'name="kind" value="regular"' not in form


# --- the applicant's and officer's flow --------------------------------------------

def test_apply_book_review_approve_and_download_the_letter(
    client: TestClient, officer_client: TestClient, staff_token: Any, office: Any,
    publish: Callable[..., list[Any]], tomorrow: date,
) -> None:
    publish(capacity=1)
    english(client)
    reference, token = apply_through_page(client)
    page = client.get(f"/permits/application?office={office.code}&day={tomorrow}")
    assert "Submitted: book an appointment" in page.text
    assert page.text.count("1 / 1") == 2  # both slots have their one place free
    book_first_slot(client, office, tomorrow)
    page = client.get(f"/permits/application?office={office.code}&day={tomorrow}")
    assert "0 / 1" in page.text and "Full" not in page.text  # our own place: "Your appointment"
    other = re.search(r'name="slot_id" value="([^"]+)"', page.text)
    assert other is not None and "Move here" in page.text
    moved = client.post("/permits/application/appointment",
                        data={"csrf_token": csrf_of(page.text), "slot_id": other.group(1)})
    assert "Your appointment has been changed." in moved.text
    cancelled = client.post("/permits/application/cancel",
                            data={"csrf_token": csrf_of(moved.text)})
    assert "Your appointment has been cancelled." in cancelled.text
    page = client.get(f"/permits/application?office={office.code}&day={tomorrow}")
    assert page.text.count("1 / 1") == 2  # the place is free again
    book_first_slot(client, office, tomorrow)

    sign_in_staff(officer_client, staff_token, "exit_entry_officer")
    application_id = application_id_of(officer_client, office, tomorrow, reference)
    review = officer_client.get(f"/officer/permits/applications/{application_id}")
    assert "李明" in review.text and "Hospital&#39;s admission notice" in review.text
    early = decide(officer_client, application_id, outcome="approve")
    assert early.status_code == 409 and "Every evidence item must be marked seen" in early.text
    mark_all_seen(officer_client, application_id)
    approved = decide(officer_client, application_id, outcome="approve", entries="1",
                      valid_from="", validity_days="30", stay_days="7")
    assert approved.status_code == 200, approved.text
    assert "Approved: the endorsement is issued." in approved.text

    mine = client.get("/permits/application")
    assert "Approved" in mine.text and "Endorsement number" in mine.text
    assert "Evidence item checked" in mine.text and "Exit-entry officer" in mine.text
    letter = client.get("/permits/application/letter")
    assert letter.status_code == 200
    assert letter.headers["content-type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF")
    assert officer_client.get(
        f"/officer/permits/applications/{application_id}/letter").content.startswith(b"%PDF")

    # Another device opens the application with the token shown once.
    with TestClient(client.app, raise_server_exceptions=False) as other_device:
        other_device.cookies.set("locale", "en")
        assert other_device.get("/permits/application",
                                follow_redirects=False).headers["location"] == "/permits/open"
        form = other_device.get("/permits/open")
        wrong = other_device.post("/permits/open", data={"csrf_token": csrf_of(form.text),
                                                         "token": "not-a-token"})
        assert wrong.status_code == 401
        opened = other_device.post("/permits/open", data={"csrf_token": csrf_of(form.text),
                                                          "token": token})
        assert opened.status_code == 200 and reference in opened.text


def test_refusal_carries_its_reasons_to_the_applicant(
    client: TestClient, officer_client: TestClient, staff_token: Any, office: Any,
    publish: Callable[..., list[Any]], tomorrow: date,
) -> None:
    publish()
    english(client)
    reference, _token = apply_through_page(client, reason="litigation")
    book_first_slot(client, office, tomorrow)
    sign_in_staff(officer_client, staff_token, "exit_entry_officer")
    application_id = application_id_of(officer_client, office, tomorrow, reference)
    page = officer_client.get(f"/officer/permits/applications/{application_id}")
    target = f"/officer/permits/applications/{application_id}/evidence/court_summons"
    no_reason = officer_client.post(target, data={"csrf_token": csrf_of(page.text),
                                                  "state": "not_acceptable", "reason": ""})
    assert no_reason.status_code == 422
    assert "Say why the item is not acceptable." in no_reason.text
    marked = officer_client.post(target, data={"csrf_token": csrf_of(page.text),
                                               "state": "not_acceptable",
                                               "reason": "The summons is a photocopy."})
    assert "The summons is a photocopy." in marked.text
    empty = decide(officer_client, application_id, outcome="refuse", reasons="  ", note="")
    assert empty.status_code == 422 and "A refusal needs at least one reason." in empty.text
    refused = decide(officer_client, application_id, outcome="refuse", note="",
                     reasons="The court's summons is not an original.\nNo hearing date.")
    assert "Refused, with the reasons given." in refused.text
    mine = client.get("/permits/application").text
    assert "Refused" in mine
    assert "The court&#39;s summons is not an original." in mine and "No hearing date." in mine
    assert client.get("/permits/application/letter").content.startswith(b"%PDF")


def test_another_family_member_is_decided_by_a_supervisor(
    client: TestClient, officer_client: TestClient, app: Any, staff_token: Any, office: Any,
    publish: Callable[..., list[Any]], tomorrow: date,
) -> None:
    publish()
    english(client)
    reference, _token = apply_through_page(client, reason="funeral", relationship="cousin",
                                           relationship_detail="My mother's sister's son")
    book_first_slot(client, office, tomorrow)
    sign_in_staff(officer_client, staff_token, "exit_entry_officer")
    application_id = application_id_of(officer_client, office, tomorrow, reference)
    review = officer_client.get(f"/officer/permits/applications/{application_id}")
    assert "A supervisor decides this application" in review.text
    assert "Approve and issue the endorsement" not in review.text
    mark_all_seen(officer_client, application_id)
    refused = decide(officer_client, application_id, outcome="approve")
    assert refused.status_code == 403
    assert "A supervisor decides this application; escalate it instead." in refused.text
    no_note = decide(officer_client, application_id, outcome="escalate", note="")
    assert no_note.status_code == 422
    escalated = decide(officer_client, application_id, outcome="escalate",
                       note="A cousin: not a direct relative.")
    assert "Referred to a supervisor." in escalated.text

    with TestClient(app, raise_server_exceptions=False) as boss:
        boss.cookies.set("locale", "en")
        sign_in_staff(boss, staff_token, "supervisor")
        waiting = boss.get("/officer/permits/supervisor")
        assert reference in waiting.text
        unwritten = decide(boss, application_id, outcome="approve")
        assert unwritten.status_code == 422
        assert "A supervisor&#39;s decision needs a written reason." in unwritten.text
        approved = decide(boss, application_id, outcome="approve",
                          note="The deceased raised the applicant; the family confirmed.")
        assert "Approved: the endorsement is issued." in approved.text
        assert reference not in boss.get("/officer/permits/supervisor").text
    mine = client.get("/permits/application").text
    assert "Supervisor" in mine and "The deceased raised the applicant" in mine


def test_supervisor_publishes_slots_on_the_page(
    officer_client: TestClient, staff_token: Any, office: Any, tomorrow: date,
) -> None:
    sign_in_staff(officer_client, staff_token, "supervisor")
    page = officer_client.get(f"/officer/permits/slots?office={office.code}")
    fields = {"csrf_token": csrf_of(page.text), "office": office.code, "day": str(tomorrow),
              "opens": "14:00", "closes": "15:00", "minutes": "20", "capacity": "4"}
    bad = officer_client.post("/officer/permits/slots", data={**fields, "closes": "13:00"})
    assert bad.status_code == 422 and "The office must close after it opens." in bad.text
    wrong = officer_client.post("/officer/permits/slots", data={**fields, "opens": "2pm"})
    assert wrong.status_code == 422 and "This is not in the expected form." in wrong.text
    published = officer_client.post("/officer/permits/slots", data=fields)
    assert published.status_code == 200
    assert "3 slots published." in published.text
    assert published.text.count("<td>4</td><td>0</td><td>4</td>") == 3


def test_applications_are_checked_field_by_field(client: TestClient) -> None:
    english(client)
    form = client.get("/permits/apply")
    token = csrf_of(form.text)
    closed = client.post("/permits/apply", data={"csrf_token": token,
                                                 **apply_fields(kind="regular", reason="")})
    assert closed.status_code == 422
    assert "Applications for regular endorsements are not accepted" in closed.text
    bad_id = client.post("/permits/apply", data={"csrf_token": token,
                                                 **apply_fields(mainland_id="123")})
    assert bad_id.status_code == 422 and 'id="e-mainland_id"' in bad_id.text
    business = client.post("/permits/apply", data={"csrf_token": token,
                                                   **apply_fields(kind="business", reason="")})
    assert business.status_code == 422 and 'id="e-employer"' in business.text
    missing = client.post("/permits/apply", data={"csrf_token": token,
                                                  **apply_fields(name="")})
    assert missing.status_code == 422 and "This field is required." in missing.text
    reference, _token = apply_through_page(client, kind="business", reason="",
                                           employer="深圳市某某科技有限公司",
                                           inviter="Example Trading Ltd, Hong Kong")
    assert reference.startswith("PA")


# --- CSRF and roles ----------------------------------------------------------------

def test_forms_without_the_csrf_token_are_refused(client: TestClient) -> None:
    english(client)
    client.get("/permits/apply")
    for path in ("/permits/apply", "/permits/open", "/permits/application/appointment",
                 "/permits/application/cancel", "/permits/application/forget",
                 "/officer/permits/slots"):
        response = client.post(path, data=apply_fields(), follow_redirects=False)
        assert response.status_code == 403, path
        assert "did not come from this site" in response.text


def test_officer_pages_need_the_right_role(client: TestClient, staff_token: Any) -> None:
    english(client)
    anonymous = client.get("/officer/permits", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/staff/sign-in?next=/officer/permits"
    sign_in_staff(client, staff_token, "exit_entry_officer")
    assert client.get("/officer/permits").status_code == 200
    nav = client.get("/officer").text
    assert 'href="/officer/permits"' in nav and 'href="/officer/permits/slots"' not in nav
    for path in ("/officer/permits/slots", "/officer/permits/supervisor"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "You may not do this." in refused.text
    sign_in_staff(client, staff_token, "health_officer")
    refused = client.get("/officer/permits")
    assert refused.status_code == 403 and "You may not do this." in refused.text
    client.cookies.set("locale", "zh_Hans")
    assert "你无权进行此操作。" in client.get("/officer/permits").text
