"""Pages of the e-Channel: proving a resident's identity with their smart identity card
and a live photo of their face, and a guardian's consent to a child's enrolment. They call
the same service as ``echannel.api``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData, UploadFile

from borderpass.echannel import face, service
from borderpass.echannel.guardians import GuardianNotProven
from borderpass.echannel.schemas import RELATIONSHIPS, GuardianNamed
from borderpass.identity.caller import require_page
from borderpass.identity.pages import render_prove_page
from borderpass.identity.schemas import Principal
from borderpass.kit.errors import BorderpassError
from borderpass.kit.http import DbSession, Now
from borderpass.kit.i18n import _
from borderpass.kit.pages import (
    WEB,
    PageForm,
    csrf_protect,
    error_of,
    flash,
    page_locale,
    redirect,
    render,
    text_fields,
    tr,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Resident = Annotated[Principal, require_page("resident")]
_MAX_CARD_BYTES = 256 * 1024


def _upload(form: FormData, name: str, limit: int) -> bytes:
    upload = form.get(name)
    if not isinstance(upload, UploadFile):
        return b""
    return upload.file.read(limit + 1)


@router.post("/account/prove/card")
def prove_with_card(request: Request, session: DbSession, now: Now, caller: Resident,
                    form: PageForm) -> Response:
    """Prove the resident's identity with the card's chip and a live photo of their face."""
    locale = page_locale(request)
    card = _upload(form, "card", _MAX_CARD_BYTES)
    photo = _upload(form, "live_photo", face.MAX_PHOTO_BYTES)
    errors = {}
    if not card:
        errors["card"] = tr(locale, _("Attach the chip of your identity card."))
    if not photo:
        errors["live_photo"] = tr(locale, _("Attach a photo of your face taken now."))
    if errors:
        return render_prove_page(request, session, caller.id, status=422, errors=errors)
    try:
        service.prove_with_card(session, person_id=caller.id, card=card, live_photo=photo,
                                now=now)
    except BorderpassError as error:
        return render_prove_page(request, session, caller.id, status=error.status,
                                 keep_writes=error.keep,
                                 errors=error_of(error, locale, ("card", "live_photo")))
    flash(request, _("Your identity is proven. Your results and vaccinations are shown now."))
    return redirect("/account")


RELATIONSHIP_NAMES = {
    "father": _("Father"),
    "mother": _("Mother"),
    "legal_guardian": _("Legal guardian"),
}
CONSENT_STATES = {
    "pending": _("Waiting for your approval"),
    "approved": _("Approved"),
    "declined": _("Declined"),
    "withdrawn": _("Consent withdrawn"),
    "expired": _("Expired"),
    "cancelled": _("Replaced by a newer request"),
}


def _guardian_page(request: Request, session: DbSession, now: Now, caller: Principal, *,
                   status: int = 200, keep_writes: bool = False,
                   errors: dict[str, dict[str, str]] | None = None,
                   values: dict[str, str] | None = None) -> Response:
    try:
        requests = service.consents_for_guardian(session, caller.id, now=now)
        refused = None
    except GuardianNotProven as error:
        requests, refused = [], error.render(page_locale(request))
    return render(request, "echannel/guardian.html", status=status, keep_writes=keep_writes,
                  requests=requests, refused=refused, consent_days=service.CONSENT_DAYS,
                  relationships=[(key, RELATIONSHIP_NAMES[key]) for key in RELATIONSHIPS],
                  relationship_names=RELATIONSHIP_NAMES, states=CONSENT_STATES,
                  request_errors=errors or {}, values=values or {})


@router.get("/account/children")
def guardian_requests(request: Request, session: DbSession, now: Now,
                      caller: Resident) -> Response:
    """Show a guardian the children's requests for consent to their e-Channel enrolment."""
    return _guardian_page(request, session, now, caller)


@router.post("/account/children/{consent_id}/approve")
def approve_request(consent_id: uuid.UUID, request: Request, session: DbSession, now: Now,
                    caller: Resident, form: PageForm) -> Response:
    """Approve a child's enrolment, stating the relationship."""
    locale = page_locale(request)
    values = text_fields(form, ["relationship", "consent"])
    problems = {}
    if values["relationship"] not in RELATIONSHIPS:
        problems["relationship"] = tr(locale, _("Choose your relationship to the child."))
    if values["consent"] != "yes":
        problems["consent"] = tr(locale, _("Tick the box to give your consent."))
    if problems:
        return _guardian_page(request, session, now, caller, status=422, values=values,
                              errors={str(consent_id): problems})
    try:
        approved = service.approve_consent(session, consent_id, person_id=caller.id,
                                           relationship=values["relationship"], now=now)
    except BorderpassError as error:
        return _guardian_page(request, session, now, caller, status=error.status,
                              keep_writes=error.keep, values=values, errors={
                                  str(consent_id): error_of(error, locale, ())})
    flash(request, _("You approved the e-Channel enrolment of {name}."),
          name=approved.child_name_zh if locale != "en" else approved.child_name_en)
    return redirect("/account/children")


@router.post("/account/children/{consent_id}/withdraw")
def withdraw_request(consent_id: uuid.UUID, request: Request, session: DbSession, now: Now,
                     caller: Resident, form: PageForm) -> Response:
    """Decline a child's request, or withdraw the consent given: the enrolment closes."""
    locale = page_locale(request)
    try:
        withdrawn = service.withdraw_consent(session, consent_id, person_id=caller.id, now=now)
    except BorderpassError as error:
        return _guardian_page(request, session, now, caller, status=error.status,
                              keep_writes=error.keep,
                              errors={str(consent_id): error_of(error, locale, ())})
    name = withdrawn.child_name_zh if locale != "en" else withdrawn.child_name_en
    if withdrawn.status == "declined":
        flash(request, _("You declined the e-Channel enrolment of {name}."), name=name)
    else:
        flash(request, _("You withdrew your consent: the e-Channel enrolment of {name} is "
                         "closed and the face template deleted."), name=name)
    return redirect("/account/children")


# --- the e-Channel app: enrol on this phone, then show the gate-1 QR ---------------------

BorderOfficer = Annotated[Principal, require_page("border_officer", "supervisor")]
APP_PATH = "/app/echannel"
ENCODER = WEB / "static" / "vendor" / "qrcode.js"
DECODER = WEB / "static" / "vendor" / "jsQR.js"
_ENROL_FIELDS = ("card", "live_photo", "device_public_key", "guardian_number")
ENROLMENT_STATES = {
    "active": _("Enrolled"),
    "pending_guardian": _("Waiting for your guardian's approval"),
    "replaced": _("Replaced by a newer enrolment"),
    "withdrawn": _("Withdrawn"),
    "refused": _("Declined by your guardian"),
    "expired": _("Not approved in time"),
}


def _app_page(request: Request, session: DbSession, caller: Principal, *, status: int = 200,
              keep_writes: bool = False, errors: dict[str, str] | None = None,
              values: dict[str, str] | None = None) -> Response:
    mine = service.my_enrolments(session, caller.id)
    return render(request, "echannel/app.html", status=status, keep_writes=keep_writes,
                  latest=mine[0] if mine else None, states=ENROLMENT_STATES,
                  gates_key=service.gates_public_key(), encoder=ENCODER.exists(),
                  decoder=DECODER.exists(), minimum=service.MINIMUM_AGE,
                  consent_days=service.CONSENT_DAYS, errors=errors or {},
                  values=values or {})


@router.get(APP_PATH)
def echannel_app(request: Request, session: DbSession, caller: Resident) -> Response:
    """Show the e-Channel app: the enrolment on this phone and its gate-1 QR."""
    return _app_page(request, session, caller)


@router.post(f"{APP_PATH}/enrol")
def enrol(request: Request, session: DbSession, now: Now, caller: Resident,
          form: PageForm) -> Response:
    """Enrol the signed-in resident on this phone: card, live photo and the device key."""
    locale = page_locale(request)
    card = _upload(form, "card", _MAX_CARD_BYTES)
    photo = _upload(form, "live_photo", face.MAX_PHOTO_BYTES)
    values = text_fields(form, ["device_public_key", "guardian_number"])
    errors = {}
    if not card:
        errors["card"] = tr(locale, _("Attach the chip of your identity card."))
    if not photo:
        errors["live_photo"] = tr(locale, _("Take a photo of your face with the camera."))
    if not values["device_public_key"]:
        errors["form"] = tr(locale, _("This browser could not make the phone's key: the "
                                      "e-Channel app needs a current browser with "
                                      "JavaScript."))
    if errors:
        return _app_page(request, session, caller, status=422, errors=errors, values=values)
    guardian = (GuardianNamed(document_number=values["guardian_number"][:64])
                if values["guardian_number"] else None)
    try:
        enrolment = service.enrol_in_app(session, person_id=caller.id, card=card,
                                         live_photo=photo,
                                         device_public_key=values["device_public_key"],
                                         guardian=guardian, now=now)
    except BorderpassError as error:
        found = error_of(error, locale, _ENROL_FIELDS)
        if (error.field or "").startswith("guardian"):
            found = {"guardian_number": error.render(locale)}
        return _app_page(request, session, caller, status=error.status, keep_writes=error.keep,
                         errors=found, values=values)
    if enrolment.status == "pending_guardian":
        flash(request, _("Your guardian must now sign in and approve your enrolment within "
                         "{days} days."), days=service.CONSENT_DAYS)
    else:
        flash(request, _("You are enrolled: show the QR code below at gate 1."))
    return redirect(APP_PATH)


# --- a demonstration of the two gates ---------------------------------------------------


def _gates_page(request: Request, status: int = 200, **context: Any) -> Response:
    context.setdefault("errors", {})
    context.setdefault("passage_id", None)
    context.setdefault("decision", None)
    return render(request, "echannel/gates.html", status=status, decoder=DECODER.exists(),
                  **context)


@router.get(f"{APP_PATH}/gates")
def gates(request: Request, _caller: BorderOfficer) -> Response:
    """Show the two gates for a demonstration: scan the app's QR, then take a photo."""
    return _gates_page(request)


@router.post(f"{APP_PATH}/gates/1")
def gate1(request: Request, session: DbSession, now: Now, _caller: BorderOfficer,
          form: PageForm) -> Response:
    """Decide at gate 1 on the app's QR."""
    locale = page_locale(request)
    token = text_fields(form, ["token"])["token"]
    try:
        decision = service.gate1_qr(session, gate="DEMO-1", token=token, now=now)
    except BorderpassError as error:
        return _gates_page(request, error.status, keep_writes=error.keep,
                           errors={"token": error.render(locale)})
    return _gates_page(request, passage_id=str(decision.passage_id))


@router.post(f"{APP_PATH}/gates/2")
def gate2(request: Request, session: DbSession, now: Now, _caller: BorderOfficer,
          form: PageForm) -> Response:
    """Decide at gate 2 on the live face: open, or send the traveller to an officer."""
    locale = page_locale(request)
    passage = text_fields(form, ["passage_id"])["passage_id"]
    photo = _upload(form, "live_photo", face.MAX_PHOTO_BYTES)
    try:
        passage_id = uuid.UUID(passage)
    except ValueError:
        return _gates_page(request, 422, errors={"token": tr(locale, _(
            "Scan the QR code at gate 1 first."))})
    if not photo:
        return _gates_page(request, 422, passage_id=passage, errors={
            "live_photo": tr(locale, _("Take a photo of your face with the camera."))})
    try:
        decision = service.gate2_face(session, passage_id=passage_id, live_photo=photo, now=now)
    except BorderpassError as error:
        return _gates_page(request, error.status, keep_writes=error.keep,
                           errors={"live_photo": error.render(locale)})
    return _gates_page(request, decision=decision)
