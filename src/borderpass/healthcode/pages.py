"""Pages of the health code: today's code, the printable code, the scanner and the
health officers' dashboard. What they show is put in words by ``healthcode.views``."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from html import escape
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from borderpass.evidence import service as evidence
from borderpass.healthcode import service as healthcode
from borderpass.healthcode import views
from borderpass.healthcode.foreignscan import FORMAT_NAMES, KINDS, OTHER_PROBLEM, PROBLEMS
from borderpass.healthcode.keys import ANCHOR_KEYS, signing_key
from borderpass.identity import service as identity
from borderpass.identity.caller import require_page, session_token, signed_in, token_caller
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import hk_date
from borderpass.kit.config import get_settings
from borderpass.kit.errors import BorderpassError
from borderpass.kit.http import (
    DbSession,
    Now,
    WriteInRead,
    Writer,
    get_now,
    loop_reads_of,
    read_unit,
    refuse_unstorable_text,
    write_unit,
)
from borderpass.kit.i18n import _
from borderpass.kit.pages import (
    WEB,
    PageForm,
    csrf_protect,
    lean_page,
    page_locale,
    redirect,
    render,
    render_kept,
    text_fields,
    tr,
)

__all__ = ["CHART_DAYS", "CODE_PAGE", "chart_svg", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Resident = Annotated[Principal, require_page("resident")]
HelpDesk = Annotated[Principal, require_page("help_desk", "supervisor")]
BorderOfficer = Annotated[Principal, require_page("border_officer", "supervisor")]
HealthOfficer = Annotated[Principal, require_page("health_officer", "supervisor")]

CHART_DAYS = 14
COLOURS = (("green", "#0a6b33", _("Green")), ("amber", "#f2b705", _("Amber")),
           ("red", "#b3261e", _("Red")))


def _pdf(content: bytes, name: str) -> Response:
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"',
                             "Cache-Control": "no-store"})


# --- the resident's code -----------------------------------------------------------

async def code_page(request: Request) -> Response:
    """Show today's code, large, on the colour of the status."""
    await refuse_unstorable_text(request)
    now = await get_now(request)
    # The site's most viewed page: where the database allows, its usual case (the code
    # read from a saved status that holds, in the query that checks the session's token)
    # reads on the event loop, as a hop to a worker thread and back costs about as much
    # as the reads. Any other case, and every case on SQLite, reads in one worker thread
    # (who is signed in, the code and the page), not one for each dependency.
    reads = loop_reads_of(request)
    if reads is not None:
        async with reads() as session:
            shown = await session.run_sync(_kept_code_page, request, now)
        if shown is not None:
            return shown
    return await anyio.to_thread.run_sync(_code_page, request, now)


# Served as a lean page (``kit.pages.lean_page``), which the app puts before its other
# routes: finding it among the site's hundreds of routes and solving FastAPI's
# dependencies cost a quarter of the view.
CODE_PAGE = lean_page("/code", code_page)


def _no_writer() -> AbstractContextManager[Session]:
    raise WriteInRead("the code page read on the event loop writes nothing")


def _kept_code_page(session: Session, request: Request, now: datetime) -> Response | None:
    """Return the code page if the code is read from a saved status that holds, in the
    one query that checks the session's token too; None otherwise (``_code_page`` then
    answers, and says why when it refuses)."""
    token = session_token(request, session, now)
    read = views.todays_state_of_token(
        session, identity.token_hash(token), now=now,
        admit=lambda values: token_caller(values, now, "resident"),
    ) if token is not None else None
    if read is None:
        return None
    caller, state = read
    locale = page_locale(request)
    return render_kept(request, "resident/code.html", state.key, lambda: {
        "code": views.todays_code(session, caller.id, locale=locale, now=now,
                                  writer=_no_writer, state=state)})


def _code_page(request: Request, now: datetime) -> Response:
    locale = page_locale(request)
    with read_unit(request, each_on_its_own=True) as session:

        def writer() -> AbstractContextManager[Session]:
            return write_unit(request)

        # Usually one query reads the code and checks the session's token together; any
        # other case (no token, one not admitted, a status to evaluate) goes the long way.
        token = session_token(request, session, now)
        state: views.TodaysCode | None
        read = views.todays_state_of_token(
            session, identity.token_hash(token), now=now,
            admit=lambda values: token_caller(values, now, "resident"),
        ) if token is not None else None
        if read is not None:
            caller, state = read
        else:
            caller = signed_in(request, session, now, "resident")
            state = views.todays_state(session, caller.id, now=now, writer=writer)
        if state is None:
            return render(request, "resident/code.html", code=None)
        # Rendered again only when what it shows changed: the key holds the code, the
        # status and the day, read from the database on every view, so that a change
        # made by any process shows at once.
        return render_kept(request, "resident/code.html", state.key, lambda: {
            "code": views.todays_code(session, caller.id, locale=locale, now=now,
                                      writer=writer, state=state)})


@router.post("/code/refresh")
def code_refresh(request: Request, session: DbSession, now: Now, caller: Resident,
                 _form: PageForm) -> Response:
    """Re-evaluate the status and reissue today's code."""
    try:
        views.refresh_code(session, caller.id, now=now)
    except BorderpassError as error:
        return render(request, "resident/code.html", status=error.status, code=None,
                      errors={"form": error.render(page_locale(request))})
    return redirect("/code")


@router.get("/code.pdf")
def code_print(request: Request, session: DbSession, now: Now, caller: Resident,
               writer: Writer) -> Response:
    """Return today's code as a PDF to print."""
    locale = page_locale(request)
    content = views.code_pdf(session, caller.id, locale=locale, now=now, writer=writer)
    return _pdf(content, f"health-code-{hk_date(now).isoformat()}.pdf")


@router.get("/officer/help-desk/print/{person_id}")
def help_desk_print(request: Request, person_id: uuid.UUID, session: DbSession, now: Now,
                    _caller: HelpDesk, writer: Writer) -> Response:
    """Print today's code for a person registered at the help station."""
    locale = page_locale(request)
    content = views.code_pdf(session, person_id, locale=locale, now=now, writer=writer)
    return _pdf(content, f"health-code-{hk_date(now).isoformat()}.pdf")


# --- the scanner -------------------------------------------------------------------

SCANNER_DECODER = WEB / "static" / "vendor" / "jsQR.js"
SCANNER_WORKER = WEB / "static" / "js" / "scan-sw.js"


def _scan_page(request: Request, now: datetime, status: int = 200,
               result: views.ScanResult | None = None,
               errors: dict[str, str] | None = None) -> Response:
    # The page names the site's anchor: the scanner on the device refuses lists signed by
    # any other key, fetched or kept (scan.js).
    return render(request, "officer/scan.html", status=status, result=result,
                  errors=errors or {}, camera_decoder=SCANNER_DECODER.exists(),
                  code_prefix=get_settings().code_prefix, scan_problems=views.SCAN_PROBLEMS,
                  not_a_code=views.NOT_A_CODE,
                  anchor=signing_key(ANCHOR_KEYS, now).kid.hex(),
                  issuers=views.issuer_texts(locale=page_locale(request)),
                  foreign_formats=FORMAT_NAMES, foreign_kinds=KINDS,
                  foreign_problems=PROBLEMS, foreign_other=OTHER_PROBLEM)


@router.get("/officer/scan")
def scan_page(request: Request, now: Now, _caller: BorderOfficer) -> Response:
    """Show the scanner: camera, photo or pasted text."""
    return _scan_page(request, now)


@router.get("/officer/scan-worker.js")
def scan_worker() -> Response:
    """Serve the scanner's service worker, which keeps the scanner working offline.

    It is served from ``/officer/`` so that it may control the scanner page.
    """
    return FileResponse(SCANNER_WORKER, media_type="text/javascript",
                        headers={"Cache-Control": "no-cache"})


def _scan(request: Request, session: DbSession, now: datetime, text: str) -> Response:
    locale = page_locale(request)
    if not text:
        return _scan_page(request, now, 422,
                          errors={"code_text": tr(locale, _("Paste the text of a code."))})
    try:
        result = views.verify_scanned(session, text, locale=locale, now=now)
    except BorderpassError as error:
        return _scan_page(request, now, error.status, errors={"form": error.render(locale)})
    return _scan_page(request, now, result=result)


@router.post("/officer/scan/text")
def scan_text(request: Request, session: DbSession, now: Now, _caller: BorderOfficer,
              form: PageForm) -> Response:
    """Verify a code pasted as text."""
    return _scan(request, session, now, text_fields(form, ["code_text"])["code_text"])


@router.post("/officer/scan/photo")
def scan_photo(request: Request, session: DbSession, now: Now, _caller: BorderOfficer,
                     form: PageForm) -> Response:
    """Verify the code in an uploaded photo."""
    upload = form.get("photo")
    locale = page_locale(request)
    if not isinstance(upload, UploadFile):
        return _scan_page(request, now, 422,
                          errors={"photo": tr(locale, _("Choose a photo of the code."))})
    try:
        text = views.decode_photo(upload.file.read(10 * 1024 * 1024))
    except BorderpassError as error:
        return _scan_page(request, now, error.status, errors={error.field or "form":
                                                              error.render(locale)})
    return _scan(request, session, now, text)


# --- the health officers' dashboard ------------------------------------

def chart_svg(days: list[healthcode.DayCount], locale: str) -> Markup:
    """Draw codes issued per day as stacked bars (green, amber, red), as inline SVG.

    The same figures are also given as a table beside the chart, for screen readers.
    """
    width, height, left, bottom, top = 640, 260, 44, 40, 12
    plot_h = height - bottom - top
    peak = max((d.green + d.amber + d.red for d in days), default=0) or 1
    step = (width - left - 8) / max(len(days), 1)
    bar = step * 0.7
    title = escape(tr(locale, _("Codes issued per day by colour")))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-labelledby="chart-title"><title id="chart-title">{title}'
             "</title>"]
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" x2="{width - 4}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#c8c8c8"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="14" fill="#1b1b1b">{round(peak * fraction)}</text>')
    for index, day in enumerate(days):
        x = left + index * step + (step - bar) / 2
        y = top + plot_h
        for name, fill, _label in COLOURS:
            count = getattr(day, name)
            if count:
                h = plot_h * count / peak
                y -= h
                parts.append(f'<rect class="bar-{name}" x="{x:.1f}" y="{y:.1f}" '
                             f'width="{bar:.1f}" height="{h:.1f}" fill="{fill}"/>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle" font-size="13" fill="#1b1b1b">'
                     f"{day.day.month}/{day.day.day}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from numbers and escaped text only


@router.get("/officer/dashboard")
def dashboard(request: Request, session: DbSession, now: Now, _caller: HealthOfficer) -> Response:
    """Show codes issued per day by colour, and the orders and areas in force."""
    days = healthcode.codes_issued_per_day(session, days=CHART_DAYS, now=now)
    locale = page_locale(request)
    first = hk_date(now - timedelta(days=CHART_DAYS - 1))
    return render(request, "officer/dashboard.html", days=days,
                  chart=chart_svg(days, locale) if days else None, first_day=first,
                  last_day=hk_date(now), colours=COLOURS,
                  areas=evidence.high_risk_areas(session, now=now),
                  orders=evidence.testing_orders_in_force(session, now=now))
