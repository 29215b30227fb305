"""The site in a real browser: Debian's Chromium, headless, driven by Playwright.

The app is served by uvicorn in a thread on a free 127.0.0.1 port, on a throwaway
SQLite database loaded with the demo data. Screenshots of the main pages in all three
languages are saved under ``test-artifacts/screenshots/``.

Skipped, saying why, when no Chromium is installed (``apt-get install chromium``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("BORDERPASS_CHROMIUM") or shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None:
    pytest.skip("browser tests skipped: no Chromium found (install Debian's `chromium` "
                "package or set BORDERPASS_CHROMIUM)", allow_module_level=True)
try:
    from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
except ImportError:  # pragma: no cover - playwright is a dev dependency
    pytest.skip("browser tests skipped: the playwright package is not installed",
                allow_module_level=True)

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DECODER = (Path(__file__).resolve().parents[2] / "src" / "borderpass" / "web" / "static"
           / "vendor" / "jsQR.js")
PHONE = {"width": 360, "height": 780}
PASSWORD = "borderpass-demo"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def site() -> Iterator[dict[str, Any]]:
    """Serve the app on a throwaway database with the demo data; yield its URL."""
    import uvicorn

    from borderpass import demo
    from borderpass.kit.clock import utcnow
    from borderpass.kit.db import engine_for, session_factory, unit_of_work
    from borderpass.migrations import upgrade
    from borderpass.web.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="borderpass-browser-"))
    url = f"sqlite:///{folder / 'site.sqlite3'}"
    upgrade(url)
    engine = engine_for(url)
    factory = session_factory(engine)
    with unit_of_work(factory) as session:
        demo.load(session, now=utcnow())
    app = create_app()
    # As the configured database would be: reads on a read-only engine, writes queued.
    app.state.write_factory = factory
    app.state.read_factory = session_factory(engine_for(url, read_only=True))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "factory": factory}
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=["--no-sandbox"])
    yield launched
    launched.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    opened = context.new_page()
    yield opened
    context.close()


def wait_for(page: Page, expression: str, timeout: float = 15000) -> None:
    """Wait until a JavaScript expression is true on the page.

    Polled from here with ``evaluate``: Playwright's own ``wait_for_function`` evaluates a
    string with ``eval``, which the site's Content Security Policy rightly forbids.
    """
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < deadline, f"still false after {timeout} ms: {expression}"
        time.sleep(0.1)


def shoot(page: Page, locale: str, name: str) -> None:
    folder = ARTIFACTS / locale
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def latest_pin(factory: Any) -> str:
    """Deliver what is queued, as ``borderpass outbox deliver`` would, and return the PIN
    of the newest activation message the phone received."""
    from borderpass.kit import outbox
    from borderpass.kit.clock import utcnow
    from borderpass.kit.db import unit_of_work
    from tests.messages import Phone

    phone = Phone()
    with unit_of_work(factory) as session:
        outbox.deliver(session, phone, now=utcnow())
    pins = [d for d in phone.received.values() if d.purpose == "activation_pin"]
    assert pins, "no activation message was waiting"
    match = re.search(r"\b(\d{6})\b", max(pins, key=lambda d: d.created_at).body)
    assert match is not None
    return match.group(1)


def new_hkid(body: str) -> str:
    from borderpass.identity.documents import hkid_check_character

    return f"{body}({hkid_check_character(body)})"


def sign_in_staff(page: Page, site: dict[str, Any], username: str) -> None:
    page.goto(f"{site['url']}/staff/sign-in")
    page.locator("#f-username").fill(username)
    page.locator("#f-password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()


def sign_in_resident(page: Page, site: dict[str, Any], number: str = "A123456(3)") -> None:
    page.goto(f"{site['url']}/sign-in")
    page.locator("#f-document_number").fill(number)
    page.locator("#f-password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()


def test_register_in_english_activate_with_pin_and_see_home(page: Page,
                                                            site: dict[str, Any]) -> None:
    page.goto(f"{site['url']}/language/en?next=/register")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "45 minutes" in page.inner_text("main")
    shoot(page, "en", "register-start")
    page.get_by_role("button", name="Start registration").click()
    page.wait_for_url("**/register/details")
    assert "minutes left." in page.inner_text(".timer")
    page.get_by_label("Name in Chinese").fill("張小芬")
    page.get_by_label("Name in English, as on the identity card").fill("CHEUNG Siu Fan")
    number = page.get_by_label("Identity card number")
    number.fill("B7654321")  # a wrong check character: said as it is typed
    expect(page.locator("#c-document_number")).to_contain_text("Wrong check character")
    hkid = new_hkid("B765432")
    number.fill(hkid)
    expect(page.locator("#c-document_number")).to_have_text(f"Valid: {hkid}")
    page.get_by_label("Date of issue").fill("2019-05-02")
    page.get_by_label("Home Return Permit number").fill("H23456789")
    page.get_by_label("I will cross the border to the mainland or Macau").check()
    page.get_by_label("Mobile phone number").fill("+852 6123 4567")
    expect(page.locator("#c-phone")).to_have_text("Valid: +85261234567")
    page.get_by_label("Residential address").fill("Flat D, 20/F, 8 Example Street, Sha Tin")
    page.locator("#f-proof").set_input_files(
        files=[{"name": "bill.pdf", "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n%proof\n%%EOF\n"}])
    page.locator("#f-password").fill("a long pass phrase")
    page.locator("#f-password_again").fill("a long pass phrase")
    shoot(page, "en", "register-details")
    page.get_by_role("button", name="Send my details").click()
    page.wait_for_url("**/register/activate")
    shoot(page, "en", "register-activate")
    page.get_by_label("Activation PIN").fill(latest_pin(site["factory"]))
    page.get_by_role("button", name="Activate", exact=True).click()
    page.wait_for_url(f"{site['url']}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, CHEUNG Siu Fan"
    assert "Your account is active. Welcome." in page.inner_text("main")
    shoot(page, "en", "resident-home")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site['url']}/")
    assert page.get_by_role("link", name="Register", exact=True).first.is_visible()


def test_language_switch_on_every_page_is_remembered(page: Page, site: dict[str, Any]) -> None:
    page.goto(f"{site['url']}/sign-in")
    assert page.locator("html").get_attribute("lang") == "zh-Hant-HK"  # the default
    page.get_by_role("link", name="简体中文").click()
    assert page.url.endswith("/sign-in")
    assert page.get_by_role("heading", level=1).inner_text() == "登录"
    page.goto(f"{site['url']}/register")
    assert page.get_by_role("heading", level=1).inner_text() == "登记港康码"
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Register for the Health Code"


def test_keyboard_reaches_the_skip_link_first(page: Page, site: dict[str, Any]) -> None:
    page.goto(f"{site['url']}/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"


def test_officer_pages(page: Page, site: dict[str, Any]) -> None:
    page.goto(f"{site['url']}/language/en?next=/officer/dashboard")
    assert "/staff/sign-in" in page.url  # roles: sign in first
    page.get_by_label("User name").fill("officer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/officer/dashboard")
    assert page.get_by_role("heading", name="Codes issued per day by colour").is_visible()
    page.get_by_role("link", name="High-risk areas").first.click()
    page.get_by_label("Region code").fill("CN-GD-ZH")
    page.get_by_label("Name in English").fill("Zhuhai")
    page.get_by_label("Name in Chinese").fill("珠海")
    page.get_by_label("From (Hong Kong time)").fill("2026-11-01T09:00")
    page.get_by_role("button", name="Declare").click()
    assert "Recorded." in page.inner_text("main")
    assert "CN-GD-ZH" in page.inner_text("table")
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_label("Document number").fill("Z437626(A)")
    page.get_by_label("Close contact").check()
    page.get_by_label("From (Hong Kong time)").fill("2026-11-20T09:00")
    page.get_by_role("button", name="Record", exact=True).click()
    assert "Recorded." in page.inner_text("main")
    page.goto(f"{site['url']}/officer/help-desk")
    assert "You may not do this." in page.inner_text("main")  # not a help-desk officer


def test_help_desk_registers_a_person(page: Page, site: dict[str, Any]) -> None:
    page.goto(f"{site['url']}/language/en?next=/staff/sign-in")
    sign_in_staff(page, site, "helpdesk")
    page.wait_for_url("**/officer/help-desk")
    page.get_by_label("Name in Chinese").fill("何志強")
    page.get_by_label("Name in English, as on the identity card").fill("HO Chi Keung")
    page.get_by_label("Identity card number").fill(new_hkid("C234567"))
    page.get_by_label("Date of issue").fill("2010-01-15")
    page.get_by_label("Mobile phone number").fill("91112222")
    page.get_by_label("Residential address").fill("Room 5, 1/F, 9 Help Lane, Yuen Long")
    page.locator("#f-proof").set_input_files(
        files=[{"name": "bill.png", "mimeType": "image/png",
                "buffer": b"\x89PNG\r\n\x1a\n" + b"\0" * 32}])
    page.locator("#f-password").fill("chosen by him")
    page.locator("#f-password_again").fill("chosen by him")
    page.get_by_label("I have seen the original identity document").check()
    page.get_by_role("button", name="Register and activate").click()
    assert page.get_by_role("heading", level=1).inner_text() == "The account is active"


# --- the whole walk: red code, a lab result, green code, the scanner, the chart -----

def ingest_negative_test(site: dict[str, Any], hkid: str) -> None:
    """Send a negative PCR result as a laboratory does: CSV to the lab API with its key."""
    import json
    import urllib.request
    from datetime import timedelta

    from borderpass.evidence import service as evidence
    from borderpass.kit.clock import utcnow
    from borderpass.kit.db import unit_of_work

    with unit_of_work(site["factory"]) as session:
        _source, key = evidence.create_source(session, "Walk Laboratory", "lab", now=utcnow())
    collected = utcnow() - timedelta(hours=3)
    batch = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,result,"
             f"lab\nWALK-1,hkid,{hkid},{collected.isoformat()},{utcnow().isoformat()},PCR,"
             "negative,Walk Laboratory\n")
    request = urllib.request.Request(  # noqa: S310 - our own test server on 127.0.0.1
        f"{site['url']}/api/evidence/tests", data=batch.encode(), method="POST",
        headers={"Content-Type": "text/csv", "X-API-Key": key})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        report = json.load(answer)
    assert answer.status == 200 and report["inserted"] == 1, report


FACES = Path(__file__).resolve().parent.parent / "vectors" / "faces"


def walk_card(hkid: str) -> bytes:
    """The walking resident's smart identity card, its photo cut from a real photograph."""
    from datetime import date

    from borderpass.echannel import service as echannel

    return echannel.make_demo_card(photo=(FACES / "obama.jpg").read_bytes(), number=hkid,
                                   name_en="WONG Luk Sang", name_zh="黃綠生",
                                   born_on=date(1979, 4, 2), issued_on=date(2016, 8, 12))


def test_walk_red_code_lab_result_green_code_scanner_and_chart(
    browser: Browser, site: dict[str, Any]
) -> None:
    from borderpass.healthcode import views

    url = site["url"]
    resident = browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = resident.new_page()
    page.goto(f"{url}/language/en?next=/register")
    page.get_by_role("button", name="Start registration").click()
    page.wait_for_url("**/register/details")
    hkid = new_hkid("D246813")
    page.get_by_label("Name in Chinese").fill("黃綠生")
    page.get_by_label("Name in English, as on the identity card").fill("WONG Luk Sang")
    page.get_by_label("Identity card number").fill(hkid)
    page.get_by_label("Date of issue").fill("2016-08-12")
    page.get_by_label("Home Return Permit number").fill("H97531864")
    page.get_by_label("I will cross the border to the mainland or Macau").check()
    page.get_by_label("Mobile phone number").fill("+852 6555 0123")
    page.get_by_label("Residential address").fill("Flat G, 6/F, 5 Walk Road, Tai Po")
    page.locator("#f-proof").set_input_files(
        files=[{"name": "bill.pdf", "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n%proof\n%%EOF\n"}])
    page.locator("#f-password").fill("walking to green")
    page.locator("#f-password_again").fill("walking to green")
    page.get_by_role("button", name="Send my details").click()
    page.wait_for_url("**/register/activate")
    page.get_by_label("Activation PIN").fill(latest_pin(site["factory"]))
    page.get_by_role("button", name="Activate", exact=True).click()
    page.wait_for_url(f"{url}/")

    # No test yet: a red code, with why and what to do.
    page.get_by_role("link", name="Open today's code").click()
    page.wait_for_url("**/code")
    card = page.locator("section.code")
    expect(card).to_have_class(re.compile(r"\bred\b"))
    expect(card.locator(".colour")).to_have_text("Red code")
    assert "No negative test collected within the last 48 hours." in card.inner_text()
    assert "Your code turns green when the negative result arrives." in card.inner_text()
    shoot(page, "en", "code-red")
    expect(card.locator("#identity-unproven")).to_be_visible()

    # Registered with a typed number and an SMS PIN, the identity is only claimed: a
    # laboratory's result would not count. The resident proves it with the card's chip
    # and a live photo of their face.
    page.goto(f"{url}/account/prove")
    page.locator("#f-card").set_input_files(files=[{
        "name": "card.bin", "mimeType": "application/octet-stream",
        "buffer": walk_card(hkid)}])
    page.locator("#f-live_photo").set_input_files(str(FACES / "obama2.jpg"))
    page.get_by_role("button", name="Prove with my card and face").click()
    page.wait_for_url(f"{url}/account")
    expect(page.locator("#assurance")).to_contain_text("Proven on")
    shoot(page, "en", "identity-proven")
    page.goto(f"{url}/code")

    ingest_negative_test(site, hkid)
    page.get_by_role("button", name="Refresh my code").click()
    page.wait_for_url("**/code")
    expect(card).to_have_class(re.compile(r"\bgreen\b"))
    expect(card.locator(".colour")).to_have_text("Green code")
    assert "What to do" not in card.inner_text()
    screenshot = ARTIFACTS / "en" / "code-green.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    code_text = views.decode_photo(screenshot.read_bytes())
    resident.close()

    # The border officer verifies the code from the screenshot of the code page.
    officer = browser.new_context(viewport=PHONE)
    scanner = officer.new_page()
    scanner.goto(f"{url}/language/en?next=/staff/sign-in")
    sign_in_staff(scanner, site, "border")
    scanner.wait_for_url("**/officer/scan")
    scanner.locator("#f-photo").set_input_files(str(screenshot))
    scanner.locator("#photo-form button[type=submit]").click()
    result = scanner.locator("#server-result")
    expect(result).to_have_class(re.compile(r"\bgreen\b"))
    masked = f"{hkid[:2]}*****{hkid[-3:]}"
    expect(result).to_contain_text("Green code")
    expect(result).to_contain_text(f"WLS · {masked}")
    shoot(scanner, "en", "scan-green")

    # Offline: the page and the lists it fetched earlier are kept on the device.
    scanner.goto(f"{url}/officer/scan")
    wait_for(scanner,
             "localStorage.getItem('borderpass.scanner.lists') !== null", timeout=15000)
    wait_for(scanner, "navigator.serviceWorker.controller !== null", timeout=15000)
    officer.set_offline(True)
    reloaded = scanner.reload()
    assert reloaded is not None and reloaded.from_service_worker  # kept by the worker
    assert scanner.evaluate("navigator.onLine") is False
    expect(scanner.locator("#lists-status")).to_contain_text("fetched at")
    scanner.locator("#f-code_text").fill(code_text)
    scanner.locator("#text-form button[type=submit]").click()
    device = scanner.locator("#device-result")
    expect(device).to_be_visible()
    expect(device).to_have_attribute("data-result", "valid")
    expect(device).to_have_class(re.compile(r"\bgreen\b"))
    expect(device).to_contain_text("Green code")
    expect(device).to_contain_text(f"WLS · {masked}")
    expect(device).to_contain_text("Checked on this device")
    forged = code_text[:-6] + ("A" if code_text[-6] != "A" else "B") + code_text[-5:]
    scanner.locator("#f-code_text").fill(forged)
    scanner.locator("#text-form button[type=submit]").click()
    expect(device).to_have_attribute("data-result", "invalid")
    expect(device).to_contain_text("Not valid")
    shoot(scanner, "en", "scan-offline")
    if DECODER.exists():  # the photo is read in the browser by the served QR decoder
        scanner.locator("#f-photo").set_input_files(str(screenshot))
        scanner.locator("#photo-form button[type=submit]").click()
        expect(device).to_have_attribute("data-result", "valid")
        expect(device).to_contain_text(f"WLS · {masked}")
    officer.set_offline(False)
    officer.close()

    # The health officer's dashboard charts the codes issued today, by colour.
    health = browser.new_context(viewport=PHONE)
    board = health.new_page()
    board.goto(f"{url}/language/en?next=/staff/sign-in")
    sign_in_staff(board, site, "officer")
    board.wait_for_url("**/officer/dashboard")
    chart = board.locator("section.chart svg")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar-green").count() >= 1
    assert chart.locator("rect.bar-red").count() >= 1
    shoot(board, "en", "dashboard-chart")
    health.close()


def fake_camera_video(text: str, path: Path) -> None:
    """Write a Y4M video of a QR code, for Chromium's fake camera."""
    import io

    from PIL import Image

    from borderpass.healthcode.qr import qr_image

    width, height = 640, 480
    code = Image.open(io.BytesIO(qr_image(text, "png", scale=5))).convert("L")
    frame = Image.new("L", (width, height), 255)
    frame.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    chroma = bytes([128]) * (width * height // 4)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            video.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)


def _resigned(envelope: dict[str, str], key: Any) -> dict[str, str]:
    """The same list, signed by another key: it verifies against the key it carries."""
    import base64
    import json

    from borderpass.healthcode.lists import sign_list

    payload = envelope["payload"]
    content = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return sign_list(content, key)


def test_the_scanner_pins_the_site_anchor(browser: Browser, site: dict[str, Any]) -> None:
    from borderpass.healthcode import service as healthcode
    from borderpass.kit.clock import utcnow
    from borderpass.kit.db import unit_of_work
    from borderpass.kit.signing import SigningKey

    with unit_of_work(site["factory"]) as session:
        real = healthcode.export(session, now=utcnow())
        text = healthcode.issue_for_document(session, "hkid", "A123456(3)", now=utcnow()).text
    impostor = SigningKey.generate()
    forged = {name: _resigned(envelope, impostor) for name, envelope in real.items()}
    kid = real["trust_list"]["kid"]
    assert forged["trust_list"]["kid"] != kid

    # No service worker: the page's own fetches are the ones replaced below.
    officer = browser.new_context(viewport=PHONE, service_workers="block")
    scanner = officer.new_page()
    scanner.goto(f"{site['url']}/language/en?next=/staff/sign-in")
    sign_in_staff(scanner, site, "border")
    scanner.wait_for_url("**/officer/scan")
    assert scanner.locator("#scanner").get_attribute("data-anchor") == kid
    wait_for(scanner,
             "localStorage.getItem('borderpass.scanner.lists') !== null", timeout=15000)
    assert scanner.evaluate("localStorage.getItem('borderpass.scanner.anchor')") == kid
    check = "t => window.borderpassScanner.verify(t).then(v => [v.result, v.reason])"
    assert scanner.evaluate(check, text)[0] == "valid"

    # Lists kept on the device but signed by another key: refused, the code not judged.
    scanner.evaluate("b => localStorage.setItem('borderpass.scanner.lists', "
                     "JSON.stringify({fetched_at: Date.now(), bundle: b}))", forged)
    assert scanner.evaluate(check, text) == ["cannot_verify", "wrong_anchor"]

    # Lists fetched from the network but signed by another key: refused, not kept.
    scanner.route("**/api/trust-list/export", lambda route: route.fulfill(json=forged))
    scanner.evaluate("() => localStorage.removeItem('borderpass.scanner.lists')")
    refused = scanner.evaluate(
        "() => window.borderpassScanner.fetchLists().then(() => 'kept', e => e.message)")
    assert refused == "wrong_anchor"
    assert scanner.evaluate("localStorage.getItem('borderpass.scanner.lists')") is None
    scanner.unroute("**/api/trust-list/export")

    # A device that remembered another anchor, and kept its lists: the page's anchor wins,
    # the kept lists are dropped and the site's own are fetched again.
    scanner.evaluate("([a, b]) => { localStorage.setItem('borderpass.scanner.anchor', a); "
                     "localStorage.setItem('borderpass.scanner.lists', "
                     "JSON.stringify({fetched_at: Date.now(), bundle: b})); }",
                     [forged["trust_list"]["kid"], forged])
    scanner.reload()
    wait_for(scanner,
             f"(JSON.parse(localStorage.getItem('borderpass.scanner.lists') || 'null') || "
             f"{{bundle: {{trust_list: {{}}}}}}).bundle.trust_list.kid === '{kid}'", timeout=15000)
    assert scanner.evaluate("localStorage.getItem('borderpass.scanner.anchor')") == kid
    assert scanner.evaluate(check, text)[0] == "valid"
    officer.close()


@pytest.mark.skipif(not DECODER.exists(), reason="the camera's QR decoder is not installed "
                    "(needs npm: `make vendor`)")
def test_camera_reads_and_verifies_a_code(playwright: Playwright, site: dict[str, Any],
                                          tmp_path: Path) -> None:
    from borderpass.healthcode import service as healthcode
    from borderpass.identity import service as identity
    from borderpass.kit.clock import utcnow
    from borderpass.kit.db import unit_of_work

    with unit_of_work(site["factory"]) as session:
        person = identity.find_person(session, "hkid", "A123456(3)")
        assert person is not None
        text = healthcode.issue(session, person.id, now=utcnow()).text
    video = tmp_path / "code.y4m"
    fake_camera_video(text, video)
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"])
    try:
        context = browser.new_context(viewport=PHONE, permissions=["camera"])
        page = context.new_page()
        page.goto(f"{site['url']}/language/en?next=/staff/sign-in")
        sign_in_staff(page, site, "border")
        page.wait_for_url("**/officer/scan")
        wait_for(page, "window.jsQR !== undefined", timeout=10000)
        page.get_by_role("button", name="Start the camera").click()
        result = page.locator("#server-result")
        expect(result).to_contain_text("CTM · A1*****(3)", timeout=20000)
        expect(result).to_have_class(re.compile(r"\bgreen\b"))
    finally:
        browser.close()


def test_camera_button_explains_when_there_is_no_camera(page: Page,
                                                         site: dict[str, Any]) -> None:
    page.goto(f"{site['url']}/language/en?next=/staff/sign-in")
    sign_in_staff(page, site, "border")
    page.wait_for_url("**/officer/scan")
    page.get_by_role("button", name="Start the camera").click()
    expect(page.locator("#camera-status")).to_contain_text(
        "Camera scanning is unavailable on this device or browser.")


# --- every main page in every language ----------------------------------------------

PUBLIC = (("home", "/"), ("register", "/register"), ("sign-in", "/sign-in"),
          ("staff-sign-in", "/staff/sign-in"))
RESIDENT = (("resident-home", "/"), ("code", "/code"), ("evidence", "/evidence"),
            ("account", "/account"))
OFFICER = (("dashboard", "/officer/dashboard"), ("cases", "/officer/cases"),
           ("testing-orders", "/officer/testing-orders"),
           ("high-risk-areas", "/officer/high-risk-areas"), ("rule-sets", "/officer/rule-sets"))
BORDER = (("scan", "/officer/scan"),)
HELP = (("help-desk", "/officer/help-desk"),)


def english_phrases() -> list[str]:
    """Every English message of two words or more, to spot one left untranslated."""
    from babel.messages.pofile import read_po

    from borderpass.kit.i18n import _CATALOGS

    with (_CATALOGS / "messages.pot").open("rb") as handle:
        catalog = read_po(handle)
    return [str(m.id) for m in catalog if m.id and isinstance(m.id, str)
            and len(str(m.id).split()) >= 2 and not re.search(r"[{%]", str(m.id))]


@pytest.mark.parametrize("locale", ["zh_Hant", "zh_Hans", "en"])
def test_main_pages_in_each_language(browser: Browser, site: dict[str, Any], locale: str) -> None:
    phrases = english_phrases() if locale != "en" else []
    groups: list[tuple[str | None, tuple[tuple[str, str], ...]]] = [
        (None, PUBLIC), ("resident", RESIDENT), ("officer", OFFICER), ("border", BORDER),
        ("helpdesk", HELP)]
    for who, pages in groups:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(f"{site['url']}/language/{locale}?next=/")
        if who == "resident":
            sign_in_resident(page, site)
            page.wait_for_url(f"{site['url']}/")
        elif who is not None:
            sign_in_staff(page, site, who)
            page.wait_for_url("**/officer/**")
        for name, path in pages:
            page.goto(f"{site['url']}{path}")
            assert page.locator("html").get_attribute("lang", timeout=5000)
            text = page.inner_text("body")
            assert "Traceback" not in text
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], f"{path} is {wide}px wide on a 360px phone"
            left = [phrase for phrase in phrases if phrase in text]
            assert not left, f"{locale} {path} shows untranslated text: {left}"
            shoot(page, locale, name)
        context.close()


# --- other issuers' certificates on the scanner ---------------------------------------


def test_the_scanner_shows_other_issuers_certificates_in_traditional_chinese(
    browser: Browser, site: dict[str, Any], tmp_path: Path
) -> None:
    import base64

    from borderpass.kit.config import get_settings
    from tests.worldcodes.cases import SHC_ISSUERS, dcc_cases, shc_text

    folder = get_settings().foreign_trust_dir
    assert folder is not None and not folder.exists()
    shutil.copytree(SHC_ISSUERS, folder / "shc")
    (folder / "dcc").mkdir()
    case = next(case for case in dcc_cases() if case.name == "AT/2DCode/raw/1.json")
    (folder / "dcc" / "at.der").write_bytes(base64.b64decode(case.raw["TESTCTX"]["CERTIFICATE"]))
    # A gateway's list naming another signer by the same key id, read first: the device
    # tries each signer the key id names (HCERT 3.3.3).
    (folder / "dcc" / "0-gateway.json").write_text(json.dumps([{
        "certificateType": "DSC", "kid": base64.b64encode(case.certificate.kid).decode(),
        "rawData": next(other for other in dcc_cases() if other.name == "SE/2DCode/raw/1.json"
                        ).raw["TESTCTX"]["CERTIFICATE"]}]))
    photo = tmp_path / "dcc.png"
    photo.write_bytes(base64.b64decode(case.raw["2DCODE"]))
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        scanner = context.new_page()
        scanner.goto(f"{site['url']}/language/zh_Hant?next=/staff/sign-in")
        sign_in_staff(scanner, site, "border")
        scanner.wait_for_url("**/officer/scan")
        assert scanner.locator("html").get_attribute("lang") == "zh-Hant-HK"

        def scan(text: str) -> str:
            scanner.locator("#f-code_text").fill(text)
            scanner.locator("#text-form button[type=submit]").click()
            wait_for(scanner, "document.querySelector('#server-result') !== null")
            return scanner.inner_text("#server-result")

        card = scan(shc_text("01"))
        assert "有效證明書" in card and "John B. Anyperson · 1951-01-20" in card
        assert "疫苗接種" in card and "SMART 健康卡 · https://spec.smarthealth.cards" in card
        expect(scanner.locator("#server-result")).to_have_class(re.compile(r"\bgreen\b"))
        for width in (390, 1280):
            scanner.set_viewport_size({"width": width, "height": 900})
            shoot(scanner, "zh_Hant", f"scan-shc-{width}")
        scanner.set_viewport_size({"width": 390, "height": 844})
        # The test certificates are long expired: read, shown, and refused for that.
        certificate = scan(case.text)
        assert "Gabriele Musterfrau-Gößinger · 1998-02-26" in certificate
        assert "無效" in certificate and "證明書已過期。" in certificate
        assert "歐盟數碼新冠證明書 · AT" in certificate and "疫苗接種" in certificate
        expect(scanner.locator("#server-result")).to_have_class(re.compile(r"\bred\b"))
        wide = scanner.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"the scanner is {wide}px wide on a 390px phone"
        for width in (390, 1280):
            scanner.set_viewport_size({"width": width, "height": 900})
            shoot(scanner, "zh_Hant", f"scan-dcc-{width}")
        # A photo of the same certificate gives the same answer.
        scanner.goto(f"{site['url']}/officer/scan")
        scanner.locator("#f-photo").set_input_files(str(photo))
        scanner.locator("#photo-form button[type=submit]").click()
        wait_for(scanner, "document.querySelector('#server-result') !== null")
        assert "Gabriele Musterfrau-Gößinger" in scanner.inner_text("#server-result")
    finally:
        context.close()
        shutil.rmtree(folder)


# --- other issuers' certificates verified offline, on the device ------------------------


def _scanner_with_lists(context: Any, site: dict[str, Any], language: str) -> Page:
    """Open the scanner in ``language`` and wait until it keeps the lists, the list of other
    issuers' trust material among them."""
    scanner = context.new_page()
    scanner.goto(f"{site['url']}/language/{language}?next=/staff/sign-in")
    sign_in_staff(scanner, site, "border")
    scanner.wait_for_url("**/officer/scan")
    wait_for(scanner, "(JSON.parse(localStorage.getItem('borderpass.scanner.lists') || 'null') "
                      "|| {bundle: {}}).bundle.foreign !== undefined", timeout=15000)
    return scanner


def test_the_scanner_verifies_other_issuers_certificates_offline(
    browser: Browser, site: dict[str, Any]
) -> None:
    import base64

    from borderpass.kit.config import get_settings
    from tests.worldcodes.cases import SHC_ISSUERS, dcc_cases, shc_text

    folder = get_settings().foreign_trust_dir
    assert folder is not None and not folder.exists()
    shutil.copytree(SHC_ISSUERS, folder / "shc")
    (folder / "dcc").mkdir()
    cases = {case.name: case for case in dcc_cases()}
    case = cases["AT/2DCode/raw/1.json"]
    (folder / "dcc" / "at.der").write_bytes(base64.b64decode(case.raw["TESTCTX"]["CERTIFICATE"]))
    # A gateway's list naming another signer by the same key id, read first: the device
    # tries each signer the key id names (HCERT 3.3.3).
    (folder / "dcc" / "0-gateway.json").write_text(json.dumps([{
        "certificateType": "DSC", "kid": base64.b64encode(case.certificate.kid).decode(),
        "rawData": cases["SE/2DCode/raw/1.json"].raw["TESTCTX"]["CERTIFICATE"]}]))
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        scanner = _scanner_with_lists(context, site, "zh_Hant")
        wait_for(scanner, "navigator.serviceWorker.controller !== null", timeout=15000)
        context.set_offline(True)
        reloaded = scanner.reload()
        assert reloaded is not None and reloaded.from_service_worker
        assert scanner.evaluate("navigator.onLine") is False
        device = scanner.locator("#device-result")

        def scan(text: str, result: str) -> str:
            scanner.locator("#f-code_text").fill(text)
            scanner.locator("#text-form button[type=submit]").click()
            expect(device).to_have_attribute("data-result", result)
            return scanner.inner_text("#device-result")

        # The DCC at its validation clock: valid, its holder and vaccination shown.
        scanner.clock.set_fixed_time(case.clock)
        shown = scan(case.text, "valid")
        assert "有效證明書" in shown and "Gabriele Musterfrau-Gößinger · 1998-02-26" in shown
        assert "疫苗接種 2021-02-18: COVID-19 · Comirnaty · 1/2 · AT" in shown
        assert "歐盟數碼新冠證明書 · AT" in shown
        expect(device).to_have_class(re.compile(r"\bgreen\b"))
        assert scanner.locator("#server-result").count() == 0  # nothing was posted
        shoot(scanner, "zh_Hant", "scan-dcc-offline")
        # One character altered: not valid.
        at = len(case.text) // 2
        altered = case.text[:at] + ("A" if case.text[at] != "A" else "B") + case.text[at + 1:]
        assert "無效" in scan(altered, "invalid")
        expect(device).to_have_class(re.compile(r"\bred\b"))
        # A signer this site does not trust: cannot be verified.
        unknown = scan(cases["DE/2DCode/raw/1.json"].text, "cannot_verify")
        assert "無法核實" in unknown
        # The SMART Health Card, today.
        scanner.clock.set_fixed_time(time.time())
        card = scan(shc_text("01"), "valid")
        assert "有效證明書" in card and "John B. Anyperson · 1951-01-20" in card
        assert "疫苗接種" in card and "SMART 健康卡 · https://spec.smarthealth.cards" in card
        shoot(scanner, "zh_Hant", "scan-shc-offline")
    finally:
        context.close()
        shutil.rmtree(folder)


def test_the_device_and_the_server_agree_on_other_issuers_certificates(
    browser: Browser, site: dict[str, Any]
) -> None:
    import base64
    from datetime import UTC, datetime

    from borderpass.kit.config import get_settings
    from borderpass.worldcodes.dcc import verify_dcc
    from borderpass.worldcodes.shc import verify_shc
    from borderpass.worldcodes.trust import DccTrust, ShcIssuers
    from tests.worldcodes.cases import SHC_ISSUERS, dcc_cases, shc_text

    folder = get_settings().foreign_trust_dir
    assert folder is not None and not folder.exists()
    shutil.copytree(SHC_ISSUERS, folder / "shc")
    (folder / "dcc").mkdir()
    cases = dcc_cases()
    for index, case in enumerate(cases):
        (folder / "dcc" / f"{index}.der").write_bytes(
            base64.b64decode(case.raw["TESTCTX"]["CERTIFICATE"]))
    dcc_trust, issuers = DccTrust.load([folder / "dcc"]), ShcIssuers.load(folder / "shc")
    context = browser.new_context(viewport=PHONE, service_workers="block")
    check = ("([t, at]) => window.borderpassScanner.verify(t, at).then(v => "
             "[v.result, v.reason, v.summary && v.summary.name])")
    try:
        scanner = _scanner_with_lists(context, site, "en")
        valid = 0
        for case in cases:
            expected = verify_dcc(case.text, dcc_trust, now=case.clock)
            device = scanner.evaluate(check, [case.text, case.clock.timestamp() * 1000])
            summary = expected.summary
            assert device == [expected.result, expected.reason,
                              summary.name if summary else None], case.name
            valid += expected.valid
        assert valid >= 50  # the cases valid at their clock are most of them
        now = datetime.now(UTC)
        for example in ("00", "01"):
            expected = verify_shc([shc_text(example)], issuers, now=now)
            assert expected.valid
            device = scanner.evaluate(check, [shc_text(example), now.timestamp() * 1000])
            assert device == ["valid", None, expected.summary.name if expected.summary else None]
    finally:
        context.close()
        shutil.rmtree(folder)
