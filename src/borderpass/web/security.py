"""Security headers on every response.

The pages load nothing from other sites: scripts, styles and images all come from
``/static`` on this origin, so the Content Security Policy names no external source and
allows no inline script. The API documentation at ``/docs`` is served from this origin
too (``web/docs.py``), so every response carries the policy, with no exception.

No answer of the API may be kept by a browser or a proxy: each carries
``Cache-Control: no-store`` unless its endpoint chose its own caching (a public list
may). Pages set it themselves (``kit.pages.render``).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeaders"]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Add the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}

                def put(name: str, value: str) -> None:
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))

                put("content-security-policy", CONTENT_SECURITY_POLICY)
                put("x-frame-options", "DENY")
                put("x-content-type-options", "nosniff")
                put("referrer-policy", "same-origin")
                put("permissions-policy", "camera=(self), microphone=(), geolocation=()")
                put("cross-origin-opener-policy", "same-origin")
                if path.startswith("/api"):
                    put("cache-control", "no-store")
                if self.hsts:
                    put("strict-transport-security", "max-age=31536000; includeSubDomains")
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, add_headers)
