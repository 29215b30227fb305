"""Pages of the crossing: the officer's decision at a control point (scan the code, read
the document, see the decision), the crossing policy in force, the quotas, and the
resident's booking of a quarantine-free place.

They call the same services as ``crossing.api``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from borderpass.crossing import service
from borderpass.crossing.schemas import BookingIn, DecisionIn, DecisionView, QuotaIn
from borderpass.healthcode import views as codes
from borderpass.identity.caller import require_page
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import hk_date
from borderpass.kit.config import get_settings
from borderpass.kit.errors import BorderpassError
from borderpass.kit.http import DbSession, Now
from borderpass.kit.i18n import _, _n
from borderpass.kit.pages import (
    WEB,
    PageForm,
    csrf_protect,
    error_of,
    field_errors,
    flash,
    page_locale,
    redirect,
    render,
    text_fields,
    tr,
)

__all__ = ["DIRECTIONS", "DOCUMENT_KINDS", "OUTCOMES", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

BorderOfficer = Annotated[Principal, require_page(*service.DECIDER_ROLES)]
PolicyReader = Annotated[Principal, require_page("border_officer", "health_officer",
                                                 "supervisor")]
PolicyOfficer = Annotated[Principal, require_page("health_officer", "supervisor")]
QuotaReader = Annotated[Principal, require_page("border_officer", *service.QUOTA_ROLES)]
QuotaOfficer = Annotated[Principal, require_page(*service.QUOTA_ROLES)]
Resident = Annotated[Principal, require_page("resident")]

POINT_KEY = "crossing_point"  # the control point an officer works at
DIRECTION_KEY = "crossing_direction"
DIRECTIONS = (("south", _("Southbound")), ("north", _("Northbound")))
DOCUMENT_KINDS = (("hkid", _("Hong Kong identity card")), ("hrp", _("Home Return Permit")),
                  ("macau", _("Macau identity card")),
                  ("mainland", _("Mainland resident identity card")))
OUTCOMES = {"quarantine_free": _("Quarantine-free crossing"),
            "quarantine": _("Crossing to quarantine"), "refused": _("Crossing refused")}
OUTCOME_COLOURS = {"quarantine_free": "green", "quarantine": "amber", "refused": "red"}
BOOKING_STATES = {"booked": _("Booked"), "used": _("Used at the crossing"),
                  "cancelled": _("Cancelled"), "no_show": _("Not used (day over)")}
DECIDE_FIELDS = ("control_point", "direction", "document_kind", "document_number", "code_text",
                 "endorsement")
QUOTA_FIELDS = ("control_point", "day", "days", "places")
SCANNER_DECODER = WEB / "static" / "vendor" / "jsQR.js"
WEEK = 7


def _labels(locale: str) -> dict[str, Any]:
    return {
        "directions": [(code, tr(locale, text)) for code, text in DIRECTIONS],
        "direction_names": {code: tr(locale, text) for code, text in DIRECTIONS},
        "document_kinds": [(code, tr(locale, text)) for code, text in DOCUMENT_KINDS],
        "outcomes": {code: tr(locale, text) for code, text in OUTCOMES.items()},
        "outcome_colours": OUTCOME_COLOURS,
        "booking_states": {code: tr(locale, text) for code, text in BOOKING_STATES.items()},
    }


def _points(session: Session, locale: str) -> list[tuple[str, str]]:
    return [(point.code, f"{service.control_point_name(point, locale)} ({point.code})")
            for point in service.list_control_points(session)]


# --- the decision at the control point -----------------------------------------------

def _decide_page(request: Request, session: Session, now: datetime, *, status: int = 200,
                 decision: DecisionView | None = None, values: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None) -> Response:
    locale = page_locale(request)
    points = _points(session, locale)
    codes_known = [code for code, _name in points]
    chosen = (values or {}).get("control_point") or request.session.get(POINT_KEY)
    if chosen not in codes_known:
        chosen = codes_known[0] if codes_known else ""
    shown = {"control_point": chosen,
             "direction": request.session.get(DIRECTION_KEY, "south"),
             "document_kind": "hkid", **(values or {})}
    today = service.decisions_today(session, chosen, now=now) if chosen else []
    return render(request, "crossing/decide.html", status=status, points=points,
                  values=shown, errors=errors or {}, decision=decision, today=today,
                  camera_decoder=SCANNER_DECODER.exists(),
                  code_prefix=get_settings().code_prefix,
                  whose=(codes.whose_code(decision.code.jurisdiction, locale=locale)
                         if decision and decision.code.jurisdiction else None),
                  code_problem=(codes.scan_problem(decision.code.reason, locale=locale)
                                if decision and decision.code.result != "valid" else None),
                  **_labels(locale))


@router.get("/officer/crossing")
def decide_page(request: Request, session: DbSession, now: Now, _caller: BorderOfficer,
                control_point: str | None = None) -> Response:
    """Show the decision form of the officer's control point, and today's decisions there."""
    if control_point:
        request.session[POINT_KEY] = control_point.strip().upper()[:8]
    return _decide_page(request, session, now)


@router.post("/officer/crossing")
def decide(request: Request, session: DbSession, now: Now, caller: BorderOfficer,
           form: PageForm) -> Response:
    """Decide a crossing from the document, the scanned code and an endorsement."""
    locale = page_locale(request)
    values = text_fields(form, DECIDE_FIELDS)
    request.session[POINT_KEY] = values["control_point"]
    request.session[DIRECTION_KEY] = values["direction"]
    upload = form.get("photo")
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            values["code_text"] = codes.decode_photo(upload.file.read(10 * 1024 * 1024))
    except BorderpassError as error:
        return _decide_page(request, session, now, status=error.status, values=values,
                            errors={"photo": error.render(locale)})
    if not values["code_text"]:
        return _decide_page(request, session, now, status=422, values=values, errors={
            "code_text": tr(locale, _("Scan the health code, or paste its text."))})
    try:
        data = DecisionIn(control_point=values["control_point"],
                          direction=values["direction"],
                          document_kind=values["document_kind"],
                          document_number=values["document_number"], code=values["code_text"],
                          endorsement=values["endorsement"] or None, language=locale)
    except ValidationError as error:
        found = field_errors(error, locale)
        found = {("code_text" if name == "code" else name): text for name, text in found.items()}
        return _decide_page(request, session, now, status=422, values=values, errors=found)
    try:
        decision = service.decide(session, data, officer=caller, channel="page", now=now)
    except BorderpassError as error:
        return _decide_page(request, session, now, status=error.status, values=values,
                            errors=error_of(error, locale, DECIDE_FIELDS))
    view = service.decision_view(decision, locale=locale)
    # The next traveller starts with an empty form at the same control point.
    kept = {key: values[key] for key in ("control_point", "direction", "document_kind")}
    return _decide_page(request, session, now, decision=view, values=kept)


# --- the policy ----------------------------------------------------------------------

def _policy_page(request: Request, session: Session, caller: Principal, status: int = 200,
                 errors: dict[str, str] | None = None) -> Response:
    locale = page_locale(request)
    shown = service.policy_view(service.active_policy(session), locale=locale)
    may_change = caller.role in ("health_officer", "supervisor")
    return render(request, "crossing/policy.html", status=status, policy=shown,
                  versions=service.list_policies(session) if may_change else [],
                  may_change=may_change, errors=errors or {},
                  point_names=dict(_points(session, locale)), **_labels(locale))


@router.get("/officer/crossing/policy")
def policy_page(request: Request, session: DbSession, caller: PolicyReader) -> Response:
    """Show the crossing policy in force: per control point and direction, each rule."""
    return _policy_page(request, session, caller)


@router.post("/officer/crossing/policy")
def policy_load(request: Request, session: DbSession, now: Now, caller: PolicyOfficer,
                form: PageForm) -> Response:
    """Load a crossing policy from a JSON file."""
    upload = form.get("policy")
    locale = page_locale(request)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _policy_page(request, session, caller, 422,
                            {"policy": tr(locale, _("Choose a crossing policy file (JSON)."))})
    try:
        loaded = service.load(session, upload.file.read(2 * 1024 * 1024), officer=caller.id,
                              now=now)
    except BorderpassError as error:
        return _policy_page(request, session, caller, error.status,
                            {"form": error.render(locale)})
    flash(request, _("Crossing policy {name} {version} loaded."), name=loaded.identifier,
          version=loaded.version)
    return redirect("/officer/crossing/policy")


@router.post("/officer/crossing/policy/{policy_id}/activate")
def policy_activate(request: Request, policy_id: uuid.UUID, session: DbSession, now: Now,
                    caller: PolicyOfficer, _form: PageForm) -> Response:
    """Put a crossing-policy version in force."""
    try:
        active = service.activate(session, policy_id, officer=caller.id, now=now)
    except BorderpassError as error:
        return _policy_page(request, session, caller, error.status,
                            {"form": error.render(page_locale(request))})
    flash(request, _("Crossing policy {name} {version} is now in force."),
          name=active.identifier, version=active.version)
    return redirect("/officer/crossing/policy")


# --- the quotas ----------------------------------------------------------------------

def _quota_page(request: Request, session: Session, now: datetime, caller: Principal, *,
                day: date | None = None, status: int = 200,
                values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None) -> Response:
    locale = page_locale(request)
    first = day or hk_date(now)
    days = [first + timedelta(days=offset) for offset in range(WEEK)]
    points = _points(session, locale)
    table = {(row.control_point, row.day): row
             for row in service.quotas(session, None, first, WEEK)}
    shown = values or {"control_point": points[0][0] if points else "",
                       "day": hk_date(now).isoformat(), "days": str(WEEK), "places": "100"}
    return render(request, "crossing/quota.html", status=status, points=points, days=days,
                  table=table, first=first, values=shown, errors=errors or {},
                  may_change=caller.role in service.QUOTA_ROLES)


@router.get("/officer/crossing/quota")
def quota_page(request: Request, session: DbSession, now: Now, caller: QuotaReader,
               day: date | None = None) -> Response:
    """Show the quarantine-free places of each control point over a week."""
    return _quota_page(request, session, now, caller, day=day)


@router.post("/officer/crossing/quota")
def quota_set(request: Request, session: DbSession, now: Now, caller: QuotaOfficer,
              form: PageForm) -> Response:
    """Set the quarantine-free places of a control point on a run of days."""
    locale = page_locale(request)
    values = text_fields(form, QUOTA_FIELDS)
    try:
        data = QuotaIn.model_validate(values)
    except ValidationError as error:
        return _quota_page(request, session, now, caller, status=422, values=values,
                           errors=field_errors(error, locale))
    try:
        service.set_quota(session, data, officer=caller, now=now)
    except BorderpassError as error:
        return _quota_page(request, session, now, caller, status=error.status, values=values,
                           errors=error_of(error, locale, QUOTA_FIELDS))
    flash(request, _n("Quarantine-free places set at {control_point} for {count} day.",
                      "Quarantine-free places set at {control_point} for {count} days."),
          control_point=data.control_point, count=data.days)
    return redirect(f"/officer/crossing/quota?day={data.day.isoformat()}")


# --- the resident's booking ---------------------------------------------------------

def _booking_page(request: Request, session: Session, now: datetime, caller: Principal, *,
                  control_point: str | None = None, status: int = 200,
                  errors: dict[str, str] | None = None) -> Response:
    locale = page_locale(request)
    points = _points(session, locale)
    known = [code for code, _name in points]
    chosen = control_point if control_point in known else (known[0] if known else None)
    today = hk_date(now)
    rows = service.quotas(session, chosen, today, WEEK) if chosen else []
    return render(request, "crossing/book.html", status=status, points=points, chosen=chosen,
                  rows=rows, bookings=service.my_bookings(session, caller, now=now),
                  today=today, point_names=dict(points), errors=errors or {},
                  **_labels(locale))


@router.get("/crossing")
def booking_page(request: Request, session: DbSession, now: Now, caller: Resident,
                 control_point: str | None = None) -> Response:
    """Show the free quarantine-free places of a control point this week, and my bookings."""
    return _booking_page(request, session, now, caller, control_point=control_point)


@router.post("/crossing/bookings")
def book(request: Request, session: DbSession, now: Now, caller: Resident,
         form: PageForm) -> Response:
    """Book a quarantine-free place at a control point on a day."""
    values = text_fields(form, ("control_point", "day"))
    locale = page_locale(request)
    try:
        data = BookingIn.model_validate(values)
    except ValidationError:
        return _booking_page(request, session, now, caller, status=422,
                             control_point=values["control_point"], errors={
                                 "form": tr(locale, _("Choose a control point and a day."))})
    try:
        booking = service.book(session, data, caller=caller, now=now)
    except BorderpassError as error:
        return _booking_page(request, session, now, caller, status=error.status,
                             control_point=data.control_point,
                             errors={"form": error.render(locale)})
    flash(request, _("Your quarantine-free place is booked: {reference}."),
          reference=booking.reference)
    return redirect(f"/crossing?control_point={data.control_point}")


@router.post("/crossing/bookings/{booking_id}/cancel")
def cancel(request: Request, booking_id: uuid.UUID, session: DbSession, now: Now,
           caller: Resident, _form: PageForm) -> Response:
    """Cancel a booking; its place is free for someone else at once."""
    try:
        service.cancel(session, booking_id, caller=caller, now=now)
    except BorderpassError as error:
        return _booking_page(request, session, now, caller, status=error.status,
                             errors={"form": error.render(page_locale(request))})
    flash(request, _("Your booking is cancelled; the place is free for someone else."))
    return redirect("/crossing")
