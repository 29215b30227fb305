"""The check-in app as the server serves it (page, manifest, service worker, the upload
form), and the health officer's page for where a case was."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from borderpass.kit.clock import HONG_KONG
from tests.web.test_pages import csrf_of, english, sign_in_staff


def _local(instant: datetime) -> str:
    return instant.astimezone(HONG_KONG).strftime("%Y-%m-%dT%H:%M")


def test_the_app_is_installable_and_names_only_the_venue_key(client: Any) -> None:
    from borderpass.checkin import service

    for locale, title in (("en", "Venue check-in"), ("zh_Hant", "場所登記"),
                          ("zh_Hans", "场所登记")):
        client.cookies.set("locale", locale)
        page = client.get("/app/checkin")
        assert page.status_code == 200 and title in page.text
        assert '<link rel="manifest" href="/app/checkin/manifest.webmanifest">' in page.text
        data = json.loads(re.search(r'id="checkin-data">(.*?)</script>', page.text,
                                    re.S).group(1))  # type: ignore[union-attr]
        assert set(data["trust"]) == set(service.venue_trust())
        assert data["usual_stay_minutes"]["restaurant"] == 120
        manifest = client.get("/app/checkin/manifest.webmanifest")
        assert manifest.headers["content-type"].startswith("application/manifest+json")
        assert manifest.json()["name"] == title
        assert manifest.json()["start_url"] == "/app/checkin"
        assert {icon["sizes"] for icon in manifest.json()["icons"]} == {"192x192", "512x512"}
    worker = client.get("/app/checkin-worker.js")
    assert worker.status_code == 200 and "javascript" in worker.headers["content-type"]
    assert "/app/checkin" in worker.text
    for icon in ("/static/img/checkin-192.png", "/static/img/checkin-512.png"):
        assert client.get(icon).content.startswith(b"\x89PNG")


def test_the_upload_needs_consent_and_a_signed_in_resident(
    client: Any, session: Any, register_person: Any,
) -> None:
    english(client)
    form = client.get("/app/checkin")
    assert "Sign in to your Health Code account" in form.text
    refused = client.post("/app/checkin/upload", data={"csrf_token": csrf_of(
        client.get("/sign-in").text),
                                                       "bundle": "{}", "consent": "yes"},
                          follow_redirects=False)
    assert refused.status_code in (303, 401)
    assert "/sign-in" in refused.headers.get("location", "/sign-in")
    register_person("A123456(3)")
    signed_in = client.post("/sign-in", data={
        "csrf_token": csrf_of(client.get("/sign-in").text), "document_kind": "hkid",
        "document_number": "A123456(3)", "password": "password-123", "next": "/app/checkin"},
        follow_redirects=False)
    assert signed_in.status_code == 303
    page = client.get("/app/checkin")
    assert 'id="upload-form"' in page.text
    token = csrf_of(page.text)
    without = client.post("/app/checkin/upload", data={"csrf_token": token, "bundle": "{}"})
    assert "explicit consent" in without.text
    unreadable = client.post("/app/checkin/upload", data={"csrf_token": token,
                                                          "bundle": "{", "consent": "yes"})
    assert "no readable records" in unreadable.text
    from borderpass.checkin.models import Upload

    assert session.query(Upload).count() == 0


def test_an_officer_records_where_a_case_was_on_the_page(
    client: Any, session: Any, now: datetime, staff_token: Any, make_venue: Any,
) -> None:
    from borderpass.checkin import service

    venue, _code = make_venue()
    english(client)
    sign_in_staff(client, staff_token, "health_officer")
    page = client.get("/officer/case-visits")
    assert page.status_code == 200 and "No case in the last 15 days." in page.text
    token = csrf_of(page.text)
    later = client.post("/officer/case-visits", data={
        "csrf_token": token, "place_kind": "venue", "place": venue.code,
        "starts_at": _local(now - timedelta(hours=1)), "ends_at": "yesterday"})
    assert later.status_code == 422 and "Give a date and time." in later.text
    unknown = client.post("/officer/case-visits", data={
        "csrf_token": token, "place_kind": "venue", "place": "NOSUCHPLACE",
        "starts_at": _local(now - timedelta(hours=2)), "ends_at": _local(now)})
    assert unknown.status_code in (404, 422) and 'id="e-place"' in unknown.text
    done = client.post("/officer/case-visits", data={
        "csrf_token": token, "place_kind": "venue", "place": venue.code.lower(),
        "starts_at": _local(now - timedelta(days=3)),
        "ends_at": _local(now - timedelta(days=3) + timedelta(hours=2))})
    assert done.status_code == 200 and "Recorded: " + venue.code in done.text
    assert "Golden Dragon Restaurant (" + venue.code + ")" in done.text
    taxi = client.post("/officer/case-visits", data={
        "csrf_token": token, "place_kind": "taxi", "place": "ab 1234",
        "starts_at": _local(now - timedelta(hours=3)), "ends_at": _local(now - timedelta(
            hours=2))})
    assert "Recorded: AB1234" in taxi.text
    listed = service.generate_exposure_list(session, now=now)[1]
    assert listed > 0
    resident = client.get("/officer/case-visits")
    assert resident.text.count("<tr>") == 3  # the header and the two cases
