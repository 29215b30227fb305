"""Journey 5 in a real browser (headless Chromium): at Lo Wu a border officer decides for
the demo travellers, one in each language — LEE Siu Ming (no test) refused, LI Zhiqiang
(mainland, approved emergency endorsement) to quarantine, CHAN Tai Man (green,
vaccinated, 14 days of records, a booked place) quarantine-free — and a resident books a
place. Screenshots at 390 px and 1280 px go to ``test-artifacts/screenshots/``.

Skipped, saying why, when no Chromium is installed (``apt-get install chromium``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.web.test_browser import (  # the same served site, browser and helpers
    browser,
    playwright,
    shoot,
    sign_in_resident,
    sign_in_staff,
    site,
)

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # pragma: no cover - test_browser above has skipped the module already
    pytest.skip("browser tests skipped: the playwright package is not installed",
                allow_module_level=True)

pytestmark = pytest.mark.slow

__all__ = ["browser", "playwright", "site"]  # fixtures re-used from the site's browser tests

NARROW = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
CHAN = ("hkid", "A123456(3)")
LEE = ("hkid", "Z437626(A)")
LI = ("mainland", "430102197506151237")


def _travellers(factory: Any) -> tuple[dict[tuple[str, str], str], str]:
    """Today's codes of the demo travellers, and LI Zhiqiang's endorsement number."""
    from sqlalchemy import select

    from borderpass.healthcode import service as healthcode
    from borderpass.kit.clock import utcnow
    from borderpass.kit.db import unit_of_work
    from borderpass.permits.models import Endorsement

    with unit_of_work(factory) as session:
        codes = {document: healthcode.issue_for_document(session, *document, now=utcnow()).text
                 for document in (CHAN, LEE, LI)}
        endorsement = session.scalars(select(Endorsement.number)).one()
    return codes, endorsement


def _decide(page: Page, document: tuple[str, str], code: str, endorsement: str = "") -> None:
    page.locator("#f-control_point").select_option("LWU")
    page.locator("#f-direction-south").check()
    page.locator("#f-document_kind").select_option(document[0])
    page.locator("#f-document_number").fill(document[1])
    page.locator("#f-code_text").fill(code)
    page.locator("#f-endorsement").fill(endorsement)
    page.locator("#decide").click()
    page.wait_for_selector("#decision")


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_border_decides_for_each_demo_traveller(browser: Browser,
                                                    site: dict[str, Any]) -> None:
    codes, endorsement = _travellers(site["factory"])
    officer = browser.new_context(viewport=NARROW)
    page = officer.new_page()
    page.goto(f"{site['url']}/language/zh_Hant?next=/officer/crossing")
    sign_in_staff(page, site, "border")
    page.goto(f"{site['url']}/officer/crossing")
    expect(page.get_by_role("heading", level=1)).to_have_text("通關決定")
    # Without the decoder the camera button says what to do instead; the text still works.
    page.locator("#camera-start").click()
    shoot(page, "zh_Hant", "crossing-decide-390")

    _decide(page, LEE, codes[LEE])
    expect(page.locator("#decision .scan-result")).to_have_text("拒絕通關")
    reasons = page.locator("#reasons li")
    expect(reasons).to_have_count(3)
    expect(reasons.first).to_contain_text("健康碼不是綠碼")
    _fits(page, NARROW["width"])
    shoot(page, "zh_Hant", "crossing-refused-390")

    page.goto(f"{site['url']}/language/zh_Hans?next=/officer/crossing")
    _decide(page, LI, codes[LI], endorsement)
    expect(page.locator("#decision .scan-result")).to_have_text("通关后须接受检疫")
    expect(page.locator("#quarantine")).to_contain_text("竹篙湾检疫中心")
    expect(page.locator("#reasons li")).to_have_text(
        ["免检疫安排只适用于香港居民；其他旅客须接受检疫。"])
    _fits(page, NARROW["width"])
    shoot(page, "zh_Hans", "crossing-quarantine-390")

    page.goto(f"{site['url']}/language/en?next=/officer/crossing")
    _decide(page, CHAN, codes[CHAN])
    expect(page.locator("#decision .scan-result")).to_have_text("Quarantine-free crossing")
    expect(page.locator("#decision")).to_contain_text(
        "A quarantine-free place is booked for today at this control point.")
    expect(page.locator("main")).to_contain_text("Hong Kong code")
    _fits(page, NARROW["width"])
    shoot(page, "en", "crossing-quarantine-free-390")
    page.get_by_text("Every rule applied").click()
    expect(page.locator("details table tbody tr")).to_have_count(8)
    officer.close()

    wide = browser.new_context(viewport=WIDE)
    desk = wide.new_page()
    desk.goto(f"{site['url']}/language/en?next=/officer/crossing")
    sign_in_staff(desk, site, "border")
    desk.goto(f"{site['url']}/officer/crossing?control_point=LWU")
    today = desk.locator("#today tbody tr")
    expect(today).to_have_count(3)
    expect(desk.locator("#today")).to_contain_text("code_not_green")
    _decide(desk, LEE, codes[LEE])
    expect(desk.locator("#decision .scan-result")).to_have_text("Crossing refused")
    shoot(desk, "en", "crossing-refused-1280")
    desk.goto(f"{site['url']}/officer/crossing/policy")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Crossing policy")
    expect(desk.locator("main")).to_contain_text("XS-ENDORSEMENT")
    shoot(desk, "en", "crossing-policy-1280")
    desk.goto(f"{site['url']}/officer/crossing/quota")
    expect(desk.locator("#quotas")).to_contain_text("49 / 50")  # CHAN's place, used
    shoot(desk, "en", "crossing-quota-1280")
    wide.close()


def test_a_resident_books_a_quarantine_free_place(browser: Browser,
                                                  site: dict[str, Any]) -> None:
    from borderpass.kit.clock import hk_date, utcnow

    resident = browser.new_context(viewport=NARROW)
    page = resident.new_page()
    page.goto(f"{site['url']}/language/en?next=/")
    sign_in_resident(page, site, LEE[1])
    page.get_by_role("link", name="Quarantine-free places").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a quarantine-free place")
    page.locator("#p-control_point").select_option("SBC")
    page.get_by_role("button", name="Show free places").click()
    tomorrow = hk_date(utcnow()) + timedelta(days=1)
    row = page.locator("#free-places tbody tr").nth(1)
    expect(row).to_contain_text("50 / 50")
    row.get_by_role("button").click()
    expect(page.locator(".flash")).to_contain_text("Your quarantine-free place is booked: QF")
    expect(page.locator("#my-bookings")).to_contain_text("Shenzhen Bay (SBC)")
    expect(page.locator("#my-bookings")).to_contain_text(f"{tomorrow:%-d %b %Y}")
    expect(page.locator("#free-places tbody tr").nth(1)).to_contain_text("49 / 50")
    _fits(page, NARROW["width"])
    shoot(page, "en", "crossing-book-390")
    page.goto(f"{site['url']}/language/zh_Hant?next=/crossing")
    expect(page.get_by_role("heading", level=1)).to_have_text("預約免檢疫名額")
    shoot(page, "zh_Hant", "crossing-book-390")
    page.get_by_role("button", name="取消預約", exact=False).first.click()
    expect(page.locator(".flash")).to_contain_text("你的預約已取消")
    expect(page.locator("#my-bookings")).to_contain_text("已取消")
    resident.close()
