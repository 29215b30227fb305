"""The site's own pages: the home page, the language switch and the officers' start page.
Every other page lives in its domain's ``pages.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from borderpass.healthcode import views
from borderpass.identity import service as identity
from borderpass.identity.caller import MaybeCaller, require_page
from borderpass.identity.pages import STAFF_HOME
from borderpass.identity.schemas import Principal
from borderpass.kit.http import DbSession, Now, Writer
from borderpass.kit.i18n import LOCALES
from borderpass.kit.pages import (
    LOCALE_COOKIE,
    csrf_protect,
    page_locale,
    redirect,
    render,
    safe_next,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Staff = Annotated[Principal, require_page(*identity.STAFF_ROLES)]


@router.get("/")
def home(request: Request, session: DbSession, now: Now, caller: MaybeCaller,
         writer: Writer) -> Response:
    """Show the resident's home page (or the visitor's, or send staff to theirs)."""
    if caller is None:
        return render(request, "home.html")
    if caller.kind != "resident":
        return redirect(STAFF_HOME.get(caller.role, "/officer"))
    person = identity.person_view(identity.get_person(session, caller.id))
    locale = page_locale(request)
    code = views.todays_code(session, caller.id, locale=locale, now=now, writer=writer)
    return render(request, "resident/home.html", person=person, code=code)


@router.get("/language/{locale}")
def choose_language(locale: str, next: str | None = None) -> Response:
    """Remember the chosen language (for a year) and go back to the page."""
    response = redirect(safe_next(next))
    if locale in LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax",
                            httponly=True)
    return response


@router.get("/officer")
def officer_home(request: Request, caller: Staff) -> Response:
    """Show an officer the pages their role may use."""
    return render(request, "officer/index.html", role=caller.role)
