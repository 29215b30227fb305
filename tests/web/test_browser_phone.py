"""What a newcomer meets on a phone, in a real browser (Debian's Chromium, headless): the
API documentation offline, page layouts at 390 px, the copy button, field messages.

The served app, the browser and the helpers are those of ``test_browser.py``; the
screenshots go under ``test-artifacts/screenshots/<locale>/`` with a ``390-`` prefix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.test_browser import (  # noqa: F401 - fixtures, used by name
    ARTIFACTS,
    browser,
    playwright,
    sign_in_resident,
    sign_in_staff,
    site,
    wait_for,
)

try:
    from playwright.sync_api import Browser, Page
except ImportError:  # pragma: no cover - test_browser.py skips the module first
    pass

pytestmark = pytest.mark.slow

NARROW = {"width": 390, "height": 844}


@pytest.fixture()
def phone(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the imported fixture
    context = browser.new_context(viewport=NARROW, locale="en-GB")
    opened = context.new_page()
    yield opened
    context.close()


def shoot(page: Page, locale: str, name: str, *, full: bool = True) -> None:
    folder = ARTIFACTS / locale
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"390-{name}.png"), full_page=full)


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not displayed"
    return found


def line_height(page: Page, selector: str) -> float:
    return float(page.locator(selector).first.evaluate(
        "e => parseFloat(getComputedStyle(e).lineHeight) || "
        "parseFloat(getComputedStyle(e).fontSize) * 1.2"))


def test_api_docs_show_the_operations_with_no_external_request(
        phone: Page, site: dict[str, Any]) -> None:  # noqa: F811
    requested: list[str] = []
    phone.on("request", lambda request: requested.append(request.url))
    refused: list[str] = []
    phone.on("console", lambda message: refused.append(message.text)
             if "Content Security Policy" in message.text else None)
    phone.goto(f"{site['url']}/docs")
    wait_for(phone, "document.querySelectorAll('.opblock').length > 20")
    assert phone.locator(".opblock-summary-path", has_text="/api/registrations").first.is_visible()
    outside = [url for url in requested
               if not url.startswith(site["url"]) and not url.startswith("data:")]
    assert outside == [], outside
    assert refused == []
    shoot(phone, "en", "api-docs", full=False)


def test_account_keeps_numbers_on_one_line(phone: Page, site: dict[str, Any]) -> None:  # noqa: F811
    phone.goto(f"{site['url']}/language/en?next=/sign-in")
    sign_in_resident(phone, site)
    phone.wait_for_url(f"{site['url']}/")
    phone.goto(f"{site['url']}/account")
    for selector, text in (("#account-document", "A123456(3)"),
                           ("#account-phone", "+852 9123 4567")):
        assert phone.inner_text(selector) == text
        shown = box(phone, selector)
        # One line box: no taller than a line, and inside the page.
        assert shown["height"] < 1.5 * line_height(phone, selector), (selector, shown)
        assert shown["x"] + shown["width"] <= NARROW["width"], (selector, shown)
    assert phone.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    shoot(phone, "en", "account")


def test_appointment_table_shows_the_identity_card_column(
        phone: Page, site: dict[str, Any]) -> None:  # noqa: F811
    from datetime import timedelta

    from borderpass.kit.clock import hk_date, utcnow

    tomorrow = hk_date(utcnow()) + timedelta(days=1)
    phone.goto(f"{site['url']}/language/en?next=/staff/sign-in")
    sign_in_staff(phone, site, "exitentry")
    phone.wait_for_url("**/officer/permits")
    phone.goto(f"{site['url']}/officer/permits?office=DG-DEMO&day={tomorrow.isoformat()}")
    cell = phone.locator("tbody tr").first.locator("td").last
    assert cell.inner_text().strip(), "the demo's booked application has an applicant"
    # The identity card is on the screen as the page opens: no sideways scrolling, no
    # clipping, and named, since a phone shows each row as a labelled block.
    shown = cell.bounding_box()
    assert shown is not None
    assert 0 <= shown["x"] and shown["x"] + shown["width"] <= NARROW["width"], shown
    assert phone.locator(".table-wrap").first.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert cell.evaluate("e => getComputedStyle(e, '::before').content") == '"Identity card"'
    value = cell.locator(".nowrap")
    inner = value.bounding_box()
    assert inner is not None and inner["x"] + inner["width"] <= NARROW["width"], inner
    assert inner["height"] < 1.5 * line_height(phone, "tbody td.applicant .nowrap")
    assert phone.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    shoot(phone, "en", "officer-appointments")


def test_dashboard_chart_labels_are_readable(phone: Page, site: dict[str, Any]) -> None:  # noqa: F811
    phone.goto(f"{site['url']}/language/en?next=/staff/sign-in")
    sign_in_staff(phone, site, "officer")
    phone.wait_for_url("**/officer/dashboard")
    labels = phone.locator(".chart svg text")
    assert labels.count() >= 3
    for index in range(labels.count()):
        shown = labels.nth(index).bounding_box()
        assert shown is not None
        # A label's glyphs stand at least 9 CSS pixels high (at 640 px wide the axis
        # was squeezed to under 7).
        assert shown["height"] >= 9, (labels.nth(index).inner_text(), shown)
    assert phone.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    shoot(phone, "en", "officer-dashboard")


def test_permit_token_is_shown_whole_with_a_copy_button(
        browser: Browser, site: dict[str, Any]) -> None:  # noqa: F811
    context = browser.new_context(viewport=NARROW, locale="en-GB")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site["url"])
    phone = context.new_page()
    try:
        token = apply_for_a_permit(phone, site)
        code = box(phone, "#token")
        assert code["x"] + code["width"] <= NARROW["width"]
        assert phone.locator("#token").evaluate("e => e.scrollWidth <= e.clientWidth")
        button = phone.get_by_role("button", name="Copy the token")
        assert button.is_visible()
        button.click()
        wait_for(phone, "document.querySelector('.copy-status').textContent.length > 0")
        assert phone.inner_text(".copy-status") == "Copied."
        assert phone.evaluate("navigator.clipboard.readText()") == token
        shoot(phone, "en", "permit-applied")
    finally:
        context.close()


def test_permit_token_without_javascript_has_no_dead_button(
        browser: Browser, site: dict[str, Any]) -> None:  # noqa: F811
    context = browser.new_context(viewport=NARROW, locale="en-GB", java_script_enabled=False)
    phone = context.new_page()
    try:
        apply_for_a_permit(phone, site)
        assert not phone.get_by_role("button", name="Copy the token").is_visible()
        assert phone.locator("#token").is_visible()
    finally:
        context.close()


def apply_for_a_permit(page: Page, site: dict[str, Any]) -> str:  # noqa: F811
    """Apply for an emergency endorsement on the site; return the access token shown."""
    import secrets

    from tests.web.served import mainland_id

    page.goto(f"{site['url']}/language/en?next=/permits/apply")
    page.get_by_label("Name as on the identity card").fill("王小明")
    page.get_by_label("Mainland resident identity card number").fill(
        mainland_id(secrets.randbelow(900_000)))
    page.get_by_label("Exit-entry permit number").fill("C12345678")
    page.get_by_label("Mobile phone number").fill("+86 139 0013 9000")
    page.locator("#f-kind-emergency, input[name=kind][value=emergency]").first.check()
    page.locator("#f-reason").select_option("medical_treatment")
    page.locator("main form button[type=submit]").last.click()
    page.locator("#token").wait_for()
    return page.inner_text("#token").strip()


def test_a_fields_message_goes_once_it_is_filled(phone: Page, site: dict[str, Any]) -> None:  # noqa: F811
    phone.goto(f"{site['url']}/language/zh_Hant?next=/staff/sign-in")
    sign_in_staff(phone, site, "officer")
    phone.wait_for_url("**/officer/dashboard")
    phone.goto(f"{site['url']}/officer/high-risk-areas")
    phone.locator("main form button[type=submit]").last.click()
    phone.locator("#e-region_code").wait_for()
    assert phone.inner_text("#e-region_code") == "必須填寫此欄。"
    assert phone.locator("#e-name_en").is_visible()
    phone.locator("#f-region_code").fill("CN-GD-FS")
    wait_for(phone, "!document.getElementById('e-region_code')")
    assert phone.locator("#f-region_code").get_attribute("aria-invalid") is None
    assert phone.locator("#e-name_en").is_visible()  # the fields not filled keep theirs
    shoot(phone, "zh_Hant", "officer-area-form")


def test_the_testing_order_venue_picker(phone: Page, site: dict[str, Any]) -> None:  # noqa: F811
    from borderpass.checkin import service as checkin
    from borderpass.checkin.schemas import VenueIn
    from borderpass.identity import service as identity
    from borderpass.kit.clock import utcnow
    from borderpass.kit.db import unit_of_work

    with unit_of_work(site["factory"]) as session:
        operator = identity.create_staff(session, f"op-{utcnow():%H%M%S%f}", "Operator",
                                         "venue_operator", "password-123", now=utcnow())
        venue = checkin.register_venue(session, VenueIn(
            name_zh="翠華餐廳", name_en="Tsui Wah Restaurant", type="restaurant",
            address="G/F, 15 Wellington Street, Central"), operator=operator.id, now=utcnow())
        checkin.approve_venue(session, venue.code, officer=operator.id, now=utcnow())
        code = venue.code
    phone.goto(f"{site['url']}/language/en?next=/staff/sign-in")
    sign_in_staff(phone, site, "officer")
    phone.wait_for_url("**/officer/dashboard")
    phone.goto(f"{site['url']}/officer/testing-orders")
    phone.get_by_label("Reference").fill("CTO-PICK")
    phone.get_by_label("Find a venue by name or venue id").fill("tsui wah")
    phone.get_by_role("button", name="Find").click()
    box_ = phone.locator(f"#v-{code}")
    box_.wait_for()
    assert phone.get_by_label("Reference").input_value() == "CTO-PICK"  # found in place
    box_.check()
    phone.get_by_label("Find a venue by name or venue id").fill("no such place at all")
    phone.get_by_role("button", name="Find").click()
    wait_for(phone, "document.getElementById('venue-status').textContent.length > 0")
    assert phone.locator(f"#v-{code}").is_checked()  # a chosen venue stays
    assert phone.inner_text("#venue-status") == "No venue found."
    assert phone.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    shoot(phone, "en", "officer-testing-order-venues")


def test_the_other_changed_pages_at_390_px(browser: Browser, site: dict[str, Any]) -> None:  # noqa: F811
    """The activation page names the mailbox; the help desk asks nothing about a PIN; the
    Chinese home page greets by the Chinese name; an applicant can book in the demo's
    office at once; the officer reads the checklist's names, not its keys."""
    from borderpass.kit.clock import utcnow
    from borderpass.kit.db import unit_of_work
    from borderpass.permits import service as permits
    from borderpass.permits.schemas import ApplicationIn
    from tests.web.served import mainland_id

    context = browser.new_context(viewport=NARROW, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"{site['url']}/language/en?next=/register")
        page.get_by_role("button", name="Start registration").click()
        page.wait_for_url("**/register/details")
        assert not page.locator(".timer").inner_text().startswith("1 minutes")
        page.get_by_label("Name in Chinese").fill("林美華")
        page.get_by_label("Name in English, as on the identity card").fill("LAM Mei Wah")
        from tests.web.test_browser import new_hkid

        page.get_by_label("Identity card number").fill(new_hkid("E135790"))
        page.get_by_label("Date of issue").fill("2012-06-01")
        page.get_by_label("Mobile phone number").fill("+852 6234 5678")
        page.get_by_label("Residential address").fill("Flat E, 5/F, 7 Sample Lane, Tai Po")
        page.locator("#f-proof").set_input_files(
            files=[{"name": "bill.pdf", "mimeType": "application/pdf",
                    "buffer": b"%PDF-1.4\n%proof\n%%EOF\n"}])
        page.locator("#f-password").fill("a long pass phrase")
        page.locator("#f-password_again").fill("a long pass phrase")
        page.get_by_role("button", name="Send my details").click()
        page.wait_for_url("**/register/activate")
        note = page.inner_text("#mailbox-note")
        assert "borderpass outbox deliver" in note and "mailbox/" in note
        shoot(page, "en", "register-activate")

        page.goto(f"{site['url']}/language/zh_Hant?next=/sign-in")
        sign_in_resident(page, site)
        page.wait_for_url(f"{site['url']}/")
        assert page.get_by_role("heading", level=1).inner_text() == "陳大文，你好"
        shoot(page, "zh_Hant", "resident-home")
        page.get_by_role("button", name="登出").click()

        page.goto(f"{site['url']}/language/en?next=/staff/sign-in")
        sign_in_staff(page, site, "helpdesk")
        page.wait_for_url("**/officer/help-desk")
        assert page.locator("input[name=pin_channel]").count() == 0
        shoot(page, "en", "help-desk")
        page.get_by_role("button", name="Sign out").click()

        # An applicant finds slots at the demo's office on the next days.
        with unit_of_work(site["factory"]) as session:
            now = utcnow()
            application, token, _expires = permits.create_application(session, ApplicationIn(
                mainland_id=mainland_id(4242), name="趙敏", phone="+8613700137000",
                permit_number="C24681357", kind="emergency", destination="HK",
                reason="visit_critically_ill", relationship="parent", locale="zh_Hans"),
                now=now)
        page.goto(f"{site['url']}/language/zh_Hant?next=/permits/open")
        page.locator("#f-token").fill(token)
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_url("**/permits/application")
        assert "暫時沒有受理點接受預約" not in page.inner_text("main")
        book = page.locator("form[action='/permits/application/appointment'] button").first
        book.click()
        page.wait_for_url("**/permits/application")
        shoot(page, "zh_Hant", "permit-application")

        # The officer approving too early reads what is missing by name.
        page.goto(f"{site['url']}/language/zh_Hant?next=/staff/sign-in")
        sign_in_staff(page, site, "exitentry")
        page.wait_for_url("**/officer/permits")
        page.goto(f"{site['url']}/officer/permits/applications/{application.id}")
        page.locator("form:has(input[name=outcome][value=approve]) button[type=submit]").click()
        shown = page.inner_text("main")
        assert "尚未查閱" in shown
        assert "identity_card" not in shown and "critical_condition_notice" not in shown
        assert "往來港澳通行證" in shown
        shoot(page, "zh_Hant", "permit-review-incomplete")
    finally:
        context.close()
