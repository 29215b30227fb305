"""The site's own pages: the home page, the language switch, staff sign-in, signing out
and the officers' start page. Domain pages live in each domain's ``pages.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from borderpass.identity import service as identity
from borderpass.identity.schemas import Principal
from borderpass.kit.errors import BorderpassError
from borderpass.kit.i18n import LOCALES
from borderpass.web import seams
from borderpass.web.deps import DbSession, Now
from borderpass.web.site import (
    LOCALE_COOKIE,
    MaybeCaller,
    PageForm,
    abandon,
    csrf_protect,
    page_locale,
    redirect,
    remember_sign_in,
    render,
    require_page,
    safe_next,
    sign_out_page,
    text_fields,
)

__all__ = ["STAFF_HOME", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

STAFF_HOME = {
    "health_officer": "/officer/dashboard",
    "help_desk": "/officer/help-desk",
    "border_officer": "/officer/scan",
    "exit_entry_officer": "/officer/permits",
}
Staff = Annotated[Principal, require_page(*identity.STAFF_ROLES)]


@router.get("/")
def home(request: Request, session: DbSession, now: Now, caller: MaybeCaller) -> Response:
    """Show the resident's home page (or the visitor's, or send staff to theirs)."""
    if caller is None:
        return render(request, "home.html")
    if caller.kind != "resident":
        return redirect(STAFF_HOME.get(caller.role, "/officer"))
    person = identity.person_view(identity.get_person(session, caller.id))
    code = seams.todays_code(session, caller.id, locale=page_locale(request), now=now)
    return render(request, "resident/home.html", person=person, code=code)


@router.get("/language/{locale}")
def choose_language(locale: str, next: str | None = None) -> Response:
    """Remember the chosen language (for a year) and go back to the page."""
    response = redirect(safe_next(next))
    if locale in LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax",
                            httponly=True)
    return response


@router.get("/staff/sign-in")
def staff_sign_in_page(request: Request, next: str | None = None) -> Response:
    """Show the staff sign-in form."""
    return render(request, "staff_sign_in.html", next=safe_next(next, ""))


@router.post("/staff/sign-in")
def staff_sign_in(request: Request, session: DbSession, now: Now, form: PageForm) -> Response:
    """Sign an officer in and open their start page."""
    values = text_fields(form, ["username", "next"])
    password = form.get("password")
    try:
        member, token, _expires = identity.sign_in_staff(
            session, values["username"], password if isinstance(password, str) else "", now=now)
    except BorderpassError as error:
        abandon(session, error)
        return render(request, "staff_sign_in.html", status=error.status,
                      next=safe_next(values["next"], ""), values=values,
                      errors={"form": error.render(page_locale(request))})
    remember_sign_in(request, token=token, role=member.role, kind="staff",
                     name=member.display_name)
    return redirect(safe_next(values["next"], STAFF_HOME.get(member.role, "/officer")))


@router.post("/sign-out")
def sign_out(request: Request, session: DbSession, now: Now, _form: PageForm) -> Response:
    """Sign out: the session's access token is revoked."""
    sign_out_page(request, session, now)
    return redirect("/")


@router.get("/officer")
def officer_home(request: Request, caller: Staff) -> Response:
    """Show an officer the pages their role may use."""
    return render(request, "officer/index.html", role=caller.role)
