"""Pages of the permits domain: the applicant's (which types and reasons are open, apply,
the application, booking, the decision letter) and the exit-entry officers' (today's
appointments, reviewing evidence, deciding, the supervisor's cases, publishing slots).

They call the same services as ``permits.api``. An applicant is not a registered
resident: the application's access token, issued when they apply, is kept in the
site's session under its own key, so it neither signs anyone in nor out.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.caller import require_page
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import hk_date
from borderpass.kit.errors import BorderpassError, InvalidInput, Unauthorised
from borderpass.kit.http import DbSession, Now
from borderpass.kit.i18n import _, _n
from borderpass.kit.pages import (
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
from borderpass.permits import policy as policies
from borderpass.permits import service
from borderpass.permits.letter import render_letter
from borderpass.permits.schemas import ApplicationIn, DecisionIn, EvidenceMarkIn, SlotsIn

__all__ = ["CHECK_STATES", "PERMIT_TOKEN", "STATUSES", "STEP_ACTIONS", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Reviewer = Annotated[Principal, require_page(*service.REVIEWER_ROLES)]
Supervisor = Annotated[Principal, require_page("supervisor")]

PERMIT_TOKEN = "permit_token"  # noqa: S105 - the session key holding the token, not a secret
OFFICE_KEY = "permit_office"  # the office an officer last chose

STATUSES = {
    "submitted": _("Submitted: book an appointment"),
    "booked": _("Appointment booked"),
    "under_review": _("Under review at the office"),
    "escalated": _("Referred to a supervisor"),
    "approved": _("Approved"),
    "refused": _("Refused"),
}
STEP_ACTIONS = {
    "applied": _("Applied"),
    "booked": _("Appointment booked"),
    "changed": _("Appointment changed"),
    "cancelled": _("Appointment cancelled"),
    "evidence_marked": _("Evidence item checked"),
    "escalated": _("Referred to a supervisor"),
    "approved": _("Approved"),
    "refused": _("Refused"),
}
ACTORS = {
    "applicant": _("Applicant"),
    "exit_entry_officer": _("Exit-entry officer"),
    "supervisor": _("Supervisor"),
}
CHECK_STATES = {
    "pending": _("Not yet checked"),
    "seen": _("Seen"),
    "missing": _("Missing"),
    "not_acceptable": _("Not acceptable"),
}
DESTINATIONS = (("HK", _("Hong Kong")), ("MO", _("Macau")))
APPLY_FIELDS = ("mainland_id", "name", "phone", "permit_number", "kind", "destination",
                "reason", "relationship", "relationship_detail", "employer", "inviter")
_OPTIONAL = ("reason", "relationship", "relationship_detail", "employer", "inviter")
DECISION_FIELDS = ("reasons", "note", "entries", "valid_from", "validity_days", "stay_days")
SLOT_FIELDS = ("office", "day", "opens", "closes", "minutes", "capacity")


def _labels(locale: str) -> dict[str, Any]:
    """The translated names of statuses, steps, actors and check states, for templates."""
    return {
        "statuses": {key: tr(locale, text) for key, text in STATUSES.items()},
        "actions": {key: tr(locale, text) for key, text in STEP_ACTIONS.items()},
        "actors": {key: tr(locale, text) for key, text in ACTORS.items()},
        "check_states": {key: tr(locale, text) for key, text in CHECK_STATES.items()},
        "destinations": {key: tr(locale, text) for key, text in DESTINATIONS},
    }


def _names(policy: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Names of the policy's types, reasons and relationships in the page's language."""
    evidence = {check["item"]: check["name"]
                for group in (*policy["types"], *policy["reasons"]) for check in group["checklist"]}
    return {
        "evidence": evidence,
        "kinds": {item["kind"]: item["name"] for item in policy["types"]},
        "reasons": {item["reason"]: item["name"] for item in policy["reasons"]},
        "relationships": {**policy["relationships"]["direct"],
                          **policy["relationships"]["other"]},
    }


def _pdf(content: bytes, name: str) -> Response:
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"',
                             "Cache-Control": "no-store"})


# --- the applicant -----------------------------------------------------------------

def applicant_caller(request: Request, session: DbSession, now: Now) -> Principal | None:
    """Return the applicant whose access token this session holds, or ``None``."""
    token = request.session.get(PERMIT_TOKEN)
    if not token:
        return None
    try:
        caller = identity.authenticate(session, token, now=now)
    except Unauthorised:
        caller = None
    if caller is None or caller.kind != "applicant":
        request.session.pop(PERMIT_TOKEN, None)
        return None
    return caller


MaybeApplicant = Annotated[Principal | None, Depends(applicant_caller)]


def _ask_for_token(request: Request) -> Response:
    flash(request, _("Open your application with its access token first."))
    return redirect("/permits/open")


@router.get("/permits")
def permits_home(request: Request, now: Now, caller: MaybeApplicant) -> Response:
    """Show which endorsement types and emergency reasons are open today, with checklists."""
    policy = service.policy_view(locale=page_locale(request), now=now)
    return render(request, "permits/index.html", policy=policy, has_application=caller is not None)


def _apply_page(request: Request, now: datetime, status: int = 200, **context: Any) -> Response:
    locale = page_locale(request)
    policy = service.policy_view(locale=locale, now=now)
    kinds = [(item["kind"], item["name"]) for item in policy["types"] if item["open"]]
    context.setdefault("values", {"kind": kinds[0][0] if kinds else "", "destination": "HK"})
    return render(request, "permits/apply.html", status=status, policy=policy, kinds=kinds,
                  destinations=[(code, tr(locale, name)) for code, name in DESTINATIONS],
                  **context)


@router.get("/permits/apply")
def apply_page(request: Request, now: Now) -> Response:
    """Show the application form: only the types open today can be chosen."""
    return _apply_page(request, now)


@router.post("/permits/apply")
def apply(request: Request, session: DbSession, now: Now, form: PageForm) -> Response:
    """Accept an application and show its access token, once."""
    locale = page_locale(request)
    values = text_fields(form, APPLY_FIELDS)
    data: dict[str, Any] = {key: (value or None) if key in _OPTIONAL else value
                            for key, value in values.items()}
    data["locale"] = locale
    try:
        details = ApplicationIn.model_validate(data)
    except ValidationError as error:
        return _apply_page(request, now, 422, values=values,
                           errors=field_errors(error, locale))
    try:
        application, token, expires = service.create_application(session, details, now=now)
    except BorderpassError as error:
        return _apply_page(request, now, error.status, values=values,
                           errors=error_of(error, locale, APPLY_FIELDS))
    request.session[PERMIT_TOKEN] = token
    return render(request, "permits/applied.html", status=201,
                  reference=application.reference, token=token, expires=expires)


@router.get("/permits/open")
def open_page(request: Request) -> Response:
    """Ask for the application's access token."""
    return render(request, "permits/open.html")


@router.post("/permits/open")
def open_application(request: Request, session: DbSession, now: Now,
                     form: PageForm) -> Response:
    """Open an application with its access token."""
    token = text_fields(form, ["token"])["token"]
    locale = page_locale(request)
    try:
        if not token:
            raise InvalidInput(_("Paste the access token you were given when you applied."),
                               field="token")
        caller = identity.authenticate(session, token, now=now)
        if caller.kind != "applicant":
            raise InvalidInput(_("This is not the access token of an application."),
                               field="token")
    except BorderpassError as error:
        return render(request, "permits/open.html", status=error.status,
                      errors={"token": error.render(locale)})
    request.session[PERMIT_TOKEN] = token
    return redirect("/permits/application")


def _application_page(
    request: Request, session: Session, now: datetime, caller: Principal, *,
    office: str | None = None, day: date | None = None, status: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    locale = page_locale(request)
    view = service.application_view(session, service.get_application(session, caller.id))
    offices = service.list_offices(session)
    codes = [item.code for item in offices]
    chosen = office if office in codes else (
        view.appointment.office if view.appointment else (codes[0] if codes else None))
    day = day or hk_date(now) + timedelta(days=1)
    slots = service.list_slots(session, chosen, day) if chosen else []
    policy = service.policy_view(locale=locale, now=now)
    return render(request, "permits/application.html", status=status, view=view,
                  steps=service.steps_of(session, caller.id), offices=offices,
                  office=chosen, day=day, slots=[s for s in slots if s.starts_at > now],
                  names=_names(policy), errors=errors or {}, **_labels(locale))


@router.get("/permits/application")
def application_page(request: Request, session: DbSession, now: Now, caller: MaybeApplicant,
                     office: str | None = None, day: date | None = None) -> Response:
    """Show the application: status, checklist, appointment, steps, decision; book a slot."""
    if caller is None:
        return _ask_for_token(request)
    return _application_page(request, session, now, caller, office=office, day=day)


@router.post("/permits/application/appointment")
def book(request: Request, session: DbSession, now: Now, caller: MaybeApplicant,
         form: PageForm) -> Response:
    """Book a place in a slot, or move the appointment there."""
    if caller is None:
        return _ask_for_token(request)
    try:
        slot_id = uuid.UUID(text_fields(form, ["slot_id"])["slot_id"])
    except ValueError:
        return _application_page(request, session, now, caller, status=422, errors={
            "form": tr(page_locale(request), _("Choose a slot."))})
    application = service.get_application(session, caller.id)
    try:
        if application.status == "booked":
            service.change(session, caller.id, slot_id, caller=caller, now=now)
            flash(request, _("Your appointment has been changed."))
        else:
            service.book(session, caller.id, slot_id, caller=caller, now=now)
            flash(request, _("Your appointment is booked."))
    except BorderpassError as error:
        return _application_page(request, session, now, caller, status=error.status,
                                 errors={"form": error.render(page_locale(request))})
    return redirect("/permits/application")


@router.post("/permits/application/cancel")
def cancel(request: Request, session: DbSession, now: Now, caller: MaybeApplicant,
           _form: PageForm) -> Response:
    """Cancel the appointment; its place is freed at once."""
    if caller is None:
        return _ask_for_token(request)
    try:
        service.cancel(session, caller.id, caller=caller, now=now)
    except BorderpassError as error:
        return _application_page(request, session, now, caller, status=error.status,
                                 errors={"form": error.render(page_locale(request))})
    flash(request, _("Your appointment has been cancelled."))
    return redirect("/permits/application")


@router.get("/permits/application/letter")
def applicant_letter(request: Request, session: DbSession, caller: MaybeApplicant) -> Response:
    """Download the decision letter (PDF) in the page's language."""
    if caller is None:
        return _ask_for_token(request)
    data = service.letter_data(session, caller.id, caller=caller, locale=page_locale(request))
    return _pdf(render_letter(data), f"decision-{data.reference}.pdf")


@router.post("/permits/application/forget")
def forget(request: Request, _form: PageForm) -> Response:
    """Close the application on this device; the access token opens it again."""
    request.session.pop(PERMIT_TOKEN, None)
    flash(request, _("The application is closed on this device."))
    return redirect("/permits")


# --- the officers ------------------------------------------------------------------

@router.get("/officer/permits")
def appointments(request: Request, session: DbSession, now: Now, _caller: Reviewer,
                 office: str | None = None, day: date | None = None) -> Response:
    """Show the day's appointments (today by default) at the officer's office."""
    offices = service.list_offices(session)
    codes = [item.code for item in offices]
    remembered = request.session.get(OFFICE_KEY)
    chosen = office if office in codes else (remembered if remembered in codes else
                                             (codes[0] if codes else None))
    if chosen:
        request.session[OFFICE_KEY] = chosen
    day = day or hk_date(now)
    rows = service.appointments_on(session, chosen, day) if chosen else []
    policy = service.policy_view(locale=page_locale(request), now=now)
    return render(request, "permits/appointments.html", offices=offices, office=chosen,
                  day=day, rows=rows, names=_names(policy), **_labels(page_locale(request)))


def _review_page(
    request: Request, session: Session, now: datetime, caller: Principal,
    application_id: uuid.UUID, *, status: int = 200, errors: dict[str, str] | None = None,
    evidence_errors: dict[str, dict[str, str]] | None = None,
    decision_errors: dict[str, str] | None = None, outcome: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    locale = page_locale(request)
    application = service.get_application(session, application_id)
    view = service.application_view(session, application)
    terms = policies.current().types[view.kind]
    policy = service.policy_view(locale=locale, now=now)
    return render(request, "permits/review.html", status=status, view=view,
                  details=service.review_details(session, application_id, officer=caller),
                  steps=service.steps_of(session, application_id), terms=terms,
                  role=caller.role, names=_names(policy), errors=errors or {},
                  evidence_errors=evidence_errors or {}, decision_errors=decision_errors or {},
                  outcome=outcome, values=values or {}, today=hk_date(now),
                  reviewable=view.status in service.REVIEW_STATES, **_labels(locale))


@router.get("/officer/permits/applications/{application_id}")
def review(request: Request, application_id: uuid.UUID, session: DbSession, now: Now,
           caller: Reviewer) -> Response:
    """Open an application for review: checklist, terms, history and the decision."""
    return _review_page(request, session, now, caller, application_id)


@router.post("/officer/permits/applications/{application_id}/evidence/{item}")
def mark(request: Request, application_id: uuid.UUID, item: str, session: DbSession, now: Now,
         caller: Reviewer, form: PageForm) -> Response:
    """Mark one evidence item seen, missing, or not acceptable with a reason."""
    locale = page_locale(request)
    values = text_fields(form, ["state", "reason"])
    try:
        data = EvidenceMarkIn.model_validate({"state": values["state"],
                                              "reason": values["reason"] or None})
    except ValidationError as error:
        return _review_page(request, session, now, caller, application_id, status=422,
                            evidence_errors={item: field_errors(error, locale)})
    try:
        service.mark_evidence(session, application_id, item, data, officer=caller, now=now)
    except BorderpassError as error:
        return _review_page(request, session, now, caller, application_id, status=error.status,
                            evidence_errors={item: error_of(error, locale, ("state", "reason"))})
    flash(request, _("Saved."))
    return redirect(f"/officer/permits/applications/{application_id}#checklist")


_DECIDED = {"approve": _("Approved: the endorsement is issued."),
            "refuse": _("Refused, with the reasons given."),
            "escalate": _("Referred to a supervisor.")}


@router.post("/officer/permits/applications/{application_id}/decision")
def decide(request: Request, application_id: uuid.UUID, session: DbSession, now: Now,
           caller: Reviewer, form: PageForm) -> Response:
    """Approve with the endorsement's terms, refuse with reasons, or escalate."""
    locale = page_locale(request)
    values = text_fields(form, ("outcome", *DECISION_FIELDS))
    outcome = values["outcome"]
    data: dict[str, Any] = {
        "outcome": outcome,
        "reasons": [line.strip() for line in values["reasons"].splitlines() if line.strip()],
        "note": values["note"] or None,
    }
    if outcome == "approve":
        data.update({key: values[key] or None
                     for key in ("entries", "valid_from", "validity_days", "stay_days")})
    try:
        decision = DecisionIn.model_validate(data)
    except ValidationError as error:
        return _review_page(request, session, now, caller, application_id, status=422,
                            decision_errors=field_errors(error, locale), outcome=outcome,
                            values=values)
    try:
        service.decide(session, application_id, decision, officer=caller, now=now)
    except BorderpassError as error:
        found = error_of(error, locale, DECISION_FIELDS)
        return _review_page(request, session, now, caller, application_id, status=error.status,
                            decision_errors=found, outcome=outcome, values=values,
                            errors={"form": next(iter(found.values()))})
    flash(request, _DECIDED[decision.outcome])
    return redirect(f"/officer/permits/applications/{application_id}")


@router.get("/officer/permits/applications/{application_id}/letter")
def officer_letter(request: Request, application_id: uuid.UUID, session: DbSession,
                   caller: Reviewer) -> Response:
    """Print the decision letter (PDF) in the page's language."""
    data = service.letter_data(session, application_id, caller=caller,
                               locale=page_locale(request))
    return _pdf(render_letter(data), f"decision-{data.reference}.pdf")


@router.get("/officer/permits/supervisor")
def supervisor_cases(request: Request, session: DbSession, now: Now,
                     _caller: Supervisor) -> Response:
    """List the applications a supervisor decides: escalated, or by another family member."""
    policy = service.policy_view(locale=page_locale(request), now=now)
    return render(request, "permits/supervisor.html", cases=service.awaiting_supervisor(session),
                  names=_names(policy), **_labels(page_locale(request)))


def _slots_page(request: Request, session: Session, now: datetime, *, office: str | None,
                day: date | None, status: int = 200, values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None) -> Response:
    offices = service.list_offices(session)
    codes = [item.code for item in offices]
    remembered = request.session.get(OFFICE_KEY)
    chosen = office if office in codes else (remembered if remembered in codes else
                                             (codes[0] if codes else None))
    day = day or hk_date(now) + timedelta(days=1)
    slots = service.list_slots(session, chosen, day) if chosen else []
    shown = values or {"office": chosen or "", "day": day.isoformat(), "opens": "09:00",
                       "closes": "12:00", "minutes": "30", "capacity": "10"}
    return render(request, "permits/slots.html", status=status, offices=offices, office=chosen,
                  day=day, slots=slots, values=shown, errors=errors or {},
                  office_options=[(item.code, f"{item.name} ({item.code})") for item in offices])


@router.get("/officer/permits/slots")
def slots_page(request: Request, session: DbSession, now: Now, _caller: Supervisor,
               office: str | None = None, day: date | None = None) -> Response:
    """Show an office's slots on a day and the form to publish more."""
    return _slots_page(request, session, now, office=office, day=day)


@router.post("/officer/permits/slots")
def publish(request: Request, session: DbSession, now: Now, caller: Supervisor,
            form: PageForm) -> Response:
    """Publish a day's appointment slots at an office, with their capacity."""
    locale = page_locale(request)
    values = text_fields(form, SLOT_FIELDS)
    try:
        data = SlotsIn.model_validate({key: values[key] for key in SLOT_FIELDS[1:]})
    except ValidationError as error:
        return _slots_page(request, session, now, office=values["office"], day=None,
                           status=422, values=values, errors=field_errors(error, locale))
    try:
        published = service.publish_slots(session, values["office"], data, officer=caller,
                                          now=now)
    except BorderpassError as error:
        return _slots_page(request, session, now, office=values["office"], day=data.day,
                           status=error.status, values=values,
                           errors=error_of(error, locale, SLOT_FIELDS))
    flash(request, _n("{count} slot published.", "{count} slots published."),
          count=len(published))
    return redirect(f"/officer/permits/slots?office={values['office']}&day={data.day}")
