"""WCAG 2.1 AA on every page the site serves, checked by axe-core in Chromium.

The pages come from the app's routes: every GET route outside the API and the static
files that answers with HTML must have an entry in ``PAGES`` saying how to reach a
meaningful state of it (who is signed in, which path parameters, what to do on it); a
route with no entry fails ``test_every_page_has_an_axe_entry``, so a new page cannot
go unchecked. Routes that answer with something else (a PDF, JSON, a script, a
redirect) are listed in ``NOT_PAGES`` with what they answer, and
``test_routes_said_not_to_be_pages_are_not_html`` checks those it can reach without a
sign-in. There is no other way out: no page is left unchecked and no violation is
accepted for any page.

Each state is loaded once per language (Traditional Chinese, Simplified Chinese,
English) and checked at 1280 px, then, on the same load, at 390 px. A check fails on
any violation of a rule tagged wcag2a, wcag2aa, wcag21a or wcag21aa. The site's Content
Security Policy forbids the inline script that injects axe, so the test contexts bypass
it (``bypass_csp``); the CSP itself is checked by the other browser tests.

axe-core is the npm package pinned in package.json (``make setup`` installs it);
without it, or without Chromium, the browser tests are skipped saying why.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("BORDERPASS_CHROMIUM") or shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
PASSWORD = "borderpass-demo"  # noqa: S105 - the published demo password (README.md)
LANGUAGES = ("zh_Hant", "zh_Hans", "en")
WIDTHS = (1280, 390)
HEIGHT = 900
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PARALLEL = 4  # pages open at once in the one browser
ERROR_TITLE = {"zh_Hant": "錯誤：", "zh_Hans": "错误：", "en": "Error: "}

Action = Callable[[Any, "Site"], Awaitable[None]]


# ----------------------------------------------------------------------- what to visit

@dataclass(frozen=True)
class State:
    """One state of a page: who looks at it, the path to load and what to do there."""

    role: str
    path: str  # may hold {application_id} and the other ids of ``Site.ids``
    then: Action | None = None
    name: str = ""
    languages: tuple[str, ...] = ("zh_Hant", "zh_Hans", "en")
    errors: bool = False  # the page answers a form with errors


async def _submit(page: Any, _site: Site | None, form: str = "main form.stacked") -> None:
    """Send a form as it is (empty or with what was filled in), past the browser's own
    checks, to see the server's errors."""
    await page.locator(form).first.evaluate("(form) => { form.noValidate = true; }")
    async with page.expect_navigation():
        await page.locator(f"{form} button[type=submit]").first.click()


def _fill_then_submit(values: dict[str, str]) -> Action:
    async def act(page: Any, site: Site) -> None:
        for selector, value in values.items():
            await page.locator(selector).fill(value)
        await _submit(page, site)
    return act


async def _delete_unconfirmed(page: Any, site: Site) -> None:
    """Ask to delete the account without ticking the confirmation."""
    await _submit(page, None, "form[action='/account/delete']")


async def _api_reference_drawn(page: Any, _site: Site) -> None:
    """Wait until Swagger UI has fetched the OpenAPI document and drawn the operations.

    Beside the other pages and another test process, parsing the 1.5 MB viewer and
    building the document can take longer than a page's usual 30 s; if nothing is drawn
    in 90 s, say what the viewer shows (its own error names a failed fetch)."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        await page.locator(".opblock-summary-control").first.wait_for(timeout=90_000)
    except PlaywrightTimeout:
        shown = await page.locator("body").inner_text()
        raise AssertionError(f"Swagger UI drew no operation in 90 s; the page shows "
                             f"{shown[:600]!r}") from None


def _operation(page: Any, method: str, path: str) -> Any:
    return page.locator(f".opblock-{method}:has(.opblock-summary-path[data-path='{path}'])")


async def _api_reference_used(page: Any, site: Site) -> None:
    """Use the API reference: call an operation from it and read the answer, open a
    request body with numbers in its example, and open a schema to its depth."""
    await _api_reference_drawn(page, site)
    check = _operation(page, "get", "/api/documents/check")
    body = _operation(page, "post", "/api/permits/offices/{code}/slots")
    for operation in (check, body):
        assert await operation.count() == 1, (
            "an operation the /docs check opens is no longer in the API; choose another")
        await operation.locator(".opblock-summary-control").click()
        await operation.locator(".try-out__btn").click()
    await check.locator("tr[data-param-name='kind'] input").fill("hkid")
    await check.locator("tr[data-param-name='number'] input").fill("A123456(3)")
    await check.locator(".btn.execute").click()
    await check.locator(".live-responses-table").wait_for()
    await body.locator("textarea.body-param__text").wait_for()
    await page.locator("section.models .json-schema-2020-12-expand-deep-button").first.click()
    await page.locator("section.models .json-schema-2020-12-body").first.wait_for()


# Who can be signed in: the key of a role is what ``_sign_in`` does for it.
STAFF = {"officer": "health_officer", "border": "border_officer", "helpdesk": "help_desk",
         "exitentry": "exit_entry_officer", "supervisor": "supervisor"}
ROLES = ("visitor", "resident", "registering", "activating", "applicant", *STAFF)

PAGES: dict[str, list[State]] = {
    "/": [State("visitor", "/"), State("resident", "/", name="resident home")],
    "/officer": [State("officer", "/officer")],
    "/register": [State("visitor", "/register")],
    "/register/details": [
        State("registering", "/register/details"),
        State("registering", "/register/details", _submit, name="nothing filled in", errors=True),
    ],
    "/register/activate": [
        State("activating", "/register/activate"),
        State("activating", "/register/activate", _fill_then_submit({"#f-pin": "000000"}),
              name="wrong PIN", errors=True),
    ],
    "/sign-in": [
        State("visitor", "/sign-in"),
        State("visitor", "/sign-in", _fill_then_submit(
            {"#f-document_number": "Z437626(A)", "#f-password": "not the password"}),
            name="wrong password", errors=True),
    ],
    "/account": [
        State("resident", "/account"),
        State("resident", "/account", _delete_unconfirmed,
              name="delete not confirmed", errors=True),
    ],
    "/account/prove": [State("resident", "/account/prove")],
    "/account/children": [State("resident", "/account/children")],
    "/staff/sign-in": [
        State("visitor", "/staff/sign-in"),
        State("visitor", "/staff/sign-in", _fill_then_submit(
            {"#f-username": "officer", "#f-password": "not the password"}),
            name="wrong password", errors=True),
    ],
    "/officer/help-desk": [
        State("helpdesk", "/officer/help-desk"),
        State("helpdesk", "/officer/help-desk", _submit, name="nothing filled in", errors=True),
    ],
    "/officer/help-desk/unlock": [State("helpdesk", "/officer/help-desk/unlock")],
    "/officer/help-desk/prove": [State("helpdesk", "/officer/help-desk/prove")],
    "/officer/identity-cases": [State("helpdesk", "/officer/identity-cases")],
    "/evidence": [State("resident", "/evidence")],
    "/officer/cases": [State("officer", "/officer/cases")],
    "/officer/testing-orders": [State("officer", "/officer/testing-orders")],
    "/officer/high-risk-areas": [State("officer", "/officer/high-risk-areas")],
    "/officer/case-visits": [State("officer", "/officer/case-visits")],
    "/officer/dashboard": [State("officer", "/officer/dashboard")],
    "/officer/rule-sets": [State("officer", "/officer/rule-sets")],
    "/code": [State("resident", "/code")],
    "/officer/scan": [State("border", "/officer/scan")],
    "/officer/crossing": [State("border", "/officer/crossing")],
    "/officer/crossing/policy": [State("officer", "/officer/crossing/policy")],
    "/officer/crossing/quota": [State("supervisor", "/officer/crossing/quota")],
    "/crossing": [State("resident", "/crossing")],
    "/convert": [State("resident", "/convert")],
    "/app/checkin": [State("resident", "/app/checkin")],
    "/app/echannel": [State("resident", "/app/echannel")],
    "/app/echannel/gates": [State("border", "/app/echannel/gates")],
    "/permits": [State("visitor", "/permits")],
    "/permits/apply": [
        State("visitor", "/permits/apply"),
        State("visitor", "/permits/apply", _submit, name="nothing filled in", errors=True),
    ],
    "/permits/open": [State("visitor", "/permits/open")],
    "/permits/application": [State("applicant", "/permits/application",
                                   name="booked, with times to move to")],
    "/officer/permits": [State("exitentry", "/officer/permits")],
    "/officer/permits/applications/{application_id}": [
        State("exitentry", "/officer/permits/applications/{decided_id}", name="approved"),
        State("exitentry", "/officer/permits/applications/{booked_id}", name="booked"),
    ],
    "/officer/permits/supervisor": [State("supervisor", "/officer/permits/supervisor")],
    "/officer/permits/slots": [State("supervisor", "/officer/permits/slots")],
    # Swagger UI, in English whatever the language chosen (as the API itself is).
    "/docs": [
        State("visitor", "/docs", _api_reference_drawn, languages=("en",),
              name="API reference"),
        State("visitor", "/docs", _api_reference_used, languages=("en",),
              name="an operation called, a request body and a schema open"),
    ],
}

# GET routes outside /api and /static that do not answer with an HTML page.
NOT_PAGES = {
    "/openapi.json": "JSON",
    "/readyz": "JSON",
    "/metrics": "Prometheus text",
    "/healthz": "JSON",
    "/language/{locale}": "a redirect back to the page",
    "/officer/testing-orders/venues": "JSON for the venue picker",
    "/code.pdf": "PDF",
    "/officer/help-desk/print/{person_id}": "PDF",
    "/officer/scan-worker.js": "a service worker script",
    "/permits/application/letter": "PDF",
    "/officer/permits/applications/{application_id}/letter": "PDF",
    "/app/checkin/manifest.webmanifest": "a web app manifest (JSON)",
    "/app/checkin-worker.js": "a service worker script",
    "/favicon.ico": "an icon",
}


def page_routes() -> list[str]:
    """Return the path of every GET route of the app outside the API and static files."""
    from borderpass.web.app import create_app

    def walk(routes: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:  # an included router, kept as it was declared
                yield from walk(included.routes, prefix + (route.include_context.prefix or ""))
            else:
                yield prefix + getattr(route, "path", ""), route

    found = []
    for path, route in walk(create_app().routes):
        if "GET" not in (getattr(route, "methods", None) or ()):
            continue
        if path.startswith(("/api/", "/static/")):
            continue
        found.append(path)
    return sorted(set(found))


def test_every_page_has_an_axe_entry() -> None:
    routes = page_routes()
    missing = [path for path in routes if path not in PAGES and path not in NOT_PAGES]
    assert not missing, ("pages with no entry in PAGES (how to reach a meaningful state for "
                         f"the axe check) or NOT_PAGES: {missing}")
    gone = sorted((set(PAGES) | set(NOT_PAGES)) - set(routes))
    assert not gone, f"entries for routes the app no longer has: {gone}"
    for path, states in PAGES.items():
        assert states, f"{path} has no state to check"
        assert all(state.role in ROLES for state in states), path


def test_routes_said_not_to_be_pages_are_not_html(client: Any) -> None:
    # Those that answer without a sign-in or a path parameter; the PDFs and the redirect
    # are checked by their own tests.
    for path in NOT_PAGES:
        if "{" in path:
            continue
        answer = client.get(path, follow_redirects=False)
        if answer.status_code != 200:
            continue
        assert not answer.headers["content-type"].startswith("text/html"), path


# ----------------------------------------------------------------------- the site

@dataclass
class Site:
    url: str
    factory: Any
    ids: dict[str, str] = field(default_factory=dict)
    permit_token: str = ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _booked_application(session: Any, now: Any) -> tuple[str, str]:
    """Apply for an endorsement and book the first free time; return its id and token."""
    from borderpass.demo import PERMIT_OFFICE
    from borderpass.identity.schemas import Principal
    from borderpass.kit.clock import hk_date
    from borderpass.permits import service as permits
    from borderpass.permits.schemas import ApplicationIn
    from tests.web.served import mainland_id

    application, token, _expires = permits.create_application(session, ApplicationIn(
        mainland_id=mainland_id(4242), name="王小红", phone="+8613900139000",
        permit_number="C12345678", kind="emergency", destination="HK",
        reason="medical_treatment", locale="zh_Hans"), now=now)
    slot = permits.list_slots(session, PERMIT_OFFICE, hk_date(now) + timedelta(days=2))[0]
    applicant = Principal(kind="applicant", id=application.id, role="applicant")
    permits.book(session, application.id, slot.id, caller=applicant, now=now)
    return str(application.id), token


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """Serve the app on a throwaway database with the demo data and a booked application."""
    import uvicorn
    from sqlalchemy import text

    from borderpass import demo
    from borderpass.kit.clock import utcnow
    from borderpass.kit.db import engine_for, session_factory, unit_of_work
    from borderpass.migrations import upgrade
    from borderpass.web.app import create_app

    if CHROMIUM is None:
        pytest.skip("accessibility tests skipped: no Chromium found (install Debian's "
                    "`chromium` package or set BORDERPASS_CHROMIUM)")
    if not AXE.exists():
        pytest.skip(f"accessibility tests skipped: {AXE} is missing (run `make setup`, "
                    "which installs the npm packages)")
    pytest.importorskip("playwright.async_api")
    folder = Path(tempfile.mkdtemp(prefix="borderpass-a11y-"))
    url = f"sqlite:///{folder / 'site.sqlite3'}"
    upgrade(url)
    engine = engine_for(url)
    factory = session_factory(engine)
    now = utcnow()
    with unit_of_work(factory) as session:
        demo.load(session, now=now)
        booked_id, token = _booked_application(session, now)
        others = [uuid.UUID(str(row)) for row in session.execute(text(
            "SELECT id FROM permit_applications")).scalars()]
        # The demo's one application, LI Zhiqiang's, is approved.
        (decided,) = [found for found in others if found != uuid.UUID(booked_id)]
    app = create_app()
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
    yield Site(f"http://127.0.0.1:{port}", factory,
               {"booked_id": booked_id, "decided_id": str(decided)}, token)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


# ----------------------------------------------------------------------- signing in

async def _sign_in(page: Any, site: Site, role: str) -> None:
    """Bring a fresh context's session into the state a role needs."""
    from tests.web.served import hkid

    if role == "visitor":
        await page.goto(f"{site.url}/")
    elif role == "resident":
        await page.goto(f"{site.url}/sign-in")
        await page.locator("#f-document_number").fill("A123456(3)")
        await page.locator("#f-password").fill(PASSWORD)
        async with page.expect_navigation():
            await page.locator("main button[type=submit]").click()
    elif role in STAFF:
        await page.goto(f"{site.url}/staff/sign-in")
        await page.locator("#f-username").fill(role)
        await page.locator("#f-password").fill(PASSWORD)
        async with page.expect_navigation():
            await page.locator("main button[type=submit]").click()
    elif role in ("registering", "activating"):
        await page.goto(f"{site.url}/register")
        async with page.expect_navigation():
            await page.locator("main button[type=submit]").click()
        if role == "activating":
            await page.locator("#f-name_zh").fill("張小芬")
            await page.locator("#f-name_en").fill("CHEUNG Siu Fan")
            await page.locator("#f-document_number").fill(hkid(424242, "B"))
            await page.locator("#f-document_issued_on").fill("2019-05-02")
            await page.locator("#f-phone").fill("+852 6123 4567")
            await page.locator("#f-address").fill("Flat D, 20/F, 8 Example Street, Sha Tin")
            await page.locator("#f-proof").set_input_files(files=[{
                "name": "bill.pdf", "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n%proof\n%%EOF\n"}])
            await page.locator("#f-password").fill("a long pass phrase")
            await page.locator("#f-password_again").fill("a long pass phrase")
            async with page.expect_navigation():
                await page.locator("main form.stacked button[type=submit]").click()
            assert page.url.endswith("/register/activate"), page.url
    elif role == "applicant":
        await page.goto(f"{site.url}/permits/open")
        await page.locator("#f-token").fill(site.permit_token)
        async with page.expect_navigation():
            await page.locator("main button[type=submit]").click()
    else:
        raise AssertionError(f"no way to sign in as {role!r}")


# ----------------------------------------------------------------------- the check

@dataclass(frozen=True)
class Finding:
    where: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        shown = ", ".join(self.targets[:4]) + (" …" if len(self.targets) > 4 else "")
        return f"{self.where}: {self.rule} ({self.impact}) {self.help} — {shown}"


AXE_SECONDS: list[float] = []  # time spent in axe.run, for the figures printed


async def _axe(page: Any) -> list[dict[str, Any]]:
    started = time.monotonic()
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                                    resultTypes: ["violations"]});
            return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map((n) => n.target.join(" "))}));
        }""", WCAG_AA)
    AXE_SECONDS.append(time.monotonic() - started)
    return found


async def _check(context: Any, site: Site, route: str, state: State, language: str
                 ) -> tuple[list[Finding], str]:
    page = await context.new_page()
    try:
        await page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
        path = state.path.format(**site.ids)
        response = await page.goto(f"{site.url}{path}")
        if response is None or response.status >= 400:
            # Not the state the table means: say so rather than check an error page.
            return [Finding(f"{route} [{state.name or state.role}] {language}", "not-reached",
                            "", f"answered {response.status if response else 'nothing'}",
                            (page.url,))], ""
        if state.then is not None:
            await state.then(page, site)
        await page.wait_for_load_state("load")
        html_lang = await page.get_attribute("html", "lang")
        findings = []
        if state.errors:
            # The errors are said first: in the title, and where the focus starts.
            title, focused = await page.evaluate(
                "() => [document.title, document.activeElement && document.activeElement.id]")
            if not title.startswith(ERROR_TITLE[language]) or focused != "error-summary":
                findings.append(Finding(f"{route} [{state.name}] {language}", "error-summary",
                                        "", f"title {title!r}, focus on #{focused}", ()))
        for width in WIDTHS:
            if width != WIDTHS[0]:
                await page.set_viewport_size({"width": width, "height": HEIGHT})
                # Let the page's resize handlers run (tables.js) before axe looks.
                await page.evaluate("() => new Promise((done) => requestAnimationFrame("
                                    "() => requestAnimationFrame(done)))")
            where = (f"{route} [{state.name or state.role}] {language} {width}px")
            findings += [Finding(where, v["id"], v["impact"] or "", v["help"],
                                 tuple(v["targets"])) for v in await _axe(page)]
        return findings, html_lang or ""
    finally:
        await page.close()


async def _check_all(site: Site, states: list[tuple[str, State]]) -> tuple[list[Finding], int]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   args=["--no-sandbox"])
        try:
            # One signed-in session per role, shared by its three language contexts.
            roles = sorted({state.role for _route, state in states})
            stored: dict[str, Any] = {}

            async def prepare(role: str) -> None:
                context = await browser.new_context(bypass_csp=True)
                page = await context.new_page()
                await _sign_in(page, site, role)
                stored[role] = await context.storage_state()
                await context.close()

            await asyncio.gather(*(prepare(role) for role in roles))
            contexts: dict[tuple[str, str], Any] = {}
            for role in roles:
                for language in LANGUAGES:
                    context = await browser.new_context(bypass_csp=True,
                                                        storage_state=stored[role])
                    await context.add_cookies([{"name": "locale", "value": language,
                                                "url": site.url}])
                    contexts[role, language] = context
            gate = asyncio.Semaphore(PARALLEL)
            checked = 0

            async def one(route: str, state: State, language: str) -> list[Finding]:
                nonlocal checked
                async with gate:
                    findings, html_lang = await _check(contexts[state.role, language], site,
                                                       route, state, language)
                    checked += len(WIDTHS)
                    expected = {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans", "en": "en"}
                    if html_lang and not html_lang.startswith(expected[language]):
                        findings.append(Finding(f"{route} {language}", "wrong-language", "",
                                                f"lang={html_lang!r}", ()))
                    return findings

            results = await asyncio.gather(*(one(route, state, language)
                                             for route, state in states
                                             for language in state.languages))
            for context in contexts.values():
                await context.close()
            return [finding for found in results for finding in found], checked
        finally:
            await browser.close()


@pytest.mark.slow
def test_every_page_meets_wcag_21_aa(site: Site) -> None:
    states = [(route, state) for route in page_routes() if route in PAGES
              for state in PAGES[route]]
    started = time.monotonic()
    findings, checked = asyncio.run(_check_all(site, states))
    seconds = time.monotonic() - started
    print(f"axe: {len(states)} page states in up to {len(LANGUAGES)} languages x "
          f"{len(WIDTHS)} widths = {checked} checks in {seconds:.1f} s ({PARALLEL} at a "
          f"time; axe itself {sum(AXE_SECONDS):.1f} s summed over the checks)")
    assert not findings, (f"{len(findings)} WCAG 2.1 A/AA violations:\n"
                          + "\n".join(str(finding) for finding in findings))


# ----------------------------------------------------------------------- keyboard only

async def _tab_to(page: Any, selector: str, most: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus; each element
    passed on the way must show that it has it (WCAG 2.4.7)."""
    for _ in range(most):
        await page.keyboard.press("Tab")
        state = await page.evaluate(
            """(selector) => {
                const here = document.activeElement;
                if (!here || here === document.body) { return {at: false, shown: true}; }
                const style = getComputedStyle(here);
                const shown = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
                    || style.boxShadow !== "none";
                return {at: here.matches(selector), shown: shown,
                        what: here.outerHTML.slice(0, 120)};
            }""", selector)
        assert state["shown"], f"no visible focus on {state.get('what')}"
        if state["at"]:
            return
    raise AssertionError(f"{selector} not reached with {most} presses of Tab on {page.url}")


async def _wait_for_text(page: Any, selector: str, text: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while text not in (await page.locator(selector).inner_text()):
        assert time.monotonic() < deadline, f"{selector} never said {text!r}"
        await asyncio.sleep(0.1)


async def _walk_by_keyboard(site: Site) -> None:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    from tests.web.served import hkid
    from tests.web.test_browser import latest_pin

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   args=["--no-sandbox"])
        try:
            context = await browser.new_context(viewport={"width": 390, "height": 844},
                                                locale="en-GB", accept_downloads=True)
            await context.add_cookies([{"name": "locale", "value": "en", "url": site.url}])
            page = await context.new_page()
            keys = page.keyboard
            await page.goto(f"{site.url}/")
            await _tab_to(page, "a.skip")
            await _tab_to(page, "header a[href='/register']")
            async with page.expect_navigation():
                await keys.press("Enter")
            await _tab_to(page, "main button[type=submit]")
            async with page.expect_navigation():
                await keys.press("Enter")
            assert page.url.endswith("/register/details")
            # More time, asked for without leaving the page, and said in the status line.
            await _tab_to(page, "#extend")
            await keys.press("Enter")
            await _wait_for_text(page, "#extend-status", "You have 45 minutes left.")
            assert page.url.endswith("/register/details")
            typed = {"#f-name_zh": "張小芬", "#f-name_en": "CHEUNG Siu Fan",
                     "#f-document_number": hkid(515151, "B"), "#f-document_issued_on": "05052019",
                     "#f-phone": "+852 6123 4567",
                     "#f-address": "Flat D, 20/F, 8 Example Street, Sha Tin"}
            for selector, text in typed.items():
                await _tab_to(page, selector)
                await keys.type(text)
            # Day and month alike: the same whichever order the browser asks for them in.
            assert await page.input_value("#f-document_issued_on") == "2019-05-05"
            await _tab_to(page, "#f-proof")
            chosen = None
            for _attempt in range(3):
                # Chromium opens a file field with Space, not Enter. On a busy machine it
                # now and then lets a press pass without opening the chooser: a person
                # would press again.
                try:
                    async with page.expect_file_chooser(timeout=10_000) as chooser:
                        await keys.press("Space")
                except PlaywrightTimeout:
                    continue
                chosen = await chooser.value
                break
            assert chosen is not None, "Space on the proof field opened no file chooser"
            await chosen.set_files(files=[{
                "name": "bill.pdf", "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n%proof\n%%EOF\n"}])
            for selector in ("#f-password", "#f-password_again"):
                await _tab_to(page, selector)
                await keys.type("a long pass phrase")
            await _tab_to(page, "main form.stacked button[type=submit]")
            async with page.expect_navigation():
                await keys.press("Enter")
            assert page.url.endswith("/register/activate"), page.url
            pin = await asyncio.to_thread(latest_pin, site.factory)
            await _tab_to(page, "#f-pin")
            await keys.type(pin)
            async with page.expect_navigation():
                await keys.press("Enter")  # Enter in a field sends its form
            assert page.url == f"{site.url}/", page.url
            await _tab_to(page, "nav a[href='/code']")
            async with page.expect_navigation():
                await keys.press("Enter")
            assert page.url.endswith("/code")
            await _tab_to(page, "a[href='/code.pdf']")
            # The browser shows the PDF or saves it, as it is set up to: either way the
            # code's PDF is what Enter on the link fetched.
            async with page.expect_response(lambda r: r.url.endswith("/code.pdf")) as answer:
                await keys.press("Enter")
            printed = await answer.value
            assert printed.status == 200, printed.status
            assert printed.headers["content-type"].startswith("application/pdf")
            await context.close()
        finally:
            await browser.close()


@pytest.mark.slow
def test_register_get_the_code_and_print_it_by_keyboard_alone(site: Site) -> None:
    asyncio.run(_walk_by_keyboard(site))
