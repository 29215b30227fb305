"""The endorsement pages in a real browser (headless Chromium, 360 px wide): an applicant
applies and books, an exit-entry officer checks the evidence and approves, the
applicant sees the decision. Screenshots go to ``test-artifacts/screenshots/``.

Skipped, saying why, when no Chromium is installed (``apt-get install chromium``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.web.test_browser import (  # the same served site, browser and helpers
    PHONE,
    browser,
    playwright,
    shoot,
    sign_in_staff,
    site,
)

try:
    from playwright.sync_api import Browser
except ImportError:  # pragma: no cover - test_browser above has skipped the module already
    pytest.skip("browser tests skipped: the playwright package is not installed",
                allow_module_level=True)

pytestmark = pytest.mark.slow

__all__ = ["browser", "playwright", "site"]  # fixtures re-used from the site's browser tests


def _office_with_slots(factory: Any) -> tuple[str, str]:
    """Open an office with slots tomorrow; return its code and tomorrow's date."""
    from borderpass.identity import service as identity
    from borderpass.kit.clock import hk_date, utcnow
    from borderpass.kit.db import unit_of_work
    from borderpass.permits import service
    from borderpass.permits.schemas import OfficeIn, SlotsIn

    now = utcnow()
    tomorrow = hk_date(now) + timedelta(days=1)
    with unit_of_work(factory) as session:
        service.create_office(session, OfficeIn(code="SZ-FUTIAN", name="深圳市福田出入境接待大廳",
                                                address="深圳市福田區"), now=now)
        publisher = identity.staff_principal(session, "supervisor")
        service.publish_slots(session, "SZ-FUTIAN", SlotsIn(day=tomorrow, opens="09:00",
                                                            closes="11:00", minutes=30,
                                                            capacity=3),
                              officer=publisher, now=now)
    return "SZ-FUTIAN", tomorrow.isoformat()


def test_apply_book_review_and_approve_in_the_browser(browser: Browser,
                                                      site: dict[str, Any]) -> None:
    office, day = _office_with_slots(site["factory"])
    from tests.permits.conftest import resident_id

    applicant = browser.new_context(viewport=PHONE)
    page = applicant.new_page()
    for locale in ("zh_Hant", "zh_Hans", "en"):
        page.goto(f"{site['url']}/language/{locale}?next=/permits")
        shoot(page, locale, "permits")
        page.goto(f"{site['url']}/permits/apply")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shoot(page, locale, "permits-apply")
    page.get_by_label("Name as on the identity card").fill("李明")
    page.get_by_label("Mainland resident identity card number").fill(resident_id())
    page.get_by_label("Exit-entry permit number").fill("C12345678")
    page.get_by_label("Mobile phone number").fill("+86 138 0013 8000")
    page.get_by_label("Emergency (special reason)", exact=True).check()
    page.get_by_label("Reason (optional)", exact=True).select_option("visit_critically_ill")
    page.locator("#f-relationship").select_option("parent")
    page.get_by_role("button", name="Apply", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Application received"
    reference = re.search(r"PA[0-9A-Z]{10}", page.inner_text("main"))
    assert reference is not None
    shoot(page, "en", "permits-applied")
    page.get_by_role("link", name="Book an appointment").click()
    page.goto(f"{site['url']}/permits/application?office={office}&day={day}")
    with page.expect_navigation():
        page.get_by_role("button", name="Book").first.click()
    assert "Your appointment is booked." in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "en", "permits-application")

    officer = browser.new_context(viewport=PHONE)
    desk = officer.new_page()
    desk.goto(f"{site['url']}/language/en?next=/staff/sign-in")
    sign_in_staff(desk, site, "exitentry")
    desk.wait_for_url("**/officer/permits")
    desk.goto(f"{site['url']}/officer/permits?office={office}&day={day}")
    shoot(desk, "en", "permits-appointments")
    with desk.expect_navigation():
        desk.get_by_role("link", name=reference.group(0)).click()
    desk.wait_for_load_state()
    # Each evidence item is its own form: identity card, permit, notice, relationship.
    items = desk.locator("form:has(input[value=seen])")
    assert items.count() == 4  # counted on the whole page, not while it still loads
    for index in range(items.count()):
        form = items.nth(index)  # found again on each freshly loaded page
        form.locator("input[value=seen]").check()
        with desk.expect_navigation():
            form.get_by_role("button", name="Save").click()
        assert "Saved." in desk.inner_text("main")
    desk.get_by_label("Stay per entry (days)").fill("7")
    with desk.expect_navigation():
        desk.get_by_role("button", name="Approve and issue the endorsement").click()
    assert "Approved: the endorsement is issued." in desk.inner_text("main")
    assert desk.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(desk, "en", "permits-review")
    officer.close()

    page.goto(f"{site['url']}/permits/application")
    assert "Endorsement number" in page.inner_text("main")
    assert page.get_by_role("link", name="Decision letter (PDF)").is_visible()
    shoot(page, "en", "permits-decided")
    applicant.close()
