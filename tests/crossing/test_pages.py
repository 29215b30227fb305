"""The crossing's pages: the officer's decision at a control point (text or photo of the
code, the document, the decision with its reasons), the policy, the quotas, and the
resident's booking of a quarantine-free place, in the three languages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from borderpass.crossing.policy import default_document
from borderpass.demo import DEMO_PASSWORD
from borderpass.healthcode.qr import qr_image
from borderpass.kit.clock import hk_date
from tests.crossing.conftest import CHAN, LEE, LI, Demo
from tests.web.test_pages import csrf_of, english, sign_in_staff


def decide_on_page(client: Any, document: tuple[str, str], code: str, *, photo: bytes = b"",
                   endorsement: str = "", point: str = "LWU", direction: str = "south") -> Any:
    page = client.get("/officer/crossing")
    assert page.status_code == 200
    files = {"photo": ("code.png", photo, "image/png")} if photo else None
    return client.post("/officer/crossing", data={
        "csrf_token": csrf_of(page.text), "control_point": point, "direction": direction,
        "document_kind": document[0], "document_number": document[1],
        "code_text": "" if photo else code, "endorsement": endorsement}, files=files)


def reasons_of(html: str) -> list[str]:
    return re.findall(r'<li data-code="([a-z_0-9]+)">', html)


def test_the_officer_decides_the_three_outcomes(
    client: Any, staff_token: Any, demo: Demo, code_of: Callable[..., str], now: datetime
) -> None:
    english(client)
    sign_in_staff(client, staff_token, "border_officer")
    page = client.get("/officer/crossing")
    assert 'option value="LWU"' in page.text and "Lo Wu (LWU)" in page.text

    lee = decide_on_page(client, LEE, code_of(LEE))
    assert lee.status_code == 200, lee.text
    assert 'data-outcome="refused"' in lee.text and ">Crossing refused<" in lee.text
    assert reasons_of(lee.text) == ["code_not_green", "checkin_days_short", "not_vaccinated"]
    assert "The health code is not green" in lee.text

    chan = decide_on_page(client, CHAN, code_of(CHAN))
    assert 'data-outcome="quarantine_free"' in chan.text
    assert ">Quarantine-free crossing<" in chan.text
    assert "quota_booked" in reasons_of(chan.text)
    assert "Hong Kong code" in chan.text and "A1*****(3)" in chan.text

    li = decide_on_page(client, LI, code_of(LI), endorsement=demo.endorsement)
    assert 'data-outcome="quarantine"' in li.text
    assert reasons_of(li.text) == ["quarantine_free_for_residents"]
    ends = hk_date(now) + timedelta(days=14)
    assert f"at Penny&#39;s Bay Quarantine Centre, until {ends:%-d %b %Y}." in li.text
    assert demo.endorsement in li.text

    today = client.get("/officer/crossing")
    rows = re.findall(r"<tr><td>[^<]+</td><td>Southbound</td><td>([^<]+)</td>", today.text)
    assert sorted(rows) == ["Crossing refused", "Crossing to quarantine",
                            "Quarantine-free crossing"]
    # The next traveller's form starts at the same control point, without the last
    # traveller's document number.
    assert 'option value="LWU" selected' in today.text
    assert LI[1] not in li.text and LI[1] not in today.text


def test_the_decision_speaks_the_officers_language(
    client: Any, staff_token: Any, demo: Demo, code_of: Callable[..., str]
) -> None:
    sign_in_staff(client, staff_token, "border_officer")
    client.cookies.set("locale", "zh_Hans")
    lee = decide_on_page(client, LEE, code_of(LEE))
    assert "健康码不是绿码" in lee.text and "罗湖 (LWU)" in lee.text
    client.cookies.set("locale", "zh_Hant")
    li = decide_on_page(client, LI, code_of(LI), endorsement=demo.endorsement)
    assert "竹篙灣檢疫中心" in li.text and "免檢疫安排只適用於香港居民" in li.text


def test_a_photo_of_the_code_is_read(client: Any, staff_token: Any, demo: Demo,
                                     code_of: Callable[..., str]) -> None:
    english(client)
    sign_in_staff(client, staff_token, "border_officer")
    photo = qr_image(code_of(CHAN), "png", scale=6)
    chan = decide_on_page(client, CHAN, "", photo=photo)
    assert 'data-outcome="quarantine_free"' in chan.text
    unreadable = decide_on_page(client, CHAN, "", photo=b"\x89PNG not an image")
    assert unreadable.status_code == 422 and 'id="e-photo"' in unreadable.text


def test_the_form_says_what_is_missing(client: Any, staff_token: Any, demo: Demo,
                                       code_of: Callable[..., str]) -> None:
    english(client)
    sign_in_staff(client, staff_token, "border_officer")
    no_code = decide_on_page(client, CHAN, "")
    assert no_code.status_code == 422 and 'id="e-code_text"' in no_code.text
    wrong = decide_on_page(client, ("hkid", "A123456(4)"), code_of(CHAN))
    assert wrong.status_code == 422 and 'id="e-document_number"' in wrong.text
    assert "Wrong check character" in wrong.text
    assert 'data-outcome=' not in wrong.text


def test_the_crossing_pages_need_the_right_role(client: Any, staff_token: Any,
                                                session: Session, demo: Demo) -> None:
    english(client)
    anonymous = client.get("/officer/crossing", follow_redirects=False)
    assert anonymous.headers["location"] == "/staff/sign-in?next=/officer/crossing"
    assert client.get("/crossing", follow_redirects=False).headers["location"] \
        == "/sign-in?next=/crossing"
    sign_in_staff(client, staff_token, "help_desk")
    for path in ("/officer/crossing", "/officer/crossing/policy", "/officer/crossing/quota",
                 "/crossing"):
        assert client.get(path).status_code == 403, path


def test_officers_see_the_policy_and_health_officers_change_it(
    client: Any, staff_token: Any
) -> None:
    english(client)
    sign_in_staff(client, staff_token, "border_officer")
    shown = client.get("/officer/crossing/policy")
    assert shown.status_code == 200
    assert "XS-CODE-GREEN" in shown.text and "The health code is green." in shown.text
    assert "Penny&#39;s Bay Quarantine Centre" in shown.text
    assert "Load a crossing policy" not in shown.text
    client.post("/sign-out", data={"csrf_token": csrf_of(shown.text)})
    sign_in_staff(client, staff_token, "health_officer")
    page = client.get("/officer/crossing/policy")
    assert "Load a crossing policy" in page.text
    document = json.loads(default_document())
    document["Version"] = "1.0.7"
    loaded = client.post("/officer/crossing/policy", data={"csrf_token": csrf_of(page.text)},
                         files={"policy": ("policy.json", json.dumps(document).encode(),
                                           "application/json")})
    assert "Crossing policy HK-CROSSING 1.0.7 loaded." in loaded.text
    version = re.search(r'action="/officer/crossing/policy/([0-9a-f-]+)/activate"', loaded.text)
    assert version is not None
    active = client.post(f"/officer/crossing/policy/{version.group(1)}/activate",
                         data={"csrf_token": csrf_of(loaded.text)})
    assert "is now in force" in active.text and "(HK-CROSSING@1.0.7)" in active.text
    broken = client.post("/officer/crossing/policy", data={"csrf_token": csrf_of(page.text)},
                         files={"policy": ("policy.json", b"{", "application/json")})
    assert broken.status_code == 422 and "not JSON" in broken.text


def test_supervisors_set_the_places_of_a_week(client: Any, staff_token: Any, demo: Demo,
                                              now: datetime) -> None:
    english(client)
    sign_in_staff(client, staff_token, "supervisor")
    page = client.get("/officer/crossing/quota")
    assert page.status_code == 200 and "49 / 50" in page.text  # CHAN's place at Lo Wu today
    day = (hk_date(now) + timedelta(days=1)).isoformat()
    set_ = client.post("/officer/crossing/quota", data={
        "csrf_token": csrf_of(page.text), "control_point": "AIR", "day": day, "days": "2",
        "places": "120"})
    assert "Quarantine-free places set at AIR for 2 days." in set_.text
    assert set_.text.count("120 / 120") == 2
    refused = client.post("/officer/crossing/quota", data={
        "csrf_token": csrf_of(page.text), "control_point": "AIR", "day": day, "days": "2",
        "places": "many"})
    assert refused.status_code == 422 and 'id="e-places"' in refused.text


def test_a_resident_books_and_cancels_a_place(client: Any, demo: Demo, now: datetime) -> None:
    english(client)
    page = client.get("/sign-in")
    client.post("/sign-in", data={"csrf_token": csrf_of(page.text), "document_kind": LEE[0],
                                  "document_number": LEE[1], "password": DEMO_PASSWORD,
                                  "next": "/crossing"})
    shown = client.get("/crossing?control_point=SBC")
    assert shown.status_code == 200 and "You have no booking." in shown.text
    assert shown.text.count("50 / 50") == 7
    tomorrow = hk_date(now) + timedelta(days=1)
    booked = client.post("/crossing/bookings", data={
        "csrf_token": csrf_of(shown.text), "control_point": "SBC", "day": tomorrow.isoformat()})
    assert "Your quarantine-free place is booked: QF" in booked.text
    assert "49 / 50" in booked.text and "Shenzhen Bay (SBC)" in booked.text
    cancel = re.search(r'action="(/crossing/bookings/[0-9a-f-]+/cancel)"', booked.text)
    assert cancel is not None
    again = client.post("/crossing/bookings", data={
        "csrf_token": csrf_of(booked.text), "control_point": "LWU", "day": tomorrow.isoformat()})
    assert again.status_code == 409 and "You already have a quarantine-free place" in again.text
    cancelled = client.post(cancel.group(1), data={"csrf_token": csrf_of(booked.text)})
    assert "Your booking is cancelled" in cancelled.text and "Cancelled" in cancelled.text
    client.cookies.set("locale", "zh_Hant")
    assert "預約免檢疫名額" in client.get("/crossing").text
