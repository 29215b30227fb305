"""The health code and rule pages with the real services behind them: today's code and
why, refresh, the printable code, the scanner (text and photo), the dashboard figures
and the rule sets."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from importlib import resources
from typing import Any

from tests.web.test_pages import csrf_of, english, sign_in_staff


def sign_in_resident(client: Any, number: str = "A123456(3)") -> None:
    page = client.get("/sign-in")
    signed = client.post("/sign-in", data={
        "csrf_token": csrf_of(page.text), "document_kind": "hkid", "document_number": number,
        "password": "password-123", "next": "/"}, follow_redirects=False)
    assert signed.status_code == 303, signed.text


def negative_test(session: Any, lab: Any, now: Any, hours_ago: float = 6,
                  number: str = "A123456(3)") -> None:
    from borderpass.evidence import service as evidence

    source, _key = lab
    collected = now - timedelta(hours=hours_ago)
    batch = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,result,"
             f"lab\nS-{hours_ago},hkid,{number},{collected.isoformat()},{now.isoformat()},PCR,"
             "negative,\n")
    evidence.ingest(session, source.id, "tests", batch.encode(), "csv", now=now)


def test_red_code_says_why_and_what_to_do_then_turns_green(
    client: Any, register_person: Any, lab: Any, session: Any, now: Any
) -> None:
    english(client)
    register_person()
    sign_in_resident(client)
    page = client.get("/code")
    assert page.status_code == 200
    assert 'class="code red"' in page.text and "Red code" in page.text
    assert "<svg" in page.text and "<?xml" not in page.text
    assert "No negative test collected within the last 48 hours." in page.text
    assert "Your code turns green when the negative result arrives." in page.text
    negative_test(session, lab, now)
    refreshed = client.post("/code/refresh", data={"csrf_token": csrf_of(page.text)},
                            follow_redirects=False)
    assert refreshed.status_code == 303
    green = client.get("/code")
    assert 'class="code green"' in green.text and "Green code" in green.text
    assert "What to do" not in green.text
    home = client.get("/")
    assert 'class="code green"' in home.text


def test_reasons_and_next_steps_in_chinese(client: Any, register_person: Any) -> None:
    register_person()
    sign_in_resident(client)
    client.cookies.set("locale", "zh_Hans")
    page = client.get("/code")
    assert "过去48小时内没有采样的阴性检测结果。" in page.text
    assert "阴性结果" in page.text  # the next step, in Simplified Chinese
    client.cookies.set("locale", "zh_Hant")
    assert "過去48小時內沒有採樣的陰性檢測結果。" in client.get("/code").text


def test_printable_code_is_a_pdf_with_the_qr_and_validity(
    client: Any, register_person: Any, staff_token: Any, now: Any
) -> None:
    from pypdf import PdfReader

    english(client)
    person = register_person()
    sign_in_resident(client)
    answer = client.get("/code.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Health Code" in text and "Red code" in text and "Valid until" in text
    assert "CTM" in text and "A1*****(3)" in text
    assert reader.pages[0].images, "the QR code image is on the page"
    client.cookies.clear()
    client.cookies.set("locale", "zh_Hant")
    sign_in_staff(client, staff_token, "help_desk")
    printed = client.get(f"/officer/help-desk/print/{person.id}")
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
    chinese = PdfReader(io.BytesIO(printed.content)).pages[0].extract_text()
    assert "港康碼" in chinese or "紅碼" in chinese


def test_scanner_verifies_text_and_photo(
    client: Any, register_person: Any, staff_token: Any, lab: Any, session: Any, now: Any
) -> None:
    from borderpass.healthcode import service as healthcode
    from borderpass.healthcode.qr import qr_image

    person = register_person()
    negative_test(session, lab, now)
    issued = healthcode.issue(session, person.id, now=now)
    english(client)
    sign_in_staff(client, staff_token, "border_officer")
    page = client.get("/officer/scan")
    token = csrf_of(page.text)
    shown = client.post("/officer/scan/text", data={"csrf_token": token,
                                                    "code_text": issued.text})
    assert shown.status_code == 200
    assert 'class="code green"' in shown.text and "Green code" in shown.text
    assert "CTM · A1*****(3)" in shown.text
    photo = client.post("/officer/scan/photo", data={"csrf_token": token},
                        files={"photo": ("code.png", qr_image(issued.text, "png"), "image/png")})
    assert photo.status_code == 200 and "CTM · A1*****(3)" in photo.text
    forged = issued.text[:-6] + ("A" if issued.text[-6] != "A" else "B") + issued.text[-5:]
    bad = client.post("/officer/scan/text", data={"csrf_token": token, "code_text": forged})
    assert "Not valid" in bad.text
    junk = client.post("/officer/scan/text", data={"csrf_token": token, "code_text": "HC1:x"})
    assert "This is not a health code" in junk.text
    blank = client.post("/officer/scan/photo", data={"csrf_token": token},
                        files={"photo": ("x.png", b"not an image", "image/png")})
    assert blank.status_code == 422 and "No health code could be read" in blank.text


def test_expired_code_says_so(register_person: Any, session: Any, now: Any) -> None:
    from borderpass.healthcode import service as healthcode
    from borderpass.healthcode import views

    person = register_person()
    issued = healthcode.issue(session, person.id, now=now)
    late = now + timedelta(hours=14)  # after 23:59:59 in Hong Kong
    result = views.verify_scanned(session, issued.text, locale="en", now=late)
    assert not result.valid
    assert result.problem == "The code has expired. Ask the holder to refresh it."
    assert result.initials == "CTM"
    chinese = views.verify_scanned(session, issued.text, locale="zh_Hant", now=late)
    assert chinese.problem and "過期" in chinese.problem


def test_dashboard_counts_codes_per_day_by_colour(
    client: Any, register_person: Any, staff_token: Any, lab: Any, session: Any, now: Any
) -> None:
    from borderpass.healthcode import service as healthcode

    first = register_person()
    second = register_person("Z437626(A)")
    healthcode.issue(session, first.id, now=now - timedelta(days=1))  # red: no test
    negative_test(session, lab, now, number="Z437626(A)")
    healthcode.issue(session, second.id, now=now)
    days = healthcode.codes_issued_per_day(session, days=14, now=now)
    assert len(days) == 14 and days[-1].day == (now + timedelta(hours=8)).date()
    assert (days[-1].green, days[-1].red) == (1, 0)
    assert (days[-2].green, days[-2].red) == (0, 1)
    english(client)
    sign_in_staff(client, staff_token, "health_officer")
    page = client.get("/officer/dashboard").text
    assert page.count('class="bar-green"') == 1 and page.count('class="bar-red"') == 1


def test_rule_sets_load_and_activate(client: Any, staff_token: Any) -> None:
    english(client)
    sign_in_staff(client, staff_token, "health_officer")
    page = client.get("/officer/rule-sets")
    assert "No rule set is on file." in page.text
    document = json.loads(resources.files("borderpass.rules").joinpath(
        "data/hong_kong.json").read_text(encoding="utf-8"))
    document["Version"] = "1.1.0"
    token = csrf_of(page.text)
    loaded = client.post("/officer/rule-sets", data={"csrf_token": token},
                         files={"rule_set": ("rules.json", json.dumps(document).encode(),
                                             "application/json")})
    assert loaded.status_code == 200 and "Rule set HK-HEALTH-CODE 1.1.0 loaded." in loaded.text
    again = client.post("/officer/rule-sets", data={"csrf_token": token},
                        files={"rule_set": ("rules.json", json.dumps(document).encode(),
                                            "application/json")})
    assert again.status_code == 409
    broken = client.post("/officer/rule-sets", data={"csrf_token": token},
                         files={"rule_set": ("rules.json", b"{", "application/json")})
    assert broken.status_code == 422
    listed = client.get("/officer/rule-sets").text
    action = listed.split('action="/officer/rule-sets/')[1].split('"')[0]
    active = client.post(f"/officer/rule-sets/{action}", data={"csrf_token": token})
    assert "is now in force." in active.text
    assert "Put in force" not in active.text


def test_the_kept_code_page_is_each_residents_own_and_follows_their_evidence(
    app: Any, client: Any, register_person: Any, lab: Any, session: Any, now: Any
) -> None:
    from fastapi.testclient import TestClient

    chan = register_person().initials
    lee = register_person("Z437626(A)", name_zh="李小明", name_en="LEE Siu Ming").initials
    assert chan != lee
    sign_in_resident(client)
    with TestClient(app, raise_server_exceptions=False) as other:
        sign_in_resident(other, "Z437626(A)")
        mine, theirs = client.get("/code").text, other.get("/code").text
        # Viewed again, each is the same page (kept, or rendered anew), never the other's.
        for _ in range(2):
            assert client.get("/code").text == mine and other.get("/code").text == theirs
        assert f'class="who">{chan}<' in mine and f'class="who">{lee}<' in theirs
        assert csrf_of(mine) != csrf_of(theirs)
        assert mine.split('class="qr"')[1][:2000] != theirs.split('class="qr"')[1][:2000]
        english(other)
        assert '<html lang="en">' in other.get("/code").text and '<html lang="en">' not in mine
        assert 'class="code red"' in client.get("/code").text

        negative_test(session, lab, now)  # the evidence changed: the next view shows it
        green = client.get("/code").text
        assert 'class="code green"' in green and f'class="who">{chan}<' in green
        assert other.get("/code").text.count('class="code red"') == 1
