"""Today's red code on a 390 px phone, in each language: it says why and what would change
it, and names no date when nothing known changes it by itself. Screenshots are saved
under ``test-artifacts/screenshots/<locale>/code-red-390.png``."""

from __future__ import annotations

from typing import Any

import pytest

# The served demo site and the browser are the browser tests' own module fixtures.
from tests.web.test_browser import (  # noqa: F401
    browser,
    playwright,
    shoot,
    sign_in_resident,
    site,
)

pytestmark = pytest.mark.slow

WHAT_CHANGES_IT = {
    "en": "Your code turns green when the negative result arrives.",
    "zh_Hant": "收到陰性結果後，你的健康碼便會轉為綠碼。",
    "zh_Hans": "收到阴性结果后，你的健康码会转为绿码。",
}


@pytest.mark.parametrize("locale", ["zh_Hant", "zh_Hans", "en"])
def test_red_code_names_no_date_when_nothing_changes_it_by_itself(
    request: pytest.FixtureRequest, locale: str
) -> None:
    served: dict[str, Any] = request.getfixturevalue("site")
    context = request.getfixturevalue("browser").new_context(
        viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{served['url']}/language/{locale}?next=/")
        sign_in_resident(page, served, "Z437626(A)")  # LEE Siu Ming: no test on file
        page.wait_for_url(f"{served['url']}/")
        page.goto(f"{served['url']}/code")
        card = page.locator("section.code")
        assert "red" in (card.get_attribute("class") or "")
        text = card.inner_text()
        assert WHAT_CHANGES_IT[locale] in text
        assert "2030" not in text, "the end of the rule set is not a change of the code"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, locale, "code-red-390")
    finally:
        context.close()
