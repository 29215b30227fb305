"""Bounds on what a request may send, and the request log, as plain ASGI middleware.

Every request body has a ceiling chosen by its route: a megabyte for JSON and ordinary
forms, more where a file is the point (a proof of address, a photo, a rule set, a
laboratory's batch). A body announced larger is refused before it is read; one that
grows past the ceiling while streaming is cut off there. Either way the answer is 413
naming the limit, through the app's own error handling.
"""

from __future__ import annotations

import asyncio
import re
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from borderpass.kit.config import get_settings
from borderpass.kit.errors import TooLarge
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger

__all__ = ["Admission", "BodyLimit", "RequestLog", "body_limit"]

log = get_logger("borderpass.web")
MIB = 1024 * 1024
DEFAULT_LIMIT = 1 * MIB
_FORM_OVERHEAD = 256 * 1024  # the other fields of a form that carries a file


class BodyTooLarge(TooLarge):
    code = "body_too_large"
    message = _("The request is too large: at most {limit} bytes may be sent here.")


def _routes() -> list[tuple[re.Pattern[str], int]]:
    settings = get_settings()
    proof = settings.proof_max_bytes + _FORM_OVERHEAD
    return [
        (re.compile(r"/api/evidence/(tests|vaccinations)"), settings.ingest_max_bytes),
        (re.compile(r"/api/registrations/[^/]+/details"), proof),
        (re.compile(r"/register/details"), proof),
        (re.compile(r"/officer/help-desk"), proof),
        (re.compile(r"/officer/scan/photo"), 10 * MIB + _FORM_OVERHEAD),
        (re.compile(r"/officer/rule-sets"), 2 * MIB + _FORM_OVERHEAD),
        (re.compile(r"/api/rule-sets"), 2 * MIB),
        (re.compile(r"/api/echannel/(enrolments|gate2)"), 12 * MIB),
        (re.compile(r"/api/checkin/uploads"), 8 * MIB),
        (re.compile(r"/api/permits/applications"), 2 * MIB),
    ]


def body_limit(path: str, routes: list[tuple[re.Pattern[str], int]]) -> int:
    """Return the largest body a request to ``path`` may send."""
    for pattern, limit in routes:
        if pattern.match(path):
            return limit
    return DEFAULT_LIMIT


class BodyLimit:
    """Refuse request bodies over their route's limit (413), without reading past it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = _routes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""), self.routes)
        announced = next((value for name, value in scope.get("headers", ())
                          if name == b"content-length"), None)
        received = 0

        async def bounded() -> Message:
            nonlocal received
            if announced is not None and (not announced.isdigit() or int(announced) > limit):
                raise BodyTooLarge(field="body", limit=limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(field="body", limit=limit)
            return message

        await self.app(scope, bounded, send)


class RequestLog:
    """Log each request's method, path, status and time (nothing of its content)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            log.info("request", method=scope.get("method"), path=scope.get("path"),
                     status=status, ms=round((time.perf_counter() - started) * 1000, 1))


# Served without admission: they touch no database (files are read in small steps).
_FREE = ("/healthz", "/static/", "/docs/assets/")


class Admission:
    """Let at most ``limit`` requests work at once; the others wait their turn here.

    A request takes worker threads and a database connection step by step (its
    dependencies, then the endpoint). If more requests started than there are threads,
    each could hold a connection (or SQLite's write lock) while waiting for a thread that
    another such request holds, and all would wait. With no more requests inside than
    threads, each always finds a thread for its next step and a connection in the pool,
    so requests beyond the limit only queue, cheaply, on the event loop. One that waits
    longer than ``wait_seconds`` is answered 503 with Retry-After.
    """

    def __init__(self, app: ASGIApp, *, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(_FREE):
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        try:
            if self._slots.locked():  # full: wait, at most wait_seconds
                await asyncio.wait_for(self._slots.acquire(), self.wait_seconds)
            else:  # a free slot is taken at once, without wait_for's task
                await self._slots.acquire()
        except TimeoutError:
            log.warning("request.queue_full", path=scope.get("path"))
            busy = JSONResponse({"error": {"code": "busy", "message":
                                           "The service is busy. Try again in a few seconds."}},
                                status_code=503, headers={"Retry-After": "2"})
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()
