"""The FastAPI application: routers, error rendering, request logging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

import borderpass
from borderpass.checkin import api as checkin_api
from borderpass.checkin import pages as checkin_pages
from borderpass.crossing import api as crossing_api
from borderpass.crossing import pages as crossing_pages
from borderpass.crossing import partners_api as crossing_partners_api
from borderpass.crossing import partners_pages as crossing_partners_pages
from borderpass.echannel import api as echannel_api
from borderpass.echannel import pages as echannel_pages
from borderpass.evidence import api as evidence_api
from borderpass.evidence import pages as evidence_pages
from borderpass.healthcode import api as healthcode_api
from borderpass.healthcode import pages as healthcode_pages
from borderpass.identity import api as identity_api
from borderpass.identity import pages as identity_pages
from borderpass.kit import jobs, offload
from borderpass.kit.config import get_settings
from borderpass.kit.db import DatabaseBusy
from borderpass.kit.errors import BorderpassError, Unauthorised
from borderpass.kit.http import (
    UnstorableText,
    close_loop_reads_of,
    refuse_unstorable_text,
    request_locale,
)
from borderpass.kit.i18n import _
from borderpass.kit.logging import configure_logging, get_logger
from borderpass.kit.metrics import RequestMetrics
from borderpass.kit.outbox import check_sender
from borderpass.kit.pages import WEB, page_locale, redirect, render, tr
from borderpass.kit.sessions import ServerSessions
from borderpass.permits import api as permits_api
from borderpass.permits import pages as permits_pages
from borderpass.rules import api as rules_api
from borderpass.rules import pages as rules_pages
from borderpass.web import health, pages
from borderpass.web.docs import mount_docs
from borderpass.web.limits import Admission, BodyLimit, RequestLog
from borderpass.web.security import SecurityHeaders
from borderpass.wiring import wire

__all__ = ["PAGE_ROUTERS", "create_app"]

# Every router of HTML pages; each checks the CSRF token of every form it receives.
PAGE_ROUTERS = (pages.router, identity_pages.router, evidence_pages.router, echannel_pages.router,
                healthcode_pages.router, rules_pages.router, permits_pages.router,
                crossing_partners_pages.router, crossing_pages.router, checkin_pages.router)

log = get_logger(__name__)


_locale = request_locale


_NOT_PAGES = ("/api", "/docs", "/openapi.json", "/healthz", "/readyz", "/metrics", "/static",
              "/favicon.ico")
# Pages that read their session themselves, in their one worker thread (the code page,
# the most viewed: ``identity.caller.signed_in``).
_DEFERRED = frozenset({"/code"})


def _is_page(request: Request) -> bool:
    """Tell whether a request is for a page (errors as HTML) rather than the API (JSON)."""
    return not request.url.path.startswith(_NOT_PAGES)


def _error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", status=status, status_code=status, message=message)


def _page_error(request: Request, error: BorderpassError) -> Response:
    if isinstance(error, Unauthorised) and request.method == "GET":
        target = "/staff/sign-in" if request.url.path.startswith("/officer") else "/sign-in"
        return redirect(f"{target}?next={request.url.path}")
    response = _error_page(request, error.status, error.render(page_locale(request)))
    response.headers.update(error.headers)
    return response


async def _borderpass_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, BorderpassError)  # noqa: S101 - registered for this type only
    if _is_page(request):
        return _page_error(request, error)
    return JSONResponse(error.as_json(_locale(request)), status_code=error.status,
                        headers=error.headers)


def _field_of(location: tuple[object, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)  # noqa: S101
    if _is_page(request):
        return _error_page(request, 422, tr(page_locale(request), _("The input is not valid.")))
    problems = [
        {"field": _field_of(tuple(item.get("loc", ()))), "problem": str(item.get("msg", ""))}
        for item in error.errors()
    ]
    first = problems[0] if problems else {"field": "body", "problem": "invalid"}
    body = {
        "error": {
            "code": "invalid_input",
            "message": f"{first['field']}: {first['problem']}",
            "field": first["field"],
            "details": problems,
        }
    }
    return JSONResponse(body, status_code=422)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)  # noqa: S101
    if _is_page(request):
        messages = {404: _("There is no such page."), 405: _("This page cannot do that.")}
        text = messages.get(error.status_code, _("The request could not be completed."))
        return _error_page(request, error.status_code, tr(page_locale(request), text))
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorised"}
    code = codes.get(error.status_code, "http_error")
    return JSONResponse(
        {"error": {"code": code, "message": str(error.detail)}},
        status_code=error.status_code,
        headers=getattr(error, "headers", None),
    )


async def _unexpected(request: Request, error: Exception) -> Response:
    log.error("request.failed", path=request.url.path, error=type(error).__name__)
    if _is_page(request):
        return _error_page(request, 500, tr(page_locale(request),
                                             _("Something went wrong on our side.")))
    return JSONResponse(
        {"error": {"code": "internal_error", "message": "Something went wrong on our side."}},
        status_code=500,
    )


async def _unstorable(request: Request, error: Exception) -> Response:
    """Answer 422 for text a database refused to store (a NUL, half a surrogate pair) that
    reached it by a way the request check does not read; the unit rolled back."""
    if isinstance(error, DataError) and "NUL" not in str(error.orig):
        return await _unexpected(request, error)
    log.warning("request.unstorable_text", path=request.url.path, error=type(error).__name__)
    return await _borderpass_error(request, UnstorableText())


_RETRY_AFTER_SECONDS = 2


async def _busy(request: Request, error: Exception) -> Response:
    """Answer 503 with Retry-After when every connection or the single writer stays busy,
    or a worker process died under the request (nothing of it was kept)."""
    if isinstance(error, OperationalError) and not _is_busy(error):
        return await _unexpected(request, error)
    log.warning("request.busy", path=request.url.path, error=type(error).__name__)
    headers = {"Retry-After": str(_RETRY_AFTER_SECONDS)}
    text = _("The service is busy. Try again in a few seconds.")
    if _is_page(request):
        response = _error_page(request, 503, tr(page_locale(request), text))
        response.headers.update(headers)
        return response
    return JSONResponse({"error": {"code": "busy", "message": text}}, status_code=503,
                        headers=headers)


def _is_busy(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "database is locked" in text or "database is busy" in text or "timeout" in text


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Blocking endpoints share this many threads; the pool has a connection for each.
    settings = get_settings()
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
    # Without a broker the jobs this process sends run here, with the periodic ones.
    runner = (jobs.start_embedded(settings.embedded_job_threads)
              if jobs.embedded() and settings.embedded_jobs else None)
    # Long computations (batches) run in worker processes, wired as this one is.
    pool = offload.make_pool(wire)
    app.state.offload = pool
    # What the process has loaded (the app, its templates, the drivers) stays for its life:
    # left out of the collector's passes, a full pass walks only what requests made since.
    jobs.freeze_heap()
    try:
        yield
    finally:
        await close_loop_reads_of(app)
        if pool is not None:
            await anyio.to_thread.run_sync(pool.close)
        if runner is not None:
            await anyio.to_thread.run_sync(runner.stop)


def create_app() -> FastAPI:
    """Build the application with every domain's routes."""
    wire()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_file, json=settings.log_json)
    check_sender()  # production refuses the development mailbox, here at start-up
    app = FastAPI(
        lifespan=_lifespan,
        docs_url=None,  # served by web.docs from this site, not from a CDN
        redoc_url=None,  # FastAPI's ReDoc page loads from a CDN; /docs is the reference
        title="borderpass",
        version=borderpass.__version__,
        description="An open, privacy-preserving platform for crossing a border during an "
        "epidemic: Health Code, venue check-in, e-Channel, endorsements and the crossing.",
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.add_exception_handler(BorderpassError, _borderpass_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyTimeout, _busy)
    app.add_exception_handler(DatabaseBusy, _busy)
    app.add_exception_handler(offload.WorkerLost, _busy)
    app.add_exception_handler(OperationalError, _busy)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(UnicodeEncodeError, _unstorable)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(identity_api.router)
    app.include_router(evidence_api.router)
    app.include_router(echannel_api.router)
    app.include_router(echannel_api.proof_router)
    app.include_router(rules_api.router)
    app.include_router(healthcode_api.router)
    app.include_router(permits_api.router)
    app.include_router(checkin_api.router)
    app.include_router(crossing_api.router)
    app.include_router(crossing_partners_api.router)
    app.include_router(health.router)
    for router in PAGE_ROUTERS:
        app.include_router(router)
    mount_docs(app)
    # The most viewed page, first: it is found without trying every other route.
    app.router.routes.insert(0, healthcode_pages.CODE_PAGE)
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    # Outermost last: headers go on every response, error pages included.
    # Pages have server-side sessions (the cookie holds a random id); the API has none.
    app.add_middleware(ServerSessions, hours=settings.session_hours,
                       secure=settings.secure_cookies, skip=_NOT_PAGES, deferred=_DEFERRED)
    app.add_middleware(BodyLimit)
    app.add_middleware(Admission, limit=settings.threads, wait_seconds=settings.queue_seconds)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    app.add_middleware(RequestLog)
    app.add_middleware(RequestMetrics)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Tell that the service is up (on the event loop: it never waits for a thread or
        the database)."""
        return {"status": "ok"}

    return app
