"""Bounds on what a request may send, and the request log, as plain ASGI middleware.

Every request body has a ceiling chosen by its route: a megabyte for JSON and ordinary
forms, more where a file is the point (a proof of address, a photo, a rule set, a
laboratory's batch). A body announced larger is refused before it is read; one that
grows past the ceiling while streaming is cut off there. Either way the answer is 413
naming the limit, through the app's own error handling.
"""

from __future__ import annotations

import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from borderpass.kit.config import get_settings
from borderpass.kit.errors import TooLarge
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger

__all__ = ["BodyLimit", "RequestLog", "body_limit"]

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
