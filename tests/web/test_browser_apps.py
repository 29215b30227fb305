"""The resident's phone in Chromium: the check-in web app and the e-Channel web app.

Journey 2: the check-in app's JavaScript (``static/js/checkin-core.js``) and
``borderpass.checkin.phone`` read the same venue codes and lists and compute the same
tokens, matches and advice (the vectors below go through both). Three venues are scanned
with a fake camera, an officer records a case at one of them on the officer's page, the
phone warns in Traditional Chinese, the person uploads with consent and their code turns
amber; a second phone that did not upload is warned too (offline as well), and the
server holds nothing of it.

Journey 3: Kit, 15, enrols in the e-Channel app with the camera and names his mother; she
approves in her account; his QR code changes every 30 seconds (a controlled clock in the
page) and opens gate 1 once, a replay is refused, and gate 2 matches his face. His
sister, 9, is refused with the reason.

Screenshots of the new pages at 390 and 1280 px in the three languages go under
``test-artifacts/checkin-app/`` and ``test-artifacts/echannel-app/``. One served site
(that of ``test_browser.py``) serves all of it.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.echannel.conftest import FACES, hkid
from tests.web import test_browser as _site_tests
from tests.web.test_browser import CHROMIUM, DECODER, PASSWORD, fake_camera_video, wait_for

# The served site, the browser and Playwright: the fixtures of the site's own browser
# tests, found here by name.
browser, playwright, site = (_site_tests.browser, _site_tests.playwright,
                             _site_tests.site)

pytestmark = pytest.mark.slow

# --------------------------------------------------------------------- journey 2: check-in

CHECKIN_SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "checkin-app"
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _legacy_code(venue_id: str, name_zh: str, name_en: str) -> str:
    from borderpass.checkin.qr import legacy_hash

    payload = json.dumps({"metadata": None, "nameZh": name_zh, "nameEn": name_en,
                          "type": "IMPORT", "hash": legacy_hash(venue_id)},
                         ensure_ascii=False, separators=(",", ":"))
    return f"HKEN:0{venue_id}{base64.b64encode(payload.encode()).decode()}"


@pytest.fixture(scope="module")
def venues(site: dict[str, Any]) -> dict[str, str]:
    """Three approved venues of the site; their QR texts by name."""
    from borderpass.checkin import service as checkin
    from borderpass.checkin.schemas import VenueIn
    from borderpass.identity import service as identity
    from borderpass.identity.schemas import Principal
    from borderpass.kit.clock import utcnow
    from borderpass.kit.db import unit_of_work

    now = utcnow() - timedelta(days=10)  # the posters went up ten days ago
    names = {"restaurant": ("金龍酒家", "Golden Dragon Restaurant", "restaurant"),
             "market": ("大埔街市", "Tai Po Market", "market"),
             "cinema": ("百老匯戲院", "Broadway Cinema", "cinema")}
    codes = {}
    with unit_of_work(site["factory"]) as session:
        operator = identity.create_staff(session, f"venue-{uuid.uuid4().hex[:6]}", "Operator",
                                         "venue_operator", "borderpass-demo", now=now)
        health = identity.create_staff(session, f"health-{uuid.uuid4().hex[:6]}", "Health",
                                       "health_officer", "borderpass-demo", now=now)
        for key, (zh, en, kind) in names.items():
            venue = checkin.register_venue(session, VenueIn(
                name_zh=zh, name_en=en, type=kind, address="1 Test Road, Tai Po"),
                operator=operator.id, now=now)
            checkin.approve_venue(session, venue.code, officer=health.id, now=now)
            codes[key] = checkin.venue_qr(session, venue.code, caller=Principal(
                kind="staff", id=operator.id, role="venue_operator"))
    return codes


@pytest.fixture()
def app_page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport=WIDTHS["phone"], service_workers="block")
    page = context.new_page()
    page.goto(f"{site['url']}/language/en?next=/app/checkin")
    wait_for(page, "window.borderpassCheckinCore !== undefined")
    yield page
    context.close()


def test_the_app_and_the_phone_library_give_the_same_answers(
    app_page: Any, venues: dict[str, str], tmp_path: Path,
) -> None:
    from borderpass.checkin import exposure
    from borderpass.checkin import service as checkin
    from borderpass.checkin.phone import Phone
    from borderpass.checkin.qr import parse_venue_code
    from borderpass.kit.errors import BorderpassError
    from borderpass.kit.signing import exposure_token, venue_signer

    trust = checkin.venue_trust()
    js_trust = {kid: _b64url(public) for kid, public in trust.items()}
    legacy = _legacy_code("1A2B3C4D", "茶餐廳", "Cha Chaan Teng")
    signed = venues["restaurant"]
    tampered = signed[:-3] + ("A" if signed[-3] != "A" else "B") + signed[-2:]
    codes = [signed, venues["market"], legacy, signed + "\r\n", tampered, "HKEN:0XYZ",
             legacy.replace("HKEN:0", "HKEN:X", 1)[:-4] + "AAAA", "hello", "BPV1:e30.AAAA"]
    parse = ("([codes, trust]) => Promise.all(codes.map(c => "
             "window.borderpassCheckinCore.parseVenueCode(c, trust).then("
             "v => [v.format, v.venue_id, v.name_zh, v.name_en, v.type, "
             "window.borderpassCheckinCore.hex(v.secret)], e => ['refused', e.message])))")
    in_js = app_page.evaluate(parse, [codes, js_trust])
    for code, answer in zip(codes, in_js, strict=True):
        try:
            venue = parse_venue_code(code, trust)
            expected = [venue.format, venue.venue_id, venue.name_zh, venue.name_en,
                        venue.type, venue.secret.hex()]
        except BorderpassError:
            expected = ["refused", "invalid_venue_code"]
        assert answer == expected, code

    # tokens, for secrets of every kind and hours near and far
    secrets = [bytes(range(16)), bytes.fromhex(in_js[0][5]), bytes.fromhex(in_js[2][5])]
    hours = [0, 1, 493_000, 4_294_967_295, 4_294_967_296, 2**40 + 7]
    tokens = app_page.evaluate(
        "([secrets, hours]) => Promise.all(secrets.flatMap(s => hours.map(h => "
        "window.borderpassCheckinCore.exposureToken(window.borderpassCheckinCore.fromHex(s), h)"
        ".then(t => window.borderpassCheckinCore.hex(t)))))",
        [[s.hex() for s in secrets], hours])
    assert tokens == [exposure_token(s, h).hex() for s in secrets for h in hours]
    taxi = app_page.evaluate(
        "p => window.borderpassCheckinCore.taxiVenue(p).then(v => [v.venue_id, "
        "window.borderpassCheckinCore.hex(v.secret)])", "ab 1234")
    from borderpass.checkin.qr import taxi_venue

    assert taxi == ["AB1234", taxi_venue("ab 1234").secret.hex()]

    # a phone's visits, a list of cases, and the warnings both derive
    now = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    phone = Phone(tmp_path / "phone.sqlite3", trust=trust, now=now - timedelta(days=20))
    visits = [(signed, now - timedelta(days=3), timedelta(hours=2)),
              (venues["market"], now - timedelta(days=2, hours=5), timedelta(minutes=30)),
              (legacy, now - timedelta(days=1), timedelta(seconds=90)),
              (venues["cinema"], now - timedelta(days=16), timedelta(hours=3))]
    for code, start, length in visits:
        phone.check_in(code, now=start, leave_after=length)
    phone.check_in_taxi("AB1234", now=now - timedelta(hours=20), leave_after=timedelta(
        minutes=25))
    phone.check_out(now=now)
    records = phone._visits(now)[0]  # the phone's own secrets, as matching uses them
    cases = [(parse_venue_code(signed, trust).secret, visits[0][1] + timedelta(minutes=30),
              visits[0][1] + timedelta(minutes=50), False),
             (parse_venue_code(legacy, trust).secret, visits[2][1] + timedelta(seconds=50),
              visits[2][1] + timedelta(hours=1), False),  # 40 s of overlap: not enough
             (taxi_venue("AB1234").secret, now - timedelta(days=1, hours=6),
              now - timedelta(days=1, hours=5), True),
             (parse_venue_code(venues["cinema"], trust).secret,
              visits[3][1], visits[3][1] + timedelta(hours=1), False)]  # too long ago
    entries = [e for secret, lo, hi, taxi_case in cases
               for e in exposure.entries_for_case([secret], lo, hi, taxi=taxi_case)]
    text = exposure.render_list(entries, now, venue_signer())
    advice = [(w.checkin.id, w.kind, int(w.overlap_from.timestamp()),
               int(w.overlap_to.timestamp()), int(w.test_by.timestamp()),
               int(w.watch_until.timestamp())) for w in phone.warnings(text, now=now)]
    assert [item[1] for item in advice] == ["direct", "indirect"]
    js_visits = [{"ref": v.ref, "secret": v.secret.hex(), "start": int(v.start.timestamp()),
                  "end": int(v.end.timestamp())} for v in records]
    got = app_page.evaluate(
        "([text, trust, visits, now]) => { const c = window.borderpassCheckinCore; "
        "return c.parseList(text, trust).then(list => c.warnings(visits.map(v => "
        "Object.assign({}, v, {secret: c.fromHex(v.secret)})), list, now)).then(ws => "
        "ws.map(w => [w.ref, w.kind, w.overlap_start, w.overlap_end, w.test_by, "
        "w.watch_until])); }", [text, js_trust, js_visits, int(now.timestamp())])
    assert got == [list(item) for item in advice]

    # lists the phone library refuses, the app refuses too
    broken = [text.replace(" D\n", " X\n", 1), text[:-2] + "\n", text.replace("BPX1 ", "BPX2 ", 1),
              text + "\n", text.rstrip("\n")]
    refusals = app_page.evaluate(
        "([texts, trust]) => Promise.all(texts.map(t => window.borderpassCheckinCore"
        ".parseList(t, trust).then(() => 'read', e => e.message)))", [broken, js_trust])
    assert refusals == ["invalid_exposure_list"] * len(broken)
    unknown = app_page.evaluate(
        "t => window.borderpassCheckinCore.parseList(t, {}).then(() => 'read', e => e.detail)",
        text)
    assert unknown == "it is signed by an unknown key"

    # the app's upload bundle verifies on the server, as the library's does
    bundle = app_page.evaluate(
        "visits => crypto.subtle.generateKey({name: 'Ed25519'}, false, ['sign', 'verify'])"
        ".then(pair => crypto.subtle.exportKey('raw', pair.publicKey).then(raw => "
        "window.borderpassCheckinCore.uploadBundle(visits, pair, new Uint8Array(raw), "
        "Math.floor(Date.now() / 1000) - 86400 * 20, Math.floor(Date.now() / 1000))))",
        [{"format": f, "venue_id": v, "start": s, "end": e} for f, v, s, e in (
            ("signed", "K7QH2MXR4T", 1764300000, 1764303600),
            ("legacy", "1A2B3C4D", 1764310000, 1764310090),
            ("taxi", "AB1234", 1764320000, 1764321000))])
    assert [r["kind"] for r in bundle["records"]] == []  # older than 31 days: not sent
    fresh = app_page.evaluate(
        "() => crypto.subtle.generateKey({name: 'Ed25519'}, false, ['sign', 'verify'])"
        ".then(pair => crypto.subtle.exportKey('raw', pair.publicKey).then(raw => { "
        "const now = Math.floor(Date.now() / 1000); return window.borderpassCheckinCore"
        ".uploadBundle([{format: 'signed', venue_id: 'K7QH2MXR4T', start: now - 7200, "
        "end: now - 3600}, {format: 'taxi', venue_id: 'AB1234', start: now - 600, end: now}],"
        " pair, new Uint8Array(raw), now - 86400 * 20, now); }))")
    from borderpass.checkin.service import _check_bundle
    from borderpass.kit.clock import utcnow

    checked = _check_bundle(fresh, utcnow())
    assert [(r.kind, r.place_id) for r in checked.records] == [("venue", "K7QH2MXR4T"),
                                                              ("taxi", "AB1234")]
    fresh["records"][0]["place_id"] = "K7QH2MXR4U"
    with pytest.raises(BorderpassError):
        _check_bundle(fresh, utcnow())



def test_a_visit_ends_by_itself_after_the_usual_stay(app_page: Any,
                                                     venues: dict[str, str]) -> None:
    from borderpass.kit.clock import utcnow

    start = utcnow().replace(microsecond=0) - timedelta(hours=5)
    app_page.clock.set_fixed_time(start)
    app_page.reload()
    wait_for(app_page, "window.borderpassCheckin !== undefined")
    app_page.evaluate("c => window.borderpassCheckin.checkIn(c)", venues["restaurant"])
    wait_for(app_page, "document.getElementById('checkin-app').dataset.active !== ''")
    app_page.clock.set_fixed_time(start + timedelta(minutes=119))
    app_page.reload()
    wait_for(app_page, "document.getElementById('checkin-app').dataset.active !== undefined")
    assert app_page.locator("#checkin-app").get_attribute("data-active") != ""
    app_page.clock.set_fixed_time(start + timedelta(minutes=121))
    app_page.reload()
    wait_for(app_page, "document.getElementById('checkin-app').dataset.active === ''")
    ends = app_page.evaluate("() => window.borderpassCheckin.records(Date.now() / 1000)"
                             ".then(rs => rs.map(r => r.effective_end - r.start))")
    assert ends[-1] == 2 * 3600  # a restaurant's usual stay


def test_the_app_forgets_visits_31_days_after_they_end(app_page: Any,
                                                        venues: dict[str, str]) -> None:
    put = ("([venue, start, end]) => new Promise(r => { const q = indexedDB.open("
           "'borderpass-checkin'); q.onsuccess = () => { const tx = q.result.transaction("
           "'checkins', 'readwrite'); tx.objectStore('checkins').add({format: 'signed', "
           "venue_id: venue, name_zh: '金龍酒家', name_zh_hans: '金龙酒家', name_en: 'Golden', "
           "type: 'restaurant', secret: '00', start: start, end: end, leaves_at: end}); "
           "tx.oncomplete = r; }; })")
    now = int(app_page.evaluate("Date.now() / 1000"))
    day = 86400
    app_page.evaluate(put, ["OLDVISIT01", now - 33 * day, now - 31 * day - 60])
    app_page.evaluate(put, ["KEPTVISIT1", now - 31 * day, now - 31 * day + 60])
    app_page.reload()
    wait_for(app_page, "document.querySelectorAll('#visit-list li.visit').length === 1")
    assert app_page.locator("#visit-list li.visit").get_attribute("data-venue") == "KEPTVISIT1"


def _phones(playwright: Any, video: Path) -> Any:
    """Start the phones' browser with a fake camera that shows ``video``; each phone is a
    context of its own (its own IndexedDB), kept open as a phone keeps its storage."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"])


def _open_app(context: Any, site: dict[str, Any], at: datetime, locale: str) -> Any:
    page = context.pages[0] if context.pages else context.new_page()
    page.clock.set_fixed_time(at)
    page.goto(f"{site['url']}/language/{locale}?next=/app/checkin")
    wait_for(page, "window.borderpassCheckin !== undefined && window.jsQR !== undefined")
    return page


def _scan(page: Any, code: str, at: datetime, video: Path) -> None:
    """Scan a venue's poster with the phone's camera at ``at``: the fake camera's file is
    written anew before the camera starts, and Chromium reads it when it opens it."""
    from borderpass.checkin.qr import parse_venue_code
    from borderpass.checkin.service import venue_trust

    fake_camera_video(code, video)
    page.clock.set_fixed_time(at)
    page.reload()
    wait_for(page, "window.borderpassCheckin !== undefined && window.jsQR !== undefined")
    page.locator("#camera-start").click()
    venue = parse_venue_code(code, venue_trust()).venue_id
    wait_for(page, f"document.getElementById('checkin-app').dataset.active === '{venue}'")


@pytest.mark.skipif(not DECODER.exists(), reason="the camera's QR decoder is not installed "
                    "(needs npm: `make vendor`)")
def test_a_case_at_the_restaurant_on_the_phone(
    playwright: Any, site: dict[str, Any], venues: dict[str, str], tmp_path: Path,
) -> None:
    from sqlalchemy import text

    from borderpass.checkin import service as checkin
    from borderpass.kit.clock import HONG_KONG, utcnow
    from borderpass.kit.db import unit_of_work

    now = utcnow().replace(microsecond=0)
    sunday = now - timedelta(days=3)  # the evening out, three days ago
    video = tmp_path / "camera.y4m"
    fake_camera_video(venues["restaurant"], video)
    phones = _phones(playwright, video)
    try:
        chan, other = (phones.new_context(viewport=WIDTHS["phone"], permissions=["camera"],
                                          locale=locale) for locale in ("zh-HK", "en-GB"))
        # Mrs Chan's phone: the restaurant, the market (scanning it leaves the restaurant),
        # the cinema (the market ends), then she leaves by hand.
        page = _open_app(chan, site, sunday, "zh_Hant")
        _scan(page, venues["restaurant"], sunday, video)
        _scan(page, venues["market"], sunday + timedelta(hours=2), video)
        _scan(page, venues["cinema"], sunday + timedelta(hours=3), video)
        # Another diner, at the same table, who never uploads.
        _scan(_open_app(other, site, sunday, "en"), venues["restaurant"],
              sunday + timedelta(minutes=20), video)

        page.clock.set_fixed_time(sunday + timedelta(hours=4))
        page.reload()
        wait_for(page, "window.borderpassCheckin !== undefined")
        page.locator("#leave").click()
        wait_for(page, "document.getElementById('checkin-app').dataset.active === ''")
        visits = page.locator("#visit-list li.visit")
        assert visits.count() == 3
        assert "金龍酒家" in visits.nth(2).inner_text()
        # the health officer records a diner's visit on the page: Sunday, 30 minutes into
        # the meal, for an hour
        restaurant = checkin.parse_code(venues["restaurant"]).venue_id
        officer = phones.new_context(viewport=WIDTHS["desktop"]).new_page()
        officer.goto(f"{site['url']}/language/en?next=/staff/sign-in")
        officer.locator("#f-username").fill("officer")
        officer.locator("#f-password").fill("borderpass-demo")
        officer.locator("main button[type=submit]").click()
        officer.goto(f"{site['url']}/officer/case-visits")
        officer.locator("#f-place").fill(restaurant)
        local = sunday.astimezone(HONG_KONG)
        officer.locator("#f-starts_at").fill((local + timedelta(minutes=30)).strftime(
            "%Y-%m-%dT%H:%M"))
        officer.locator("#f-ends_at").fill((local + timedelta(minutes=90)).strftime(
            "%Y-%m-%dT%H:%M"))
        officer.get_by_role("button", name="Record").click()
        assert "Golden Dragon Restaurant" in officer.locator("#case-list").inner_text()
        shoot_app(officer, "en", "desktop", "case-visits")
        officer.context.close()
        with unit_of_work(site["factory"]) as session:
            checkin.publish_exposure_list(session, now=utcnow())  # as the minute's job does
        page.clock.set_fixed_time(now)
        page.reload()
        wait_for(page, "window.borderpassCheckin !== undefined")
        warning = page.locator("#warning-list li.direct")
        warning.wait_for(timeout=15000)
        said = warning.inner_text()
        assert "金龍酒家" in said and "核酸檢測" in said, said
        shoot_app(page, "zh_Hant", "phone", "warning")

        # she signs in and uploads, consenting to what the page names
        page.goto(f"{site['url']}/sign-in?next=/app/checkin")
        page.locator("#f-document_number").fill("A123456(3)")
        page.locator("#f-password").fill("borderpass-demo")
        page.locator("main button[type=submit]").click()
        page.wait_for_url("**/app/checkin")
        wait_for(page, "window.borderpassCheckin !== undefined")
        # The summary is written once the visits are read from IndexedDB, a moment later.
        wait_for(page, "document.getElementById('upload-summary').textContent.includes('3')")
        assert "3" in page.locator("#upload-summary").inner_text()
        page.locator("#upload").click()  # without the consent box ticked: nothing is sent
        assert page.url.endswith("/app/checkin")
        page.locator("#f-consent").check()
        page.locator("#upload").click()
        page.wait_for_url("**/evidence")
        assert "3" in page.locator("#upload-coverage").inner_text()
        page.goto(f"{site['url']}/code")
        code = page.locator("section.code")
        assert "amber" in (code.get_attribute("class") or ""), code.inner_text()

        # the other diner's phone warns too, and the server never heard of it
        page = _open_app(other, site, now, "en")
        warning = page.locator("#warning-list li.direct")
        warning.wait_for(timeout=15000)
        assert "Golden Dragon Restaurant" in warning.inner_text()
        their_key = page.evaluate(
            "() => new Promise(r => { const q = indexedDB.open('borderpass-checkin'); "
            "q.onsuccess = () => q.result.transaction('meta').objectStore('meta')"
            ".get('device_key').onsuccess = e => r(e.target.result ? 'made' : 'none'); })")
        assert their_key == "none"  # no upload was ever prepared on this phone
        # offline, the app still opens (its service worker kept it) and still warns, from
        # the list it kept
        wait_for(page, "navigator.serviceWorker.controller !== null")
        other.set_offline(True)
        page.reload()
        wait_for(page, "window.borderpassCheckin !== undefined")
        page.locator("#warning-list li.direct").wait_for(timeout=15000)
        assert page.evaluate("navigator.onLine") is False
        other.set_offline(False)
    finally:
        phones.close()
    with unit_of_work(site["factory"]) as session:
        uploads = session.execute(text("SELECT count(*) FROM checkin_uploads")).scalar_one()
        sunday_visits = session.execute(text(
            "SELECT count(*) FROM checkin_uploaded_visits WHERE place_id = :venue"),
            {"venue": restaurant}).scalar_one()
    assert (uploads, sunday_visits) == (1, 1)  # Mrs Chan's upload; her one restaurant visit


def shoot_app(page: Any, locale: str, width: str, name: str) -> None:
    folder = CHECKIN_SCREENS / locale
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)


LOCALES = ("zh_Hant", "zh_Hans", "en")


def _choose_language(page: Any, site: dict[str, Any], locale: str) -> None:
    """Set the language cookie as the site's language links do, without the round trip."""
    page.context.add_cookies([{"name": "locale", "value": locale, "url": site["url"]}])


def _staff(page: Any, site: dict[str, Any], username: str) -> None:
    page.goto(f"{site['url']}/language/en?next=/staff/sign-in")
    page.locator("#f-username").fill(username)
    page.locator("#f-password").fill("borderpass-demo")
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/officer**")


def test_screenshots_of_the_checkin_pages(browser: Any, site: dict[str, Any]) -> None:
    """The new pages at 390 px and 1280 px in the three languages, under
    test-artifacts/checkin-app/<locale>/ (the app with its warning is shot above)."""
    def shoot_all(page: Any, path: str, name: str, ready: str | None = None) -> None:
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            for locale in LOCALES:
                _choose_language(page, site, locale)
                page.goto(f"{site['url']}{path}")
                if ready:
                    wait_for(page, ready)
                shoot_app(page, locale, width, name)

    resident = browser.new_context(viewport=WIDTHS["phone"], service_workers="block")
    page = resident.new_page()
    page.goto(f"{site['url']}/sign-in")
    page.locator("#f-document_number").fill("A123456(3)")
    page.locator("#f-password").fill("borderpass-demo")
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{site['url']}/")
    shoot_all(page, "/app/checkin", "app", "window.borderpassCheckin !== undefined")
    shoot_all(page, "/evidence", "evidence", "document.getElementById('upload-coverage')")
    resident.close()
    staff = browser.new_context(viewport=WIDTHS["phone"])
    page = staff.new_page()
    _staff(page, site, "officer")
    shoot_all(page, "/officer/case-visits", "case-visits")
    staff.close()


# -------------------------------------------------------------------- journey 3: e-Channel

KIT, SISTER, MOTHER = hkid("K171717"), hkid("K090909"), hkid("M434343")
PHONE = {"width": 390, "height": 844}


def fake_face_video(photo: Path, path: Path) -> None:
    """Write a Y4M video of a face photo, for Chromium's fake camera."""
    from PIL import Image

    width, height = 640, 480
    picture = Image.open(photo).convert("RGB")
    picture.thumbnail((width, height))
    frame = Image.new("RGB", (width, height), (128, 128, 128))
    frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(5):
            video.write(b"FRAME\n" + planes)


def _register(session: Any, helper: Any, number: str, name_en: str, now: Any) -> Any:
    from borderpass.identity import service as identity
    from borderpass.identity.schemas import RegistrationDetails
    from tests.conftest import DEMO_PDF

    registration = identity.start_registration(session, now=now)
    identity.submit_registration(session, registration.id, RegistrationDetails.model_validate({
        "name_zh": "陳", "name_en": name_en, "document_kind": "hkid", "document_number": number,
        "document_issued_on": "2020-01-01", "hrp_number": None, "phone": "+85291234567",
        "address": "Flat A, 12/F, 1 Test Road, Tsuen Wan", "password": PASSWORD}), DEMO_PDF,
        now=now)
    return identity.activate_by_officer(session, registration.id, officer=helper.id, now=now)


@pytest.fixture(scope="module")
def family(site: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Kit, his sister and their mother, registered at a help desk; the children's cards."""
    from borderpass.echannel import service as echannel
    from borderpass.identity import service as identity
    from borderpass.kit.clock import hk_date, utcnow
    from borderpass.kit.db import unit_of_work

    now = utcnow()
    today = hk_date(now)
    folder = tmp_path_factory.mktemp("family")
    with unit_of_work(site["factory"]) as session:
        helper = identity.create_staff(session, f"desk-{uuid.uuid4().hex[:6]}", "Desk",
                                       "help_desk", PASSWORD, now=now)
        for number, name in ((KIT, "CHAN Kit"), (SISTER, "CHAN Mei"), (MOTHER, "CHAN Wai")):
            _register(session, helper, number, name, now)
    photo = (FACES / "obama.jpg").read_bytes()
    for number, years, name in ((KIT, 15, "kit"), (SISTER, 9, "sister")):
        born = date(today.year - years, 1, 15) if today >= date(today.year, 1, 15) else date(
            today.year - years - 1, 1, 15)
        card = echannel.make_demo_card(photo=photo, number=number, name_en=f"CHAN {name}",
                                       name_zh="陳家明", born_on=born, issued_on=date(2020, 1, 1))
        (folder / f"{name}.card").write_bytes(card)
    fake_face_video(FACES / "obama2.jpg", folder / "face.y4m")
    return {"folder": folder}


def _sign_in(page: Any, site: dict[str, Any], number: str, locale: str, then: str) -> None:
    page.goto(f"{site['url']}/language/{locale}?next=/sign-in?next={then}")
    page.locator("#f-document_number").fill(number)
    page.locator("#f-password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"**{then}")


def test_kit_enrols_his_mother_approves_and_the_gates_open(
    playwright: Any, browser: Any, site: dict[str, Any], family: dict[str, Path],
) -> None:
    from borderpass.checkin.phone import decode_photo
    from borderpass.kit.clock import utcnow

    folder = family["folder"]
    phone = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={folder / 'face.y4m'}"])
    try:
        kit = phone.new_context(viewport=PHONE, permissions=["camera"]).new_page()
        _sign_in(kit, site, KIT, "zh_Hant", "/app/echannel")
        kit.locator("#f-card").set_input_files(str(folder / "kit.card"))
        kit.locator("#face-camera").click()
        wait_for(kit, "document.getElementById('face-video').videoWidth > 0")
        kit.locator("#face-take").click()
        wait_for(kit, "document.getElementById('f-live_photo').files.length === 1")
        kit.locator("#f-guardian_number").fill(MOTHER)
        kit.locator("#enrol").click()
        kit.wait_for_url("**/app/echannel")
        state = kit.locator("#enrolment-state")
        assert state.get_attribute("data-status") == "pending_guardian", kit.inner_text("main")
        assert kit.locator("#gate-qr").count() == 0

        mother = browser.new_context(viewport=PHONE).new_page()
        _sign_in(mother, site, MOTHER, "zh_Hant", "/account/children")
        request = mother.locator("#consent-requests li[data-status=pending]")
        assert "CHAN kit" in request.inner_text() and "15" in request.inner_text()
        request.locator("select[name=relationship]").select_option("mother")
        request.locator("input[name=consent]").check()
        request.get_by_role("button", name="批准登記").click()
        mother.wait_for_url("**/account/children")
        assert mother.locator("#consent-requests li[data-status=approved]").count() == 1
        mother.context.close()

        # his QR code: made on the phone, a new one each 30-second slot
        start = utcnow() - timedelta(seconds=31)
        kit.clock.set_fixed_time(start)
        kit.reload()
        box = kit.locator("#gate-qr")
        wait_for(kit, "document.getElementById('gate-qr').dataset.slot !== undefined")
        first = box.get_attribute("data-token")
        assert kit.locator("#qr-countdown").inner_text()
        kit.clock.set_fixed_time(utcnow())
        wait_for(kit, f"document.getElementById('gate-qr').dataset.token !== '{first}'")
        token = box.get_attribute("data-token")
        assert token is not None and token.startswith("HKEC1:") and token != first
        seen = decode_photo(box.screenshot())  # the QR drawn on the screen carries it
        assert seen == [token]
        _gates(browser, site, token)
        shoot_all(kit, site, "/app/echannel", "app-qr",
                  "document.getElementById('gate-qr').dataset.slot !== undefined")
    finally:
        phone.close()


def _gates(browser: Any, site: dict[str, Any], token: str) -> None:
    """Gate 1 reads the token once and refuses it again; gate 2 matches the face."""
    officer = browser.new_context(viewport=PHONE).new_page()
    officer.goto(f"{site['url']}/language/en?next=/staff/sign-in")
    officer.locator("#f-username").fill("border")
    officer.locator("#f-password").fill(PASSWORD)
    officer.locator("main button[type=submit]").click()
    officer.goto(f"{site['url']}/app/echannel/gates")
    officer.locator("#f-token").fill(token)
    officer.get_by_role("button", name="Check at gate 1").click()
    officer.locator("#gate1-open").wait_for()
    officer.locator("#f-live_photo").set_input_files(str(FACES / "obama3.jpg"))
    officer.get_by_role("button", name="Check at gate 2").click()
    officer.locator("#gate2-open").wait_for()
    officer.goto(f"{site['url']}/app/echannel/gates")
    officer.locator("#f-token").fill(token)
    officer.get_by_role("button", name="Check at gate 1").click()
    assert "replayed" in officer.locator("#gate1-refused").inner_text()
    officer.context.close()


def test_his_sister_is_refused_with_the_reason(
    browser: Any, site: dict[str, Any], family: dict[str, Path],
) -> None:
    folder = family["folder"]
    page = browser.new_context(viewport=PHONE).new_page()
    _sign_in(page, site, SISTER, "en", "/app/echannel")
    page.locator("#f-card").set_input_files(str(folder / "sister.card"))
    page.locator("#f-live_photo").set_input_files(str(FACES / "obama2.jpg"))
    page.locator("#f-guardian_number").fill(MOTHER)
    page.locator("#enrol").click()
    said = page.locator("#e-form").inner_text()
    assert "aged 11 or over" in said and "is 9" in said, said
    page.context.close()


ECHANNEL_SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "echannel-app"


def shoot_all(page: Any, site: dict[str, Any], path: str, name: str,
              ready: str | None = None) -> None:
    """Screenshot a page at both widths in the three languages."""
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        for locale in ("zh_Hant", "zh_Hans", "en"):
            _choose_language(page, site, locale)
            page.goto(f"{site['url']}{path}")
            if ready:
                wait_for(page, ready)
            folder = ECHANNEL_SCREENS / locale
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)


def test_screenshots_of_the_echannel_pages(browser: Any, site: dict[str, Any],
                                      family: dict[str, Path]) -> None:
    """The new pages at 390 px and 1280 px in the three languages, under
    test-artifacts/echannel-app/<locale>/: the guardian's list, the sister's enrolment
    form and the gates' demonstration (Kit's QR is shot on his phone, above)."""
    for number, path, name in ((MOTHER, "/account/children", "guardian"),
                               (SISTER, "/app/echannel", "app-enrol")):
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        _sign_in(page, site, number, "en", path)
        shoot_all(page, site, path, name)
        context.close()
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{site['url']}/language/en?next=/staff/sign-in")
    page.locator("#f-username").fill("border")
    page.locator("#f-password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/officer/**")
    shoot_all(page, site, "/app/echannel/gates", "gates")
    context.close()
