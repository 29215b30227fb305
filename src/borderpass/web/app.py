"""The FastAPI application: routers, error rendering, request logging."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import borderpass
from borderpass.checkin import api as checkin_api
from borderpass.echannel import api as echannel_api
from borderpass.evidence import api as evidence_api
from borderpass.healthcode import api as healthcode_api
from borderpass.identity import api as identity_api
from borderpass.kit.config import get_settings
from borderpass.kit.errors import BorderpassError
from borderpass.kit.i18n import normalise_locale
from borderpass.kit.logging import configure_logging, get_logger
from borderpass.permits import api as permits_api
from borderpass.rules import api as rules_api

__all__ = ["create_app"]

log = get_logger(__name__)


def _locale(request: Request) -> str:
    return normalise_locale(
        request.cookies.get("locale") or request.headers.get("accept-language", "en")[:5]
    )


async def _borderpass_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, BorderpassError)  # noqa: S101 - registered for this type only
    return JSONResponse(error.as_json(_locale(request)), status_code=error.status)


def _field_of(location: tuple[object, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)  # noqa: S101
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
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorised"}
    code = codes.get(error.status_code, "http_error")
    return JSONResponse(
        {"error": {"code": code, "message": str(error.detail)}},
        status_code=error.status_code,
        headers=getattr(error, "headers", None),
    )


async def _unexpected(request: Request, error: Exception) -> Response:
    log.error("request.failed", path=request.url.path, error=type(error).__name__)
    return JSONResponse(
        {"error": {"code": "internal_error", "message": "Something went wrong on our side."}},
        status_code=500,
    )


def create_app() -> FastAPI:
    """Build the application with every domain's routes."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_file, json=settings.log_json)
    app = FastAPI(
        title="borderpass",
        version=borderpass.__version__,
        description="An open, privacy-preserving platform for crossing a border during an "
        "epidemic: Health Code, venue check-in, e-Channel, endorsements and the crossing.",
    )
    app.add_exception_handler(BorderpassError, _borderpass_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(identity_api.router)
    app.include_router(evidence_api.router)
    app.include_router(echannel_api.router)
    app.include_router(rules_api.router)
    app.include_router(healthcode_api.router)
    app.include_router(permits_api.router)
    app.include_router(checkin_api.router)

    @app.middleware("http")
    async def log_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        log.info("request", method=request.method, path=request.url.path,
                 status=response.status_code,
                 ms=round((time.perf_counter() - started) * 1000, 1))
        return response

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Tell that the service is up."""
        return {"status": "ok"}

    return app
