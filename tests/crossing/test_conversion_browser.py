"""Journey 1's last step in a real browser (Debian's Chromium, headless, Playwright):
Hong Kong's and Guangdong's instances both served and partners of each other, Mrs Chan
opens her green Hong Kong code, follows "Convert to a Guangdong code" to Guangdong's
site, converts, and her Guangdong code, read from the screenshot, verifies there as
green. Walked on a phone (390 px) in English and on a desktop (1280 px) in Traditional
Chinese, where the code is brought over by a photo of it instead. Screenshots go to
``test-artifacts/screenshots/``.

Skipped, saying why, when no Chromium is installed.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crossing.instances import Instance, pair, serving
from tests.web.test_browser import wait_for

CHROMIUM = os.environ.get("BORDERPASS_CHROMIUM") or shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None:
    pytest.skip("browser tests skipped: no Chromium found (install Debian's `chromium` "
                "package or set BORDERPASS_CHROMIUM)", allow_module_level=True)
try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - playwright is a dev dependency
    pytest.skip("browser tests skipped: the playwright package is not installed",
                allow_module_level=True)

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHAN = "A123456(3)"
PASSWORD = "borderpass-demo"


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Instance]]:
    with serving(tmp_path_factory.mktemp("conversion"), "HK", "GD") as made:
        pair(made["HK"], made["GD"])
        yield made


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as started:
        launched = started.chromium.launch(executable_path=CHROMIUM, headless=True,
                                           args=["--no-sandbox"])
        yield launched
        launched.close()


def shoot(page: Page, locale: str, name: str) -> Path:
    folder = ARTIFACTS / locale
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, site: Instance, locale: str) -> None:
    page.goto(f"{site.url}/language/{locale}?next=/sign-in")
    page.locator("#f-document_kind").select_option("hkid")
    page.locator("#f-document_number").fill(CHAN)
    page.locator("#f-password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{site.url}/code")


def converted_code(site: Instance, screenshot: Path) -> dict[str, object]:
    """Read the converted code from a screenshot of the page and verify it at ``site``."""
    from borderpass.healthcode import views

    text = views.decode_photo(screenshot.read_bytes())
    return site.verify(text)


def test_convert_on_a_phone_by_the_link(browser: Browser, sites: dict[str, Instance]) -> None:
    hk, gd = sites["HK"], sites["GD"]
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, locale="en-GB")
    page = context.new_page()
    sign_in(page, hk, "en")
    expect(page.locator("section.code")).to_have_class(re.compile(r"\bgreen\b"))
    link = page.get_by_role("link", name="Convert to a Guangdong code")
    expect(link).to_be_visible()
    shoot(page, "en", "conversion-1-hong-kong-code")

    link.click()
    page.wait_for_url(f"{gd.url}/convert")  # the code travelled in the fragment, now gone
    text = page.locator("#f-code_text")
    expect(text).to_have_value(re.compile(r"^BPHC1:"))
    expect(page.locator("#brought-over")).to_contain_text("Press Convert")
    assert "Codes recognised here: Hong Kong." in page.content()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    shoot(page, "en", "conversion-2-guangdong-page")

    page.locator("#convert-text").click()
    page.wait_for_load_state()
    card = page.locator("#converted")
    expect(card).to_have_class(re.compile(r"\bgreen\b"))
    expect(card).to_contain_text("Guangdong code")
    expect(card).to_contain_text("Converted from a Hong Kong code")
    expect(card).to_contain_text("CTM · A1*****(3)")
    verdict = converted_code(gd, shoot(page, "en", "conversion-3-guangdong-code"))
    assert (verdict["valid"], verdict["colour"], verdict["issuer"]) == (True, "green", "GD")
    context.close()


def test_convert_on_a_desktop_from_a_photo_in_chinese(
    browser: Browser, sites: dict[str, Instance], tmp_path: Path
) -> None:
    hk, gd = sites["HK"], sites["GD"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-HK")
    page = context.new_page()
    sign_in(page, hk, "zh_Hant")
    code = page.locator("section.code")
    expect(code).to_have_class(re.compile(r"\bgreen\b"))
    photo = tmp_path / "hong-kong-code.png"
    code.locator(".qr").screenshot(path=str(photo))
    shoot(page, "zh_Hant", "conversion-1-hong-kong-code")

    page.goto(f"{gd.url}/language/zh_Hant?next=/convert")
    shoot(page, "zh_Hant", "conversion-2-guangdong-page")
    page.locator("#f-photo").set_input_files(str(photo))
    page.locator("#photo-form button[type=submit]").click()
    page.wait_for_load_state()
    card = page.locator("#converted")
    expect(card).to_have_class(re.compile(r"\bgreen\b"))
    assert "Converted from" not in card.inner_text()  # in Chinese, not English
    verdict = converted_code(gd, shoot(page, "zh_Hant", "conversion-3-guangdong-code"))
    assert (verdict["valid"], verdict["issuer"]) == (True, "GD")
    original = verdict["original"]
    assert isinstance(original, dict) and original["issuer"] == "HK"
    context.close()


def test_the_officers_scanner_checks_a_partners_code_on_the_device(
    browser: Browser, sites: dict[str, Instance]
) -> None:
    from tests.crossing.instances import resident_code

    hk, gd = sites["HK"], sites["GD"]
    hong_kong = resident_code(hk, CHAN)
    officer = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB",
                                  service_workers="block")
    scanner = officer.new_page()
    scanner.goto(f"{gd.url}/language/en?next=/staff/sign-in")
    scanner.locator("#f-username").fill("border")
    scanner.locator("#f-password").fill(PASSWORD)
    scanner.locator("main button[type=submit]").click()
    scanner.wait_for_url("**/officer/scan")
    wait_for(scanner,
             "localStorage.getItem('borderpass.scanner.lists') !== null", timeout=15000)
    # Offline, on the device: Guangdong's scanner checks Hong Kong's code with Hong Kong's
    # lists, which came with its own, and says whose code it is.
    officer.set_offline(True)
    scanner.locator("#f-code_text").fill(hong_kong)
    scanner.locator("#text-form button[type=submit]").click()
    shown = scanner.locator("#device-result")
    expect(shown).to_have_class(re.compile(r"\bgreen\b"))
    expect(shown.locator('[data-part="issuer"]')).to_have_text("Hong Kong code")
    check = "t => window.borderpassScanner.verify(t).then(v => [v.result, v.reason])"
    assert scanner.evaluate(check, hong_kong) == ["valid", None]
    stranger = hong_kong[:-6] + ("A" if hong_kong[-6] != "A" else "B") + hong_kong[-5:]
    assert scanner.evaluate(check, stranger)[0] != "valid"
    shoot(scanner, "en", "conversion-4-scanner-offline")
    officer.close()
