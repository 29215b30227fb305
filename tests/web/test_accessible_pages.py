"""What the pages say to assistive technology, checked on the served HTML: errors tied to
their fields and summed up, the title of a page with errors, English data marked as
English on a Chinese page, more time for a registration (WCAG 2.2.1), and the API
reference served as a page of the site."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.web.test_pages import CSRF, REGISTRATION, english


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match is not None
    return match.group(1).strip()


def test_a_wrong_password_is_tied_to_the_password_field(client: Any) -> None:
    english(client)
    page = client.get("/sign-in")
    answer = client.post("/sign-in", data={
        "csrf_token": csrf_of(page.text), "document_kind": "hkid",
        "document_number": "A123456(3)", "password": "not the password", "next": ""})
    assert answer.status_code == 401
    html = answer.text
    assert title_of(html).startswith("Error: Sign in")
    field = re.search(r"<input id=\"f-password\"[^>]*>", html)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="e-password"' in field.group(0)
    assert 'id="e-password"' in html
    summary = re.search(r'<div class="error-summary" id="error-summary" tabindex="-1".*?</div>',
                        html, re.S)
    assert summary is not None and 'href="#f-password"' in summary.group(0)


def test_staff_sign_in_error_is_tied_to_the_password_field(client: Any) -> None:
    page = client.get("/staff/sign-in")
    answer = client.post("/staff/sign-in", data={
        "csrf_token": csrf_of(page.text), "username": "nobody", "password": "wrong one!",
        "next": ""})
    assert answer.status_code == 401
    assert title_of(answer.text).startswith("錯誤：")
    assert re.search(r'<input id="f-password"[^>]*aria-invalid="true"', answer.text)
    assert 'href="#f-password"' in answer.text


def test_an_unconfirmed_deletion_shows_the_error_on_the_checkbox(
        client: Any, register_person: Any) -> None:
    register_person(number="A123456(3)")
    english(client)
    page = client.get("/sign-in")
    client.post("/sign-in", data={
        "csrf_token": csrf_of(page.text), "document_kind": "hkid",
        "document_number": "A123456(3)", "password": "password-123", "next": ""})
    account = client.get("/account")
    assert account.status_code == 200
    answer = client.post("/account/delete", data={"csrf_token": csrf_of(account.text)})
    assert answer.status_code == 422
    box = re.search(r'<input type="checkbox" id="f-confirm"[^>]*>', answer.text)
    assert box is not None and 'aria-invalid="true"' in box.group(0)
    assert 'aria-describedby="e-confirm"' in box.group(0)
    assert 'id="error-summary"' in answer.text and 'href="#f-confirm"' in answer.text
    assert title_of(answer.text).startswith("Error: My account")


def test_a_missing_proof_of_address_marks_the_file_field(client: Any) -> None:
    english(client)
    start = client.get("/register")
    client.post("/register", data={"csrf_token": csrf_of(start.text)})
    details = client.get("/register/details")
    fields = {**REGISTRATION, "csrf_token": csrf_of(details.text)}
    answer = client.post("/register/details", data=fields)
    assert answer.status_code == 422, answer.text[:500]
    proof = re.search(r'<input id="f-proof"[^>]*>', answer.text)
    assert proof is not None and 'aria-invalid="true"' in proof.group(0)
    assert "e-proof" in proof.group(0)
    assert 'href="#f-proof"' in answer.text


def test_english_data_is_marked_english_on_a_chinese_page(
        client: Any, register_person: Any) -> None:
    register_person(number="A123456(3)")
    page = client.get("/sign-in")  # Traditional Chinese, the default
    client.post("/sign-in", data={
        "csrf_token": csrf_of(page.text), "document_kind": "hkid",
        "document_number": "A123456(3)", "password": "password-123", "next": ""})
    html = client.get("/account").text
    assert '<html lang="zh-Hant-HK">' in html
    assert '<span lang="en">CHAN Tai Man</span>' in html
    assert '<span lang="en">Flat A, 12/F, 1 Test Road, Tsuen Wan</span>' in html
    english(client)
    html = client.get("/account").text
    assert 'lang="en">CHAN Tai Man' not in html and "CHAN Tai Man" in html


def test_the_latin_filter_leaves_chinese_and_escapes() -> None:
    from borderpass.kit.pages import templates

    show = templates.from_string("{{ value|latin }}")
    assert show.render(locale="zh_Hant", value="Demo Laboratory") == (
        '<span lang="en">Demo Laboratory</span>')
    assert show.render(locale="zh_Hant", value="陳大文") == "陳大文"
    assert show.render(locale="zh_Hant", value="12345") == "12345"
    assert show.render(locale="zh_Hans", value="<b>A & B</b>") == (
        '<span lang="en">&lt;b&gt;A &amp; B&lt;/b&gt;</span>')
    assert show.render(locale="en", value="Demo Laboratory") == "Demo Laboratory"


def test_more_time_for_a_registration(client: Any, app: Any, now: Any) -> None:
    english(client)
    start = client.get("/register")
    client.post("/register", data={"csrf_token": csrf_of(start.text)})
    details = client.get("/register/details")
    assert 'action="/register/extend"' in details.text
    assert 'role="status"' in details.text
    token = csrf_of(details.text)
    # 40 minutes in, 5 left: more time gives the full 45 minutes again, from now.
    app.state.now = now + timedelta(minutes=40)
    answer = client.post("/register/extend", data={"csrf_token": token,
                                                    "next": "/register/details"},
                         headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["minutes_left"] == 45
    assert body["expires_at"].startswith((now + timedelta(minutes=85)).isoformat()[:16])
    assert body["message"] == "You have 45 minutes left."
    # Past the first deadline, the registration is still open.
    app.state.now = now + timedelta(minutes=60)
    assert client.get("/register/details").status_code == 200
    # Without JavaScript: the page comes back and says it.
    answer = client.post("/register/extend", data={"csrf_token": token,
                                                    "next": "/register/details"})
    assert answer.status_code == 200 and "You have 45 minutes left." in answer.text
    # Without the form's token, nothing is extended.
    assert client.post("/register/extend", data={"next": "/register/details"}).status_code == 403


def test_a_registration_has_a_longest_life(session: Any, now: Any) -> None:
    from borderpass.identity import service
    from borderpass.identity.registration import MOST_PERIODS
    from borderpass.kit.config import get_settings

    minutes = get_settings().registration_minutes
    registration = service.start_registration(session, now=now)
    at = now
    for _ in range(MOST_PERIODS - 1):  # at least ten extensions, each just in time
        at = registration.expires_at - timedelta(seconds=20)
        registration = service.extend_registration(session, registration.id, now=at)
        assert registration.expires_at == at + timedelta(minutes=minutes)
    last = now + timedelta(minutes=minutes * MOST_PERIODS)
    at = registration.expires_at - timedelta(seconds=20)
    registration = service.extend_registration(session, registration.id, now=at)
    assert registration.expires_at == last
    with pytest.raises(service.RegistrationTooLong):
        service.extend_registration(session, registration.id, now=last - timedelta(minutes=1))
    with pytest.raises(service.RegistrationExpired):
        service.extend_registration(session, registration.id, now=last)


def test_the_api_reference_is_a_page_of_the_site_under_its_policy(client: Any) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="en">' in html
    assert title_of(html) == "borderpass API reference"
    assert '<main id="swagger-ui"' in html
    # Our stylesheet comes after Swagger UI's, so that its colours are the ones used.
    assert html.index("/docs/assets/swagger-ui.css") < html.index("/static/css/docs.css")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/css/docs.css", "/static/js/docs.js", "/docs/assets/swagger-ui.css"):
        assert client.get(asset).status_code == 200, asset
    # FastAPI's own ReDoc page, which loads from a CDN, is not served.
    assert client.get("/redoc").status_code == 404
