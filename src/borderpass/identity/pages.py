"""Pages of the identity domain: registration, activation, sign-in, the account, and
registration at a help station. They call the same services as ``identity.api``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from borderpass.identity import service
from borderpass.identity.caller import remember_sign_in, require_page, sign_out_page
from borderpass.identity.phones import display_phone
from borderpass.identity.schemas import Principal, RegistrationDetails
from borderpass.kit import outbox
from borderpass.kit.clock import HONG_KONG
from borderpass.kit.config import get_settings
from borderpass.kit.errors import BorderpassError, InvalidInput
from borderpass.kit.http import ClientAddress, DbSession, Now
from borderpass.kit.i18n import _, _n, translate_plural
from borderpass.kit.pages import (
    PageForm,
    csrf_protect,
    error_of,
    field_errors,
    flash,
    page_locale,
    redirect,
    render,
    safe_next,
    text_fields,
    tr,
)

__all__ = ["PROOF_METHODS", "STAFF_HOME", "render_prove_page", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Resident = Annotated[Principal, require_page("resident")]
HelpDesk = Annotated[Principal, require_page("help_desk", "supervisor")]

# Where each staff role starts after signing in.
STAFF_HOME = {
    "health_officer": "/officer/dashboard",
    "help_desk": "/officer/help-desk",
    "border_officer": "/officer/scan",
    "exit_entry_officer": "/officer/permits",
}

DETAIL_FIELDS = ("name_zh", "name_en", "document_kind", "document_number", "document_issued_on",
                 "hrp_number", "phone", "address", "pin_channel")
FORM_FIELDS = (*DETAIL_FIELDS, "will_cross", "password", "password_again", "proof")
DOCUMENT_KINDS = (
    ("hkid", _("Hong Kong identity card")),
    ("macau", _("Macau resident identity card")),
    ("mainland", _("Mainland resident identity card")),
)
SIGN_IN_KINDS = (*DOCUMENT_KINDS, ("hrp", _("Home Return Permit")))


def _kinds(locale: str, kinds: tuple[tuple[str, str], ...] = DOCUMENT_KINDS) -> list[
        tuple[str, str]]:
    return [(value, tr(locale, label)) for value, label in kinds]


def _read_proof(form: FormData) -> bytes:
    upload = form.get("proof")
    if not isinstance(upload, UploadFile):
        return b""
    return upload.file.read(get_settings().proof_max_bytes + 1)


def _details(form: FormData, locale: str, *, password: str) -> tuple[
        RegistrationDetails | None, dict[str, str], dict[str, str]]:
    """Validate the form's details; return them, or the errors of every field at once."""
    values = text_fields(form, DETAIL_FIELDS)
    values["will_cross"] = "yes" if form.get("will_cross") else ""
    data: dict[str, Any] = {**values, "will_cross": bool(values["will_cross"]),
                            "password": password, "locale": locale}
    data["pin_channel"] = data["pin_channel"] or "sms"
    try:
        return RegistrationDetails.model_validate(data), values, {}
    except ValidationError as error:
        return None, values, field_errors(error, locale)


def _password(form: FormData, locale: str) -> tuple[str, dict[str, str]]:
    password = form.get("password")
    confirm = form.get("password_again")
    text = password if isinstance(password, str) else ""
    if len(text) < 8:
        return text, {"password": tr(locale, _("A password needs at least 8 characters."))}
    if text != confirm:
        return text, {"password_again": tr(locale, _("The two passwords are not the same."))}
    return text, {}


def _registration_id(request: Request) -> uuid.UUID | None:
    value = request.session.get("registration")
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


# --- registration ------------------------------------------------------------------

@router.get("/register")
def register_start(request: Request) -> Response:
    """Explain registration and its time limit."""
    return render(request, "identity/register_start.html",
                  minutes=get_settings().registration_minutes)


@router.post("/register")
def register_begin(request: Request, session: DbSession, now: Now) -> Response:
    """Begin a registration; the clock starts now."""
    registration = service.start_registration(session, now=now)
    request.session["registration"] = str(registration.id)
    return redirect("/register/details")


def _details_page(request: Request, registration: Any, now: datetime, status: int = 200,
                  **context: Any) -> Response:
    left = max(0, int((registration.expires_at - now).total_seconds() // 60))
    locale = page_locale(request)
    return render(request, "identity/register_details.html", status=status,
                  registration=registration, minutes_left=left,
                  minutes=get_settings().registration_minutes,
                  kinds=_kinds(locale), **context)


def _open_registration(request: Request, session: Session, now: datetime) -> Any:
    registration_id = _registration_id(request)
    if registration_id is None:
        return None
    try:
        registration = service.get_registration(session, registration_id)
    except BorderpassError:
        return None
    if registration.state in ("activated", "expired") or now >= registration.expires_at:
        request.session.pop("registration", None)
        flash(request, _("The registration has expired: registration must be finished within "
                         "{minutes} minutes. Please start again."),
              minutes=get_settings().registration_minutes)
        return None
    return registration


@router.get("/register/details")
def register_details(request: Request, session: DbSession, now: Now) -> Response:
    """Show the registration form with the time left."""
    registration = _open_registration(request, session, now)
    if registration is None:
        return redirect("/register")
    if registration.state == "submitted":
        return redirect("/register/activate")
    return _details_page(request, registration, now, values={"document_kind": "hkid"})


@router.post("/register/details")
def register_submit(request: Request, session: DbSession, now: Now,
                          form: PageForm) -> Response:
    """Check the details again and the proof, and send the activation PIN."""
    registration = _open_registration(request, session, now)
    if registration is None:
        return redirect("/register")
    locale = page_locale(request)
    password, errors = _password(form, locale)
    details, values, field_problems = _details(form, locale, password=password)
    errors = {**field_problems, **errors}
    proof = _read_proof(form)
    if not proof and "proof" not in errors:
        errors["proof"] = tr(locale, _("Attach the proof of address."))
    if details is None or errors:
        return _details_page(request, registration, now, status=422, values=values,
                             errors=errors)
    try:
        service.submit_registration(session, registration.id, details, proof, now=now)
    except BorderpassError as error:
        return _details_page(request, registration, now, status=error.status, values=values,
                             errors=error_of(error, locale, FORM_FIELDS))
    return redirect("/register/activate")


@router.get("/register/activate")
def register_activate(request: Request, session: DbSession, now: Now) -> Response:
    """Ask for the PIN that was sent."""
    registration = _open_registration(request, session, now)
    if registration is None:
        return redirect("/register")
    if registration.state != "submitted":
        return redirect("/register/details")
    return render(request, "identity/register_activate.html", registration=registration,
                  mailbox=outbox.mailbox_folder())


@router.post("/register/activate")
def register_activate_submit(request: Request, session: DbSession, now: Now,
                             form: PageForm) -> Response:
    """Activate the account with the PIN and sign the resident in."""
    registration = _open_registration(request, session, now)
    if registration is None:
        return redirect("/register")
    pin = text_fields(form, ["pin"])["pin"].replace(" ", "")
    locale = page_locale(request)
    try:
        if not (len(pin) == 6 and pin.isdigit()):
            raise InvalidInput(_("The PIN has 6 digits."), field="pin")
        person, token, _expires = service.activate(session, registration.id, pin, now=now)
    except BorderpassError as error:
        return render(request, "identity/register_activate.html", status=error.status,
                      keep_writes=error.keep, registration=registration,
                      errors=error_of(error, locale, ("pin",)),
                      mailbox=outbox.mailbox_folder())
    remember_sign_in(request, token=token, role="resident", kind="resident", name=person.initials)
    flash(request, _("Your account is active. Welcome."))
    return redirect("/")


@router.post("/register/extend")
def register_extend(request: Request, session: DbSession, now: Now, form: PageForm) -> Response:
    """Give the registration its time again, counted from now.

    register.js asks for JSON and announces the answer; without it the page is reloaded
    with the answer as a message.
    """
    back = safe_next(text_fields(form, ["next"])["next"], "/register/details")
    if back not in ("/register/details", "/register/activate"):
        back = "/register/details"
    wants_json = "application/json" in request.headers.get("accept", "")
    registration = _open_registration(request, session, now)
    if registration is None:
        if wants_json:
            return JSONResponse({"expired": True, "next": "/register"}, status_code=410)
        return redirect("/register")
    locale = page_locale(request)
    try:
        registration = service.extend_registration(session, registration.id, now=now)
    except BorderpassError as error:
        if wants_json:
            return JSONResponse({"message": error.render(locale)}, status_code=error.status)
        flash(request, error.render(locale))
        return redirect(back)
    left = max(0, int((registration.expires_at - now).total_seconds() // 60))
    said = _n("You have {minutes} minute left.", "You have {minutes} minutes left.")
    if wants_json:
        return JSONResponse({"expires_at": registration.expires_at.isoformat(),
                             "minutes_left": left,
                             "message": translate_plural(said, left, locale, minutes=left)})
    flash(request, said, count=left, minutes=left)
    return redirect(back)


@router.post("/register/resend")
def register_resend(request: Request, session: DbSession, now: Now) -> Response:
    """Send a new activation PIN."""
    registration = _open_registration(request, session, now)
    if registration is None:
        return redirect("/register")
    try:
        service.resend_pin(session, registration.id, now=now)
    except BorderpassError as error:
        return render(request, "identity/register_activate.html", status=error.status,
                      keep_writes=error.keep, registration=registration,
                      errors=error_of(error, page_locale(request), ("pin",)),
                      mailbox=outbox.mailbox_folder())
    flash(request, _("A new PIN has been sent."))
    return redirect("/register/activate")


# --- signing in and the account ----------------------------------------------------

@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    """Show the resident's sign-in form."""
    return render(request, "identity/sign_in.html", next=safe_next(next),
                  kinds=_kinds(page_locale(request), SIGN_IN_KINDS),
                  values={"document_kind": "hkid"})


@router.post("/sign-in")
def sign_in(request: Request, session: DbSession, now: Now, form: PageForm,
            address: ClientAddress) -> Response:
    """Sign a resident in with document number and password."""
    values = text_fields(form, ["document_kind", "document_number", "next"])
    password = form.get("password")
    locale = page_locale(request)
    try:
        person, token, _expires = service.sign_in(
            session, values["document_kind"], values["document_number"],
            password if isinstance(password, str) else "", now=now, address=address)
    except BorderpassError as error:
        # A failed sign-in is kept (it counts towards the delay and the lock).
        page = render(request, "identity/sign_in.html", status=error.status,
                      keep_writes=error.keep, next=safe_next(values["next"]),
                      kinds=_kinds(locale, SIGN_IN_KINDS), values=values,
                      errors=error_of(error, locale, ("document_kind", "document_number",
                                                      "password"), default="password"))
        page.headers.update(error.headers)
        return page
    remember_sign_in(request, token=token, role="resident", kind="resident", name=person.initials)
    return redirect(safe_next(values["next"]))


@router.get("/account")
def account(request: Request, session: DbSession, caller: Resident) -> Response:
    """Show the resident's own record."""
    person = service.person_view(service.get_person(session, caller.id))
    return render(request, "identity/account.html", person=person,
                  phone=display_phone(person.phone))


@router.post("/account/delete")
def delete_account(request: Request, session: DbSession, now: Now, caller: Resident,
                   form: PageForm) -> Response:
    """Delete the resident's account after they confirmed it."""
    if not form.get("confirm"):
        person = service.person_view(service.get_person(session, caller.id))
        return render(request, "identity/account.html", status=422, person=person,
                      phone=display_phone(person.phone), errors={
            "confirm": tr(page_locale(request), _("Tick the box to confirm."))})
    service.delete_account(session, caller.id, now=now)
    request.session.clear()
    flash(request, _("Your account and your proof of address have been deleted."))
    return redirect("/")


# --- help station ------------------------------------------------------------------

def _help_desk_page(request: Request, status: int = 200, **context: Any) -> Response:
    return render(request, "identity/help_desk.html", status=status,
                  kinds=_kinds(page_locale(request)), at_help_desk=True, **context)


@router.get("/officer/help-desk")
def help_desk(request: Request, _caller: HelpDesk) -> Response:
    """Show the help-station registration form."""
    return _help_desk_page(request, values={"document_kind": "hkid"})


@router.post("/officer/help-desk")
def help_desk_register(request: Request, session: DbSession, now: Now, caller: HelpDesk,
                             form: PageForm) -> Response:
    """Register a person at a help station and activate the account on the spot."""
    locale = page_locale(request)
    password, errors = _password(form, locale)
    details, values, field_problems = _details(form, locale, password=password)
    errors = {**field_problems, **errors}
    if not form.get("documents_checked"):
        errors["documents_checked"] = tr(
            locale, _("Confirm that you have seen the original documents."))
    proof = _read_proof(form)
    if not proof and "proof" not in errors:
        errors["proof"] = tr(locale, _("Attach the proof of address."))
    if details is None or errors:
        return _help_desk_page(request, status=422, values=values, errors=errors)
    try:
        registration = service.start_registration(session, now=now)
        # The officer activates the account here and now: no PIN is sent.
        service.submit_registration(session, registration.id, details, proof, now=now,
                                    send_pin=False)
        person = service.activate_by_officer(session, registration.id, officer=caller.id,
                                             now=now)
    except BorderpassError as error:
        return _help_desk_page(request, status=error.status, values=values,
                               errors=error_of(error, locale, FORM_FIELDS))
    return render(request, "identity/help_desk_done.html",
                  person=service.person_view(person), existing=False,
                  suspended=service.claims_suspended_by(session, person.id))


# --- unlocking an account after too many failed sign-ins ----------------------------------

def _unlock_page(request: Request, session: Session, caller: Principal, status: int = 200,
                 **context: Any) -> Response:
    return render(request, "identity/unlock.html", status=status,
                  kinds=_kinds(page_locale(request), SIGN_IN_KINDS),
                  locks=[lock for lock in service.sign_in_locks(session, officer=caller)
                         if lock.scope == "resident"], **context)


@router.get("/officer/help-desk/unlock")
def unlock_page(request: Request, session: DbSession, caller: HelpDesk) -> Response:
    """Show the locked accounts and the form that unlocks one."""
    return _unlock_page(request, session, caller, values={"document_kind": "hkid"})


@router.post("/officer/help-desk/unlock")
def unlock(request: Request, session: DbSession, now: Now, caller: HelpDesk,
           form: PageForm) -> Response:
    """Unlock a resident's account after checking their identity document."""
    values = text_fields(form, ["document_kind", "document_number"])
    locale = page_locale(request)
    if not form.get("documents_checked"):
        return _unlock_page(request, session, caller, status=422, values=values, errors={
            "documents_checked": tr(locale, _("Confirm that you have seen the original "
                                              "identity document."))})
    try:
        done = service.unlock(session, kind=values["document_kind"],
                              number=values["document_number"], officer=caller, now=now)
    except BorderpassError as error:
        return _unlock_page(request, session, caller, status=error.status, values=values,
                            errors=error_of(error, locale, ("document_kind", "document_number")))
    if done.was_locked:
        flash(request, _("The account {account} is unlocked: its holder can sign in again."),
              account=done.account)
    else:
        flash(request, _("The account {account} was not locked; its failed sign-ins are "
                         "forgotten."), account=done.account)
    return redirect("/officer/help-desk/unlock")


# --- proving who holds the document ---------------------------------------------------

PROOF_METHODS = {
    "card_face": _("the identity card's chip and a live photo of the face"),
    "help_desk": _("a help desk, with the original card"),
    "registry_letter": _("the issuing registry's record and a PIN letter"),
}


def render_prove_page(request: Request, session: Session, person_id: uuid.UUID, *,
                      status: int = 200, keep_writes: bool = False, **context: Any) -> Response:
    """Show a resident how to prove their identity (or that it is proven)."""
    person = service.person_view(service.get_person(session, person_id))
    context.setdefault("values", {})
    return render(request, "identity/prove.html", status=status, keep_writes=keep_writes,
                  person=person, chip=person.document_kind in service.CHIP_KINDS,
                  methods=PROOF_METHODS, **context)


@router.get("/account/prove")
def prove_page(request: Request, session: DbSession, caller: Resident) -> Response:
    """Show the ways to prove that the resident holds their identity document."""
    return render_prove_page(request, session, caller.id)


@router.post("/account/prove/letter")
def prove_by_letter(request: Request, session: DbSession, now: Now, caller: Resident,
                    form: PageForm) -> Response:
    """Match the account with the issuing registry and send a PIN letter."""
    values = text_fields(form, ["born_on"])
    locale = page_locale(request)
    try:
        born_on = date.fromisoformat(values["born_on"])
    except ValueError:
        return render_prove_page(request, session, caller.id, status=422, values=values,
                                 errors={"born_on": tr(locale, _("Give a date."))})
    try:
        letter = service.request_letter(session, caller.id, born_on=born_on, now=now)
    except BorderpassError as error:
        return render_prove_page(request, session, caller.id, status=error.status,
                                 keep_writes=error.keep, values=values,
                                 errors=error_of(error, locale, ("born_on",)))
    flash(request, _("A letter with a PIN is on its way to the address the registry holds. "
                     "Enter the PIN here before {day}."),
          day=letter.expires_at.astimezone(HONG_KONG).date().isoformat())
    return redirect("/account/prove")


@router.post("/account/prove/letter/confirm")
def prove_by_letter_pin(request: Request, session: DbSession, now: Now, caller: Resident,
                        form: PageForm) -> Response:
    """Prove the account with the PIN of the registry's letter."""
    pin = text_fields(form, ["pin"])["pin"].replace(" ", "")
    locale = page_locale(request)
    try:
        if not (len(pin) == 6 and pin.isdigit()):
            raise InvalidInput(_("The PIN has 6 digits."), field="pin")
        service.confirm_letter(session, caller.id, pin, now=now)
    except BorderpassError as error:
        return render_prove_page(request, session, caller.id, status=error.status,
                                 keep_writes=error.keep,
                                 errors=error_of(error, locale, ("pin",)))
    flash(request, _("Your identity is proven. Your results and vaccinations are shown now."))
    return redirect("/account")


@router.get("/officer/help-desk/prove")
def help_desk_prove_page(request: Request, _caller: HelpDesk) -> Response:
    """Show the form that proves an existing account at the help desk."""
    return render(request, "identity/help_desk_prove.html",
                  kinds=_kinds(page_locale(request)), values={"document_kind": "hkid"})


@router.post("/officer/help-desk/prove")
def help_desk_prove(request: Request, session: DbSession, now: Now, caller: HelpDesk,
                    form: PageForm) -> Response:
    """Prove an existing account: the officer saw the card; the phone names the account."""
    fields = ("document_kind", "document_number", "phone")
    values = text_fields(form, fields)
    locale = page_locale(request)
    try:
        proof = service.prove_at_help_desk(
            session, kind=values["document_kind"], number=values["document_number"],
            phone=values["phone"], card_checked=bool(form.get("card_checked")),
            officer=caller.id, now=now)
    except BorderpassError as error:
        return render(request, "identity/help_desk_prove.html", status=error.status,
                      kinds=_kinds(locale), values=values,
                      errors=error_of(error, locale, (*fields, "card_checked")))
    person = service.person_view(service.get_person(session, proof.person_id))
    return render(request, "identity/help_desk_done.html", person=person, existing=True,
                  suspended=proof.suspended_claims)


@router.get("/officer/identity-cases")
def identity_cases(request: Request, session: DbSession, _caller: HelpDesk,
                   closed: bool = False) -> Response:
    """List the claimed accounts suspended because someone proved they hold the document
    (with the closed cases too, if asked)."""
    return render(request, "identity/cases.html",
                  cases=service.list_cases(session, open_only=not closed), showing_all=closed,
                  methods=PROOF_METHODS)


@router.post("/officer/identity-cases/{case_id}/close")
def close_identity_case(request: Request, case_id: uuid.UUID, session: DbSession, now: Now,
                        caller: HelpDesk, form: PageForm) -> Response:
    """Close a case with what the officer found."""
    note = text_fields(form, ["note"])["note"]
    locale = page_locale(request)
    try:
        service.close_case(session, case_id, officer=caller.id, note=note, now=now)
    except BorderpassError as error:
        return render(request, "identity/cases.html", status=error.status,
                      cases=service.list_cases(session, open_only=True), showing_all=False,
                      methods=PROOF_METHODS, errors={"form": error.render(locale)})
    flash(request, _("The case is closed."))
    return redirect("/officer/identity-cases")


# --- staff sign-in and signing out ----------------------------------------------------

@router.get("/staff/sign-in")
def staff_sign_in_page(request: Request, next: str | None = None) -> Response:
    """Show the staff sign-in form."""
    return render(request, "staff_sign_in.html", next=safe_next(next, ""))


@router.post("/staff/sign-in")
def staff_sign_in(request: Request, session: DbSession, now: Now, form: PageForm,
                  address: ClientAddress) -> Response:
    """Sign an officer in and open their start page."""
    values = text_fields(form, ["username", "next"])
    password = form.get("password")
    try:
        member, token, _expires = service.sign_in_staff(
            session, values["username"], password if isinstance(password, str) else "", now=now,
            address=address)
    except BorderpassError as error:
        page = render(request, "staff_sign_in.html", status=error.status,
                      keep_writes=error.keep, next=safe_next(values["next"], ""),
                      values=values, errors=error_of(error, page_locale(request),
                                                     ("username", "password"),
                                                     default="password"))
        page.headers.update(error.headers)
        return page
    remember_sign_in(request, token=token, role=member.role, kind="staff",
                     name=member.display_name)
    return redirect(safe_next(values["next"], STAFF_HOME.get(member.role, "/officer")))


@router.post("/sign-out")
def sign_out(request: Request, session: DbSession, now: Now, _form: PageForm) -> Response:
    """Sign out: the session's access token is revoked."""
    sign_out_page(request, session, now)
    return redirect("/")
