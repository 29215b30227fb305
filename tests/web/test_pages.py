"""The site's pages through the app: languages, sessions, CSRF, headers, roles, errors,
and the resident's and officers' flows."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute

from borderpass.kit import outbox
from tests.conftest import DEMO_PDF
from tests.identity.test_registration_api import pin_received

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)


def english(client: Any) -> None:
    client.cookies.set("locale", "en")


REGISTRATION = {
    "name_zh": "陳美玲", "name_en": "CHAN Mei Ling", "document_kind": "hkid",
    "document_number": "A123456(3)", "document_issued_on": "2018-03-01",
    "hrp_number": "H12345678", "will_cross": "yes", "phone": "+852 9123 4567",
    "address": "Flat C, 8/F, 3 Harbour Road, Wan Chai", "pin_channel": "sms",
    "password": "correct horse battery", "password_again": "correct horse battery",
}


def sign_in_staff(client: Any, staff_token: Any, role: str) -> Any:
    member, _token = staff_token(role)
    page = client.get("/staff/sign-in")
    response = client.post("/staff/sign-in", data={
        "csrf_token": csrf_of(page.text), "username": member.username,
        "password": "password-123", "next": ""}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return member


def test_home_page_is_traditional_chinese_by_default(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-Hant-HK">' in page.text
    assert "港康碼" in page.text and "登記" in page.text


def test_language_choice_is_remembered(client: Any) -> None:
    switched = client.get("/language/zh_Hans?next=/register", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/register"
    assert "locale=zh_Hans" in switched.headers["set-cookie"]
    assert "登记港康码" in client.get("/register").text
    client.get("/language/en?next=/")
    assert "Register for the Health Code" in client.get("/register").text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_language_switch_never_leaves_the_site(client: Any, target: str) -> None:
    switched = client.get(f"/language/en?next={target}", follow_redirects=False)
    assert switched.headers["location"] == "/"


def test_security_headers_on_pages_and_api(client: Any) -> None:
    for path in ("/", "/api/documents/check?kind=hkid&number=x", "/nope"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "http" not in policy and "unsafe-inline" not in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_session_cookie_is_a_random_id_and_http_only(client: Any) -> None:
    response = client.get("/sign-in")
    cookie = response.headers["set-cookie"]
    assert re.match(r"borderpass_session=[A-Za-z0-9_-]{43};", cookie)
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    client.cookies.set("borderpass_session", "forged")
    assert client.get("/account", follow_redirects=False).status_code == 303


def _page_posts() -> list[str]:
    from borderpass.web.app import PAGE_ROUTERS

    paths = []
    for router in PAGE_ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if "POST" in route.methods:
                paths.append(re.sub(r"\{[^}]+\}", str(uuid.uuid4()), route.path))
    return paths


def test_every_form_is_protected_against_cross_site_requests(client: Any) -> None:
    english(client)
    client.get("/")  # a session with a token exists, but the forms below do not send it
    posts = _page_posts()
    assert {"/register", "/register/details", "/sign-in", "/staff/sign-in", "/sign-out",
            "/officer/cases", "/officer/help-desk", "/account/delete"} <= set(posts)
    for path in posts:
        response = client.post(path, data={"csrf_token": "wrong"}, follow_redirects=False)
        assert response.status_code == 403, path
        assert "did not come from this site" in response.text, path


def test_officer_pages_need_the_right_role(client: Any, staff_token: Any) -> None:
    english(client)
    anonymous = client.get("/officer/cases", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/staff/sign-in?next=/officer/cases"
    sign_in_staff(client, staff_token, "help_desk")
    assert client.get("/officer/help-desk").status_code == 200
    for path in ("/officer/cases", "/officer/dashboard", "/officer/rule-sets", "/officer/scan",
                 "/code", "/account"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "You may not do this." in refused.text


def test_errors_are_pages_in_the_chosen_language_and_api_stays_json(client: Any) -> None:
    client.cookies.set("locale", "zh_Hans")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "没有这个页面" in missing.text and "Traceback" not in missing.text
    api = client.get("/api/me")
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "unauthorised"


def test_numbers_are_checked_as_typed(client: Any) -> None:
    english(client)
    good = client.get("/api/documents/check", params={"kind": "hkid", "number": "a1234563"})
    assert good.json() == {"valid": True, "normalised": "A123456(3)", "reason": None,
                           "message": "Valid: A123456(3)"}
    bad = client.get("/api/documents/check", params={"kind": "hkid", "number": "A1234564"})
    assert bad.json()["reason"] == "wrong_check_character"
    assert bad.json()["message"] == "Wrong check character: expected 3, got 4"
    client.cookies.set("locale", "zh_Hant")
    translated = client.get("/api/documents/check", params={"kind": "mainland", "number": "11"})
    assert "長度錯誤" in translated.json()["message"]
    phone = client.get("/api/phones/check", params={"number": "9123 4567"})
    assert phone.json()["normalised"] == "+85291234567"


def test_register_activate_and_use_the_account(client: Any, session: Any, app: Any,
                                               now: Any) -> None:
    english(client)
    start = client.get("/register")
    assert "45 minutes" in start.text
    begun = client.post("/register", data={"csrf_token": csrf_of(start.text)},
                        follow_redirects=False)
    assert begun.headers["location"] == "/register/details"
    form = client.get("/register/details")
    assert "45 minutes left." in form.text and "Finish by" in form.text
    token = csrf_of(form.text)
    # checked again on submit: a wrong check character is named at its field
    bad = client.post("/register/details",
                      data={**REGISTRATION, "csrf_token": token, "document_number": "A1234564"},
                      files={"proof": ("bill.pdf", DEMO_PDF, "application/pdf")})
    assert bad.status_code == 422
    assert 'id="e-document_number">Wrong check character: expected 3, got 4' in bad.text
    assert 'value="CHAN Mei Ling"' in bad.text  # what was typed is kept
    short = client.post("/register/details",
                        data={**REGISTRATION, "csrf_token": token, "name_en": "",
                              "password_again": "other"},
                        files={"proof": ("bill.pdf", DEMO_PDF, "application/pdf")})
    assert 'id="e-name_en">This field is required.' in short.text
    assert 'id="e-password_again">The two passwords are not the same.' in short.text
    sent = client.post("/register/details", data={**REGISTRATION, "csrf_token": token},
                       files={"proof": ("bill.pdf", DEMO_PDF, "application/pdf")},
                       follow_redirects=False)
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/register/activate"
    page = client.get("/register/activate")
    # The development mailbox is in use: the page says where the message with the PIN is.
    from borderpass.kit.config import get_settings

    assert f"{get_settings().mailbox_dir}/" in page.text
    assert "borderpass outbox deliver" in page.text
    wrong = client.post("/register/activate", data={"csrf_token": token, "pin": "12345"})
    assert "The PIN has 6 digits." in wrong.text
    app.state.now = now + timedelta(minutes=2)  # a new PIN may be asked for after a minute
    resent = client.post("/register/resend", data={"csrf_token": token})
    assert resent.status_code == 200 and str(resent.url).endswith("/register/activate")
    assert '<p class="flash" role="status">A new PIN has been sent.' in resent.text
    registration = client.cookies  # the registration id lives in the signed session
    assert registration

    pin = pin_received(session, str(_latest_registration(session)), now=app.state.now)
    done = client.post("/register/activate", data={"csrf_token": csrf_of(page.text), "pin": pin},
                       follow_redirects=False)
    assert done.headers["location"] == "/"
    home = client.get("/")
    assert "Hello, CHAN Mei Ling" in home.text
    assert "A1*****(3)" in home.text
    assert "Your account is active. Welcome." in home.text
    account = client.get("/account")
    assert "Flat C, 8/F, 3 Harbour Road, Wan Chai" in account.text
    assert '<span class="nowrap" id="account-phone">+852 9123 4567</span>' in account.text
    refused = client.post("/account/delete", data={"csrf_token": csrf_of(account.text)})
    assert refused.status_code == 422 and "Tick the box to confirm." in refused.text
    deleted = client.post("/account/delete",
                          data={"csrf_token": csrf_of(account.text), "confirm": "yes"})
    assert "Your account and your proof of address have been deleted." in deleted.text
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert outbox.messages_for(session, str(_latest_registration(session)))


def _latest_registration(session: Any) -> uuid.UUID:
    from sqlalchemy import select

    from borderpass.identity.models import Registration

    return session.scalars(select(Registration.id).order_by(Registration.started_at.desc())
                           .limit(1)).one()


def test_sign_in_out_and_evidence_in_hong_kong_time(
    client: Any, register_person: Any, lab: Any, session: Any, now: Any
) -> None:
    from borderpass.evidence import service as evidence

    english(client)
    register_person()
    source, _key = lab
    collected = now - timedelta(hours=6)  # 20:00 UTC the day before is 04:00 in Hong Kong
    batch = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,result,"
             f"lab\nS-1,hkid,A123456(3),{collected.isoformat()},{now.isoformat()},PCR,negative,"
             f"{source.name}\n")
    evidence.ingest(session, source.id, "tests", batch.encode(), "csv", now=now)
    page = client.get("/sign-in?next=/evidence")
    failed = client.post("/sign-in", data={
        "csrf_token": csrf_of(page.text), "document_kind": "hkid",
        "document_number": "A123456(3)", "password": "wrong-password", "next": "/evidence"})
    assert failed.status_code == 401
    assert "The document number or password is not correct" in failed.text
    signed = client.post("/sign-in", data={
        "csrf_token": csrf_of(page.text), "document_kind": "hkid",
        "document_number": "a123456(3)", "password": "password-123", "next": "/evidence"},
        follow_redirects=False)
    assert signed.headers["location"] == "/evidence"
    shown = client.get("/evidence")
    assert "Negative" in shown.text and source.name in shown.text
    assert "26 Nov 2026, 4:00:00" in shown.text  # Hong Kong time, not UTC's 20:00
    out = client.post("/sign-out", data={"csrf_token": csrf_of(shown.text)},
                      follow_redirects=False)
    assert out.headers["location"] == "/"
    assert client.get("/evidence", follow_redirects=False).status_code == 303


def test_health_officer_records_cases_orders_and_areas(client: Any, staff_token: Any,
                                                       register_person: Any) -> None:
    english(client)
    register_person()
    sign_in_staff(client, staff_token, "health_officer")
    assert client.get("/officer", follow_redirects=False).status_code == 200
    dashboard = client.get("/officer/dashboard")
    assert "Codes issued per day by colour" in dashboard.text
    token = csrf_of(dashboard.text)
    case = client.post("/officer/cases", data={
        "csrf_token": token, "document_kind": "hkid", "document_number": "A123456(3)",
        "kind": "close_contact", "starts_at": "2026-11-25T08:00", "ends_at": ""},
        follow_redirects=False)
    assert case.status_code == 303, case.text
    bad_case = client.post("/officer/cases", data={
        "csrf_token": token, "document_kind": "hkid", "document_number": "A123456(4)",
        "kind": "confirmed", "starts_at": "2026-11-25T08:00", "ends_at": ""})
    assert bad_case.status_code == 422
    assert 'id="e-document_number">Wrong check character' in bad_case.text
    order = client.post("/officer/testing-orders", data={
        "csrf_token": token, "reference": "CTO-1", "period_from": "2026-11-20T00:00",
        "period_to": "2026-11-24T00:00", "test_by": "2026-11-28T23:59",
        "premises": "1 Test Road\n2 Test Road\n"})
    assert "Recorded." in order.text
    assert "CTO-1" in order.text and "1 Test Road; 2 Test Road" in order.text
    area = client.post("/officer/high-risk-areas", data={
        "csrf_token": token, "region_code": "cn-gd-sz", "name_en": "Shenzhen",
        "name_zh": "深圳", "starts_at": "2026-11-26T00:00", "ends_at": ""})
    assert "CN-GD-SZ" in area.text and "Shenzhen" in area.text
    empty = client.post("/officer/high-risk-areas", data={"csrf_token": token})
    assert 'id="e-region_code">This field is required.' in empty.text
    rules = client.get("/officer/rule-sets")
    assert "No rule set is on file." in rules.text


def test_help_desk_registers_and_activates_on_the_spot(client: Any, staff_token: Any,
                                                      session: Any) -> None:
    english(client)
    sign_in_staff(client, staff_token, "help_desk")
    form = client.get("/officer/help-desk")
    # The officer activates the account here: the form does not ask how to send a PIN.
    assert 'name="pin_channel"' not in form.text
    assert "Send the activation PIN by" not in form.text
    token = csrf_of(form.text)
    unchecked = client.post("/officer/help-desk", data={**REGISTRATION, "csrf_token": token},
                            files={"proof": ("bill.pdf", DEMO_PDF, "application/pdf")})
    assert "Confirm that you have seen the original documents." in unchecked.text
    done = client.post("/officer/help-desk",
                       data={**REGISTRATION, "csrf_token": token, "documents_checked": "yes"},
                       files={"proof": ("bill.pdf", DEMO_PDF, "application/pdf")})
    assert done.status_code == 200, done.text
    assert "The account is active" in done.text and "A1*****(3)" in done.text
    from borderpass.identity import service as identity

    person = identity.find_person(session, "hkid", "A123456(3)")
    assert person is not None and person.status == "active"
    # ... and no PIN is queued for it, by SMS or by letter.
    from sqlalchemy import select

    purposes = session.scalars(select(outbox.OutboxMessage.purpose)).all()
    assert "activation_pin" not in purposes


def test_dashboard_chart_stacks_codes_by_colour() -> None:
    from borderpass.healthcode.pages import chart_svg
    from borderpass.healthcode.service import DayCount

    svg = str(chart_svg([DayCount(date(2026, 11, 25), 30, 5, 1),
                         DayCount(date(2026, 11, 26), 10, 0, 0)], "en"))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "Codes issued per day by colour" in svg
    assert svg.count('class="bar-green"') == 2 and svg.count('class="bar-amber"') == 1
    assert svg.count('class="bar-red"') == 1
    assert ">11/25<" in svg and ">36<" in svg  # the peak labels the axis


def test_code_card_shows_colour_validity_and_reasons(client: Any, register_person: Any,
                                                     monkeypatch: Any, now: Any) -> None:
    from borderpass.healthcode import views

    card = views.CodeCard(
        colour="red", qr_svg='<svg xmlns="http://www.w3.org/2000/svg"></svg>',
        valid_until=now + timedelta(hours=12),
        reasons=["Your last negative test was collected more than 48 hours ago."],
        next_steps=["Get tested; your code turns green when the result arrives."])
    monkeypatch.setattr(views, "todays_code", lambda *a, **k: card)
    english(client)
    register_person()
    page = client.get("/sign-in")
    client.post("/sign-in", data={"csrf_token": csrf_of(page.text), "document_kind": "hkid",
                                  "document_number": "A123456(3)", "password": "password-123",
                                  "next": "/code"})
    shown = client.get("/code")
    assert 'class="code red"' in shown.text and "Red code" in shown.text
    assert "Valid until 26 Nov 2026, 10:00:00\u202fpm" in shown.text
    assert "more than 48 hours ago" in shown.text and "turns green" in shown.text


def test_greeting_in_chinese_uses_the_chinese_name(client: Any, register_person: Any,
                                                  session: Any) -> None:
    register_person()
    page = client.get("/sign-in")
    client.post("/sign-in", data={
        "csrf_token": csrf_of(page.text), "document_kind": "hkid",
        "document_number": "A123456(3)", "password": "password-123", "next": "/"})
    assert "<h1>陳大文，你好</h1>" in client.get("/").text  # Traditional Chinese, the default
    english(client)
    assert "<h1>Hello, CHAN Tai Man</h1>" in client.get("/").text


def test_the_site_has_an_icon(client: Any) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/").text


def test_counted_messages_agree_with_their_number() -> None:
    from borderpass.identity.registration import WrongPin
    from borderpass.identity.throttle import SignInDelayed

    assert WrongPin(left=1).render("en") == "The PIN is not correct; 1 attempt left."
    assert WrongPin(left=3).render("en") == "The PIN is not correct; 3 attempts left."
    assert WrongPin(left=1).render("zh_Hant") == "密碼不正確；尚餘 1 次機會。"
    assert SignInDelayed(1).render("en") == ("Too many failed sign-ins. Wait 1 second, then "
                                             "try again.")
    assert "Wait 30 seconds" in SignInDelayed(30).render("en")


def test_phone_numbers_are_shown_grouped() -> None:
    from borderpass.identity.phones import display_phone

    assert display_phone("+85291234567") == "+852 9123 4567"
    assert display_phone("+85361234567") == "+853 6123 4567"
    assert display_phone("+8613800138000") == "+86 138 0013 8000"
    assert display_phone("+44 20 7946 0000") == "+44 20 7946 0000"
