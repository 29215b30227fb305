"""The frame every page shares: templates, language, sessions, CSRF, flash messages and
form errors. Who is signed in is ``identity.caller``'s part.

Pages are server-rendered with Jinja2 and translated with the same gettext catalogs as
the error messages (``kit.i18n``). The session is kept on the server (``kit.sessions``;
the cookie holds a random id only); it holds the access token that the identity service
issued at sign-in, so a page authenticates exactly as the API does and signing out
revokes the token. A form's CSRF token is derived from the session id under
``settings.session_key``, so it changes whenever the id does (at sign-in and sign-out).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from babel.dates import format_date, format_datetime
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup, escape
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.routing import Match, Route
from starlette.types import Scope

from borderpass.kit.clock import HONG_KONG
from borderpass.kit.config import get_settings
from borderpass.kit.errors import BorderpassError, Forbidden
from borderpass.kit.http import refuse
from borderpass.kit.i18n import (
    DEFAULT_LOCALE,
    LOCALES,
    Plural,
    _,
    normalise_locale,
    translate_plural,
    translations,
)
from borderpass.kit.sessions import SessionData

__all__ = [
    "LANGUAGES",
    "LOCALE_COOKIE",
    "WEB",
    "CsrfFailed",
    "PageForm",
    "csrf_protect",
    "csrf_token",
    "error_of",
    "field_errors",
    "flash",
    "lean_page",
    "page_form",
    "page_locale",
    "redirect",
    "render",
    "render_kept",
    "safe_next",
    "templates",
    "text_fields",
    "tr",
]

# The site's templates, static files and catalogs: data that web/ assembles into the app.
WEB = Path(__file__).resolve().parent.parent / "web"
LOCALE_COOKIE = "locale"
LANGUAGES = (("zh_Hant", "繁體中文", "zh-Hant-HK"), ("zh_Hans", "简体中文", "zh-Hans"),
             ("en", "English", "en"))
_BABEL_LOCALES = {"zh_Hant": "zh_Hant_HK", "zh_Hans": "zh_Hans_CN", "en": "en_HK"}
_HTML_LANG = {code: tag for code, _name, tag in LANGUAGES}


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = _("This form has expired or did not come from this site. Go back, reload the "
                "page and try again.")


def page_locale(request: Request) -> str:
    """Return the language of the page: the remembered choice, else Traditional Chinese."""
    chosen = request.cookies.get(LOCALE_COOKIE)
    return normalise_locale(chosen) if chosen in LOCALES else DEFAULT_LOCALE


def tr(locale: str, message: str, **params: Any) -> str:
    """Translate a marked message for a page and fill in ``{named}`` parameters."""
    text = translations(locale).gettext(message)
    return text.format(**params) if params else text


def _hk_datetime(locale: str) -> Callable[[datetime | None], str]:
    def show(value: datetime | None) -> str:
        if value is None:
            return ""
        return format_datetime(value.astimezone(HONG_KONG), "medium", tzinfo=HONG_KONG,
                               locale=_BABEL_LOCALES[locale])
    return show


def _hk_date(locale: str) -> Callable[[date | None], str]:
    def show(value: date | None) -> str:
        if value is None:
            return ""
        return format_date(value, "medium", locale=_BABEL_LOCALES[locale])
    return show


def _gettext_callables(locale: str) -> dict[str, Any]:
    """Jinja's "newstyle" gettext for one request: escaped, with ``%(name)s`` fill-ins."""
    catalog = translations(locale)

    @pass_context
    def gettext(context: Any, message: str, **variables: Any) -> str:
        text = catalog.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - our own catalog text; fill-ins are escaped
        return text % variables if variables else text

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, n: int, **variables: Any) -> str:
        variables.setdefault("num", n)
        text = catalog.ngettext(singular, plural, n)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - our own catalog text; fill-ins are escaped
        return text % variables

    return {"gettext": gettext, "_": gettext, "ngettext": ngettext}


templates = Environment(
    loader=FileSystemLoader(WEB / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

_LATIN = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@pass_context
def _latin(context: Any, value: object) -> Markup:
    """Mark data written in Latin letters (a laboratory, an address, a name in English) as
    English on a Chinese page, so that a screen reader reads it as English (WCAG 3.1.2).

    Text with Chinese characters in it, or without letters, is left as it is.
    """
    text = "" if value is None else str(value)
    if context.get("locale") == "en" or not _LATIN.search(text) or _HAN.search(text):
        return escape(text)
    return Markup('<span lang="en">{}</span>').format(text)


templates.filters["latin"] = _latin


# --- sessions and CSRF -------------------------------------------------

def _csrf_of(session_id: str) -> str:
    key = get_settings().secret_bytes("session_key")
    digest = hmac.new(key, b"csrf\0" + session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _expected_csrf(request: Request) -> str | None:
    session = request.session
    if isinstance(session, SessionData):
        return _csrf_of(session.current_id) if session.current_id else None
    token = session.get("csrf")
    return token if isinstance(token, str) else None


def csrf_token(request: Request) -> str:
    """Return this session's CSRF token (derived from its id, which it gets now if new)."""
    session = request.session
    if isinstance(session, SessionData):
        return _csrf_of(session.id)
    # A page rendered outside the session middleware (an error page for a crash).
    token: str | None = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


async def csrf_protect(request: Request) -> AsyncIterator[None]:
    """Refuse any state-changing page request whose form lacks this session's token.

    The form is parsed once (Starlette caches it) and its uploads are closed when the
    request is done.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        yield
        return
    form = await request.form()
    try:
        expected = _expected_csrf(request)
        given = form.get("csrf_token")
        if not expected or not isinstance(given, str) or not hmac.compare_digest(given, expected):
            raise CsrfFailed()
        yield
    finally:
        await form.close()


async def page_form(request: Request, _checked: Annotated[None, Depends(csrf_protect)]) -> FormData:
    """Return the submitted form, once its CSRF token has been checked."""
    return await request.form()


PageForm = Annotated[FormData, Depends(page_form)]


# --- rendering ---------------------------------------------------------------------

def flash(request: Request, message: str | Plural, **params: Any) -> None:
    """Keep a marked message to show once on the next page; a message with a plural form
    takes its form from the parameter ``count``."""
    kept: str | list[str] = list(message) if isinstance(message, Plural) else message
    request.session.setdefault("flash", []).append([kept, params])
    request.session["flash"] = request.session["flash"]  # mark the session changed


def _take_flashes(request: Request, locale: str) -> list[str]:
    pending = request.session.pop("flash", [])
    shown = []
    for message, params in pending:
        if isinstance(message, list):
            shown.append(translate_plural(Plural(*message), int(params.get("count", 0)), locale,
                                          **params))
        else:
            shown.append(tr(locale, message, **params))
    return shown


def safe_next(target: str | None, default: str = "/") -> str:
    """Return a local path to go to next; anything pointing off the site gives ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def render(request: Request, template: str, status: int = 200, *, keep_writes: bool = False,
           **context: Any) -> HTMLResponse:
    """Render a page in the caller's language with the shared frame's context.

    A page answering with an error status refuses the request: its unit of work rolls
    back, unless ``keep_writes`` (a spent PIN attempt must count).
    """
    if status >= 400 and not keep_writes:
        refuse(request)
    # An error page for a crash is rendered outside the session middleware.
    request.scope.setdefault("session", {})
    locale = page_locale(request)
    values: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "html_lang": _HTML_LANG[locale],
        "languages": LANGUAGES,
        "here": quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                      safe="/?=&"),
        "csrf_token": csrf_token(request),
        "signed_in": {key: request.session.get(key) for key in ("role", "kind", "name")}
        if request.session.get("token") else None,
        "flashes": _take_flashes(request, locale),
        "hk_datetime": _hk_datetime(locale),
        "hk_date": _hk_date(locale),
        "tr": lambda message, **params: tr(locale, message, **params),
        "errors": {},
        "values": {},
    }
    values.update(_gettext_callables(locale))
    values.update(context)
    html = templates.get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


class _Rendered:
    """The last pages rendered by ``render_kept``: a bounded map, least recently used first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        with self._lock:
            self._pages[key] = body
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


# About 11 kB a page: some 22 MB at most.
_RENDERED = _Rendered(2048)


def render_kept(request: Request, template: str, key: Hashable | None,
                context: Callable[[], dict[str, Any]]) -> HTMLResponse:
    """Render a page as ``render`` does, or give again the bytes rendered for the same
    ``key`` in this session, language and address.

    ``key`` must name everything the page's own ``context`` shows (None: render, keep
    nothing). The rest of what the frame shows is in the cache's key too: the session's
    id (its CSRF token) and what it holds (who is signed in), the language and the
    address. A session with a message to flash is rendered, as it changes the session.
    """
    session = request.scope.get("session")
    if key is None or not isinstance(session, SessionData) or session.current_id is None \
            or "flash" in session:
        return render(request, template, **context())
    held = hashlib.sha256(json.dumps(
        [session.current_id, dict(session)], sort_keys=True, default=str).encode()).digest()
    # The address as the scope holds it: building ``request.url`` costs more than the rest.
    full = (template, key, page_locale(request), request.scope["path"],
            request.scope.get("query_string", b""), held)
    body = _RENDERED.get(full)
    if body is None:
        response = render(request, template, **context())
        _RENDERED.put(full, bytes(response.body))
        return response
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


class _LeanPage(Route):
    """A GET page as a plain route: named in the scope as FastAPI's routes are, so that the
    request metrics label it with its path."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self
        return match, child


def lean_page(path: str, endpoint: Callable[[Request], Any]) -> Route:
    """Return a GET page served without FastAPI's dependency machinery, for a page viewed
    so often that solving its dependencies would cost as much as the rest of it.

    The endpoint takes the request alone and does itself what the app's dependencies do
    for every other page: it calls ``kit.http.refuse_unstorable_text`` and reads the clock
    with ``kit.http.get_now`` (a GET has no form, so no CSRF token to check). Errors it
    raises are answered by the app's handlers, as any page's are. The app puts it before
    its other routes.
    """
    return _LeanPage(path, endpoint, methods=["GET"], include_in_schema=False)


def redirect(path: str) -> RedirectResponse:
    """Redirect after a form (303: the browser follows with a GET)."""
    return RedirectResponse(path, status_code=303)


# --- form errors -------------------------------------------------------------------

_PROBLEMS = {
    "missing": _("This field is required."),
    "string_too_short": _("This is too short: at least {min_length} characters."),
    "string_too_long": _("This is too long: at most {max_length} characters."),
    "too_short": _("Give at least one."),
    "string_pattern_mismatch": _("This is not in the expected form."),
    "date_from_datetime_parsing": _("Give a date."),
    "date_parsing": _("Give a date."),
    "datetime_parsing": _("Give a date and time."),
    "datetime_from_date_parsing": _("Give a date and time."),
    "enum": _("Choose one of the options."),
    "literal_error": _("Choose one of the options."),
    "bool_parsing": _("Choose yes or no."),
}
_OTHER_PROBLEM = _("This value is not accepted.")


def field_errors(error: ValidationError, locale: str) -> dict[str, str]:
    """Translate a schema's validation errors into one message per form field."""
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        if field in found:
            continue
        empty = item.get("input") in ("", None)
        message = _PROBLEMS["missing"] if empty else _PROBLEMS.get(str(item["type"]),
                                                                    _OTHER_PROBLEM)
        context = {k: v for k, v in (item.get("ctx") or {}).items()
                   if isinstance(v, int | str)}
        try:
            found[field] = tr(locale, message, **context)
        except (KeyError, IndexError):
            found[field] = tr(locale, _OTHER_PROBLEM)
    return found


def error_of(error: BorderpassError, locale: str,
             fields: Iterable[str] = (), *, default: str = "form") -> dict[str, str]:
    """Return a platform error as ``{field: message}`` for a form; an error about a field
    the form does not show goes to ``default``: the top of the form, or the field a
    person must change (a sign-in's password), so that it is tied to a field."""
    field = error.field if error.field in set(fields) else default
    return {field: error.render(locale)}


def text_fields(form: FormData, names: Iterable[str]) -> dict[str, str]:
    """Return the named text fields of a form, stripped; a missing one is empty."""
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values
