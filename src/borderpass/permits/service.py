"""Endorsement applications: apply, book a slot, review the evidence, decide, issue.

An applicant is a mainland resident identified by a validated resident ID number; the
application gives them a bearer token for that one application (stored hashed by
identity). Officers review at the office; an application for a visit or a funeral by a
family member who is not a direct relative is decided by a supervisor, in writing.
Every step is recorded with who took it and when.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.documents import DocumentKind, InvalidDocumentNumber, mask, normalise
from borderpass.identity.phones import normalise_phone
from borderpass.identity.schemas import Principal
from borderpass.kit import outbox
from borderpass.kit.clock import HONG_KONG, hk_date
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from borderpass.kit.i18n import _, translate
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import document_index, open_text, seal_text
from borderpass.permits import policy as policies
from borderpass.permits import repository
from borderpass.permits.models import (
    Application,
    ApplicationStep,
    Appointment,
    Endorsement,
    EvidenceCheck,
    Office,
    Slot,
)
from borderpass.permits.schemas import (
    ApplicationIn,
    ApplicationView,
    AppointmentView,
    CheckView,
    DecisionIn,
    DecisionView,
    EndorsementView,
    EvidenceMarkIn,
    OfficeIn,
    SlotsIn,
    SlotView,
    StepView,
)

__all__ = [
    "APPLICANT_TOKEN_TTL",
    "REVIEWER_ROLES",
    "LetterData",
    "ReviewDetails",
    "application_view",
    "appointments_on",
    "authorise",
    "awaiting_supervisor",
    "book",
    "cancel",
    "change",
    "create_application",
    "create_office",
    "decide",
    "decisions_on",
    "get_application",
    "letter_data",
    "list_offices",
    "list_slots",
    "mark_evidence",
    "normalise_permit_number",
    "policy_view",
    "publish_slots",
    "queue_reminders",
    "review_details",
    "steps_of",
]

log = get_logger(__name__)

APPLICANT_TOKEN_TTL = timedelta(days=180)
REVIEWER_ROLES = ("exit_entry_officer", "supervisor")
OPEN_STATES = ("submitted", "booked", "under_review", "escalated")
REVIEW_STATES = ("booked", "under_review", "escalated")
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U


# --- errors ------------------------------------------------------------------------------

class ApplicationNotFound(NotFound):
    code = "application_not_found"
    message = _("There is no such application.")


class TypeClosed(InvalidInput):
    code = "endorsement_type_closed"
    message = _("Applications for {kind} endorsements are not accepted on {day}.")


class InvalidPermitNumber(InvalidInput):
    code = "invalid_permit_number"
    message = _("The permit number is not valid: expected C or W, then 8 characters of which "
                "the last 7 are digits, e.g. C12345678.")


class DuplicateApplication(Conflict):
    code = "duplicate_application"
    message = _("This resident already has an open {kind} application ({reference}).")


class OfficeNotFound(NotFound):
    code = "office_not_found"
    message = _("There is no such office.")


class SlotNotFound(NotFound):
    code = "slot_not_found"
    message = _("There is no such appointment slot.")


class SlotFull(Conflict):
    code = "slot_full"
    message = _("This slot has no free place left; choose another.")


class SlotPast(Conflict):
    code = "slot_past"
    message = _("This slot has already started; choose a later one.")


class WrongState(Conflict):
    code = "application_state"
    message = _("The application cannot do this now: it is {state}.")


class SupervisorRequired(Forbidden):
    code = "supervisor_required"
    message = _("A supervisor decides this application; escalate it instead.")


class ReviewIncomplete(Conflict):
    code = "review_incomplete"
    message = _("Every evidence item must be marked seen before approval; not yet: {items}.")


# --- policy ------------------------------------------------------------------------------

def policy_view(*, locale: str, now: datetime) -> dict[str, Any]:
    """Describe the policy in force today: open types, reasons, checklists, relationships."""
    policy = policies.current()
    today = hk_date(now)

    def names(items: tuple[str, ...]) -> list[dict[str, str]]:
        return [{"item": item, "name": policy.evidence[item].get(locale)} for item in items]

    conditions = policy.conditions_on(today)
    return {
        "day": today.isoformat(),
        "types": [
            {"kind": name, "name": kind.name.get(locale), "open": kind.is_open(today),
             "checklist": names(kind.checklist)}
            for name, kind in policy.types.items()
        ],
        "reasons": [
            {"reason": name, "name": reason.name.get(locale),
             "relationship_needed": reason.relationship,
             "checklist": names(policy.checklist("emergency", name))}
            for name, reason in policy.reasons.items()
        ],
        "relationships": {
            "direct": {key: text.get(locale) for key, text in policy.relationships.direct.items()},
            "other": {key: text.get(locale) for key, text in policy.relationships.other.items()},
        },
        "conditions": None if conditions is None else {
            "trip": [text.get(locale) for text in conditions.trip],
            "return": [text.get(locale) for text in conditions.return_],
        },
    }


# --- applications ------------------------------------------------------------------------

_PERMIT = re.compile(r"[CW][0-9A-Z]\d{7}")


def normalise_permit_number(text: str) -> str:
    """Return an exit-entry permit number in its normal form, e.g. ``C12345678``.

    Raises:
        InvalidPermitNumber: not C or W followed by 8 characters, the last 7 digits.
    """
    cleaned = re.sub(r"[\s\-]", "", text).upper()
    if not _PERMIT.fullmatch(cleaned):
        raise InvalidPermitNumber(field="permit_number")
    return cleaned


def _new_reference() -> str:
    return "PA" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(10))


def _check_terms(data: ApplicationIn, policy: policies.Policy) -> tuple[str | None, bool]:
    """Check kind-specific fields; return the relationship class and whether a supervisor
    must decide."""
    if data.kind != "emergency" and data.reason is not None:
        raise InvalidInput(_("Only an emergency application gives a reason."), field="reason")
    if data.kind != "business" and (data.employer or data.inviter):
        field = "employer" if data.employer else "inviter"
        raise InvalidInput(_("Only a business application names an employer and an inviter."),
                           field=field)
    if data.kind == "business":
        for field in ("employer", "inviter"):
            if not getattr(data, field):
                raise InvalidInput(_("A business application needs the {name}."), field=field,
                                   name=field)
    needs_relationship = False
    if data.kind == "emergency":
        if data.reason is None:
            raise InvalidInput(_("An emergency application needs a reason: one of {reasons}."),
                               field="reason", reasons=", ".join(policy.reasons))
        reason = policy.reasons.get(data.reason)
        if reason is None:
            raise InvalidInput(_("Unknown reason {reason}: use one of {reasons}."),
                               field="reason", reason=data.reason,
                               reasons=", ".join(policy.reasons))
        needs_relationship = reason.relationship
    if not needs_relationship:
        if data.relationship or data.relationship_detail:
            raise InvalidInput(_("A relationship is given only for a visit or a funeral."),
                               field="relationship")
        return None, False
    if not data.relationship:
        raise InvalidInput(_("State your relationship to the patient or the deceased."),
                           field="relationship")
    relationship_class = policy.relationship_class(data.relationship)
    if relationship_class is None:
        known = [*policy.relationships.direct, *policy.relationships.other]
        raise InvalidInput(_("Unknown relationship {relationship}: use one of {known}."),
                           field="relationship", relationship=data.relationship,
                           known=", ".join(known))
    if relationship_class == "other" and not data.relationship_detail:
        raise InvalidInput(_("Describe how you are related."), field="relationship_detail")
    return relationship_class, relationship_class == "other"


def create_application(
    session: Session, data: ApplicationIn, *, now: datetime
) -> tuple[Application, str, datetime]:
    """Accept an application; return it with the applicant's access token (shown once)."""
    policy = policies.current()
    today = hk_date(now)
    try:
        resident_id = normalise(DocumentKind.MAINLAND, data.mainland_id, today=today)
    except InvalidDocumentNumber as error:
        error.field = "mainland_id"
        raise
    phone = normalise_phone(data.phone)
    permit = normalise_permit_number(data.permit_number)
    kind = policy.types[data.kind]
    if not kind.is_open(today):
        raise TypeClosed(field="kind", kind=data.kind, day=today.isoformat())
    _relationship_class, needs_supervisor = _check_terms(data, policy)
    index = document_index(DocumentKind.MAINLAND.value, resident_id)
    existing = repository.open_applications_of(session, index, data.kind, OPEN_STATES)
    if existing:
        raise DuplicateApplication(field="mainland_id", kind=data.kind,
                                   reference=existing[0].reference)
    application = Application(
        reference=_new_reference(),
        applicant_index=index,
        applicant_id_sealed=seal_text("permit.applicant_id", resident_id),
        applicant_masked=mask(DocumentKind.MAINLAND, resident_id),
        name_sealed=seal_text("permit.name", data.name),
        phone_sealed=seal_text("permit.phone", phone),
        permit_number_sealed=seal_text("permit.permit_number", permit),
        permit_masked=permit[:2] + "*" * (len(permit) - 4) + permit[-2:],
        kind=data.kind,
        destination=data.destination,
        reason=data.reason,
        relationship=data.relationship,
        relationship_detail=data.relationship_detail,
        employer=data.employer,
        inviter=data.inviter,
        needs_supervisor=needs_supervisor,
        locale=data.locale,
        status="submitted",
        created_at=now,
    )
    repository.add(session, application)
    repository.add(session, *[
        EvidenceCheck(application_id=application.id, position=position, item=item,
                      state="pending")
        for position, item in enumerate(policy.checklist(data.kind, data.reason))
    ])
    applicant = Principal(kind="applicant", id=application.id, role="applicant")
    _step(session, application, applicant, "applied", now, kind=data.kind, reason=data.reason,
          relationship=data.relationship)
    token, expires = identity.issue_token(
        session, "applicant", application.id, "applicant", ttl=APPLICANT_TOKEN_TTL,
        label="permit application", now=now,
    )
    log.info("permit.applied", application=str(application.id), kind=data.kind,
             reason=data.reason, needs_supervisor=needs_supervisor)
    return application, token, expires


def get_application(session: Session, application_id: uuid.UUID) -> Application:
    """Return an application by id."""
    application = repository.get_application(session, application_id)
    if application is None:
        raise ApplicationNotFound(field="application_id")
    return application


def authorise(caller: Principal, application_id: uuid.UUID) -> None:
    """Admit the application's own applicant and reviewing officers; refuse anyone else."""
    if caller.kind == "applicant" and caller.id == application_id:
        return
    if caller.kind == "staff" and caller.role in REVIEWER_ROLES:
        return
    raise Forbidden()


def _locked(session: Session, application_id: uuid.UUID) -> Application:
    application = repository.get_application(session, application_id, for_update=True)
    if application is None:
        raise ApplicationNotFound(field="application_id")
    return application


def _step(
    session: Session,
    application: Application,
    actor: Principal,
    action: str,
    now: datetime,
    **detail: Any,
) -> None:
    repository.add(session, ApplicationStep(
        application_id=application.id,
        seq=repository.next_step_seq(session, application.id),
        at=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_role=actor.role,
        action=action,
        detail={key: value for key, value in detail.items() if value is not None},
    ))


def application_view(session: Session, application: Application) -> ApplicationView:
    """Shape an application, its checklist, appointment, decision and endorsement."""
    policy = policies.current()
    locale = application.locale
    checks = [
        CheckView(item=check.item, name=_item_name(policy, check.item, locale),
                  state=check.state,
                  reason=check.reason, marked_by=check.marked_by, marked_at=check.marked_at)
        for check in repository.checks_of(session, application.id)
    ]
    appointment = repository.active_appointment(session, application.id)
    decision = None
    if application.status in ("approved", "refused") and application.decided_at is not None:
        decision = DecisionView(
            outcome=application.status,
            at=application.decided_at,
            by=application.decided_by,
            role=application.decided_role or "",
            reasons=list(application.decision_reasons or []),
            note=application.decision_note,
        )
    endorsement = repository.endorsement_of(session, application.id)
    return ApplicationView(
        id=application.id,
        reference=application.reference,
        kind=application.kind,
        destination=application.destination,
        reason=application.reason,
        relationship=application.relationship,
        relationship_class=(policy.relationship_class(application.relationship)
                            if application.relationship else None),
        needs_supervisor=application.needs_supervisor,
        status=application.status,
        applicant_masked=application.applicant_masked,
        permit_masked=application.permit_masked,
        created_at=application.created_at,
        checklist=checks,
        appointment=_appointment_view(session, appointment) if appointment else None,
        decision=decision,
        endorsement=_endorsement_view(endorsement) if endorsement else None,
    )


def _item_name(policy: policies.Policy, item: str, locale: str) -> str:
    text = policy.evidence.get(item)
    return text.get(locale) if text is not None else item


def _appointment_view(session: Session, appointment: Appointment) -> AppointmentView:
    slot = repository.get_slot(session, appointment.slot_id)
    assert slot is not None  # noqa: S101 - the foreign key keeps them together
    office = repository.get_office(session, slot.office_id)
    return AppointmentView(
        id=appointment.id, slot_id=slot.id, office=office.code if office else "",
        starts_at=slot.starts_at, ends_at=slot.ends_at, status=appointment.status,
    )


def _endorsement_view(endorsement: Endorsement) -> EndorsementView:
    return EndorsementView.model_validate(endorsement, from_attributes=True)


@dataclass(frozen=True)
class ReviewDetails:
    """What the reviewing officer checks against the originals, beyond the view."""

    name: str
    relationship_detail: str | None
    employer: str | None
    inviter: str | None


def review_details(
    session: Session, application_id: uuid.UUID, *, officer: Principal
) -> ReviewDetails:
    """Unseal the applicant's name and give the terms an officer checks at the office."""
    identity.require_role(officer, *REVIEWER_ROLES)
    application = get_application(session, application_id)
    return ReviewDetails(
        name=open_text("permit.name", application.name_sealed),
        relationship_detail=application.relationship_detail,
        employer=application.employer,
        inviter=application.inviter,
    )


def awaiting_supervisor(session: Session) -> list[ApplicationView]:
    """List the open applications only a supervisor may decide, oldest first."""
    waiting = {a.id: a for a in repository.applications_in(session, ("escalated",))}
    for application in repository.applications_in(session, ("booked", "under_review"),
                                                  needs_supervisor=True):
        waiting.setdefault(application.id, application)
    ordered = sorted(waiting.values(), key=lambda a: (a.created_at, a.reference))
    return [application_view(session, application) for application in ordered]


def steps_of(session: Session, application_id: uuid.UUID) -> list[StepView]:
    """Return an application's history: who did what, and when."""
    get_application(session, application_id)
    return [StepView.model_validate(step, from_attributes=True)
            for step in repository.steps_of(session, application_id)]


# --- offices and slots -------------------------------------------------------------------

def create_office(session: Session, data: OfficeIn, *, now: datetime) -> Office:
    """Open an exit-entry office for appointments."""
    if repository.find_office(session, data.code) is not None:
        raise Conflict(_("There is already an office with code {code}."), field="code",
                       code=data.code)
    office = Office(code=data.code, name=data.name, address=data.address, created_at=now)
    repository.add(session, office)
    return office


def list_offices(session: Session) -> list[Office]:
    """List the offices that receive applicants, by code."""
    return repository.all_offices(session)


def _office(session: Session, code: str) -> Office:
    office = repository.find_office(session, code)
    if office is None:
        raise OfficeNotFound(field="office")
    return office


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def publish_slots(
    session: Session, code: str, data: SlotsIn, *, officer: Principal, now: datetime
) -> list[Slot]:
    """Publish a day's slots; a slot already published gets the new capacity."""
    identity.require_role(officer, *REVIEWER_ROLES)
    office = _office(session, code)
    opens, closes = _parse_hhmm(data.opens), _parse_hhmm(data.closes)
    if closes <= opens:
        raise InvalidInput(_("The office must close after it opens."), field="closes")
    if data.day < hk_date(now):
        raise InvalidInput(_("Slots cannot be published for a past day."), field="day")
    start = datetime.combine(data.day, opens, tzinfo=HONG_KONG)
    end = datetime.combine(data.day, closes, tzinfo=HONG_KONG)
    step = timedelta(minutes=data.minutes)
    published: list[Slot] = []
    while start + step <= end:
        slot = repository.slot_at(session, office.id, start)
        if slot is None:
            slot = Slot(office_id=office.id, starts_at=start, ends_at=start + step,
                        capacity=data.capacity, booked=0, published_by=officer.id,
                        published_at=now)
            repository.add(session, slot)
        else:
            if data.capacity < slot.booked:
                raise Conflict(
                    _("The slot at {time} already has {booked} bookings; its capacity cannot "
                      "go below that."), field="capacity",
                    time=start.strftime("%H:%M"), booked=slot.booked)
            slot.capacity = data.capacity
            slot.published_by = officer.id
            slot.published_at = now
            session.flush()
        published.append(slot)
        start += step
    if not published:
        raise InvalidInput(_("No slot of {minutes} minutes fits between the opening and "
                             "closing times."), field="minutes", minutes=data.minutes)
    log.info("permit.slots_published", office=code, day=data.day.isoformat(),
             slots=len(published), by=str(officer.id))
    return published


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=HONG_KONG)
    return start, start + timedelta(days=1)


def slot_view(slot: Slot, code: str) -> SlotView:
    """Shape a slot with its free places."""
    return SlotView(id=slot.id, office=code, starts_at=slot.starts_at, ends_at=slot.ends_at,
                    capacity=slot.capacity, booked=slot.booked,
                    free=max(slot.capacity - slot.booked, 0))


def list_slots(session: Session, code: str, day: date) -> list[SlotView]:
    """List an office's slots on a Hong Kong day with their free places."""
    office = _office(session, code)
    start, end = _day_bounds(day)
    return [slot_view(slot, code) for slot in repository.slots_between(session, office.id,
                                                                        start, end)]


# --- booking -----------------------------------------------------------------------------

def _bookable_slot(session: Session, slot_id: uuid.UUID, now: datetime) -> Slot:
    slot = repository.get_slot(session, slot_id)
    if slot is None:
        raise SlotNotFound(field="slot_id")
    if slot.starts_at <= now:
        raise SlotPast(field="slot_id")
    return slot


def _take(session: Session, application: Application, slot: Slot, now: datetime) -> Appointment:
    if not repository.take_place(session, slot.id):
        raise SlotFull(field="slot_id")
    appointment = Appointment(application_id=application.id, slot_id=slot.id, status="booked",
                              booked_at=now)
    repository.add(session, appointment)
    application.office_id = slot.office_id
    application.status = "booked"
    return appointment


def book(
    session: Session, application_id: uuid.UUID, slot_id: uuid.UUID, *, caller: Principal,
    now: datetime,
) -> Appointment:
    """Book a place in a slot for an application; a full slot is refused, never overbooked."""
    authorise(caller, application_id)
    application = _locked(session, application_id)
    if application.status != "submitted":
        raise WrongState(state=application.status)
    slot = _bookable_slot(session, slot_id, now)
    appointment = _take(session, application, slot, now)
    _step(session, application, caller, "booked", now, slot=str(slot.id),
          starts_at=slot.starts_at.isoformat())
    return appointment


def change(
    session: Session, application_id: uuid.UUID, slot_id: uuid.UUID, *, caller: Principal,
    now: datetime,
) -> Appointment:
    """Move an application's appointment to another slot; the old place is given back."""
    authorise(caller, application_id)
    application = _locked(session, application_id)
    current = repository.active_appointment(session, application.id)
    if application.status != "booked" or current is None:
        raise WrongState(state=application.status)
    if current.slot_id == slot_id:
        return current
    slot = _bookable_slot(session, slot_id, now)
    # Touch the two slot rows in one order (by id), so that two applicants swapping slots
    # cannot deadlock; a full new slot rolls the whole change back.
    if current.slot_id < slot.id:
        repository.release_place(session, current.slot_id)
        appointment = _take(session, application, slot, now)
    else:
        appointment = _take(session, application, slot, now)
        repository.release_place(session, current.slot_id)
    current.status = "moved"
    current.ended_at = now
    _step(session, application, caller, "changed", now, slot=str(slot.id),
          previous=str(current.slot_id), starts_at=slot.starts_at.isoformat())
    return appointment


def cancel(
    session: Session, application_id: uuid.UUID, *, caller: Principal, now: datetime
) -> None:
    """Cancel an application's appointment; its place is free for someone else at once."""
    authorise(caller, application_id)
    application = _locked(session, application_id)
    current = repository.active_appointment(session, application.id)
    if application.status != "booked" or current is None:
        raise WrongState(state=application.status)
    current.status = "cancelled"
    current.ended_at = now
    repository.release_place(session, current.slot_id)
    application.status = "submitted"
    session.flush()
    _step(session, application, caller, "cancelled", now, slot=str(current.slot_id))


_REMINDER = _("Reminder: your appointment for endorsement application {reference} is at "
              "{office} on {day} at {time}. Bring the originals of: {items}.")


def queue_reminders(session: Session, *, now: datetime) -> int:
    """Queue an SMS reminder for each appointment on the next Hong Kong day, once each."""
    policy = policies.current()
    start, end = _day_bounds(hk_date(now) + timedelta(days=1))
    queued = 0
    for appointment, slot, application in repository.due_reminders(session, start, end):
        office = repository.get_office(session, slot.office_id)
        local = slot.starts_at.astimezone(HONG_KONG)
        items = [_item_name(policy, check.item, application.locale)
                 for check in repository.checks_of(session, application.id)]
        body = translate(_REMINDER, application.locale, reference=application.reference,
                         office=office.name if office else "", day=local.date().isoformat(),
                         time=local.strftime("%H:%M"), items="; ".join(items))
        outbox.queue(session, channel="sms", purpose="permit_reminder",
                     recipient=open_text("permit.phone", application.phone_sealed),
                     body=body, reference=str(appointment.id), now=now)
        appointment.reminded_at = now
        queued += 1
    session.flush()
    if queued:
        log.info("permit.reminders_queued", count=queued)
    return queued


def appointments_on(session: Session, code: str, day: date) -> list[dict[str, Any]]:
    """List an office's appointments on a Hong Kong day, for the officers."""
    office = _office(session, code)
    start, end = _day_bounds(day)
    return [
        {"time": slot.starts_at.astimezone(HONG_KONG).strftime("%H:%M"),
         "reference": application.reference, "application_id": str(application.id),
         "kind": application.kind, "reason": application.reason,
         "needs_supervisor": application.needs_supervisor, "status": application.status,
         "applicant": application.applicant_masked}
        for _appointment, slot, application in repository.appointments_between(
            session, office.id, start, end)
    ]


# --- review and decision -----------------------------------------------------------------

def mark_evidence(
    session: Session,
    application_id: uuid.UUID,
    item: str,
    data: EvidenceMarkIn,
    *,
    officer: Principal,
    now: datetime,
) -> EvidenceCheck:
    """Mark one evidence item seen, missing, or not acceptable (with a reason)."""
    identity.require_role(officer, *REVIEWER_ROLES)
    application = _locked(session, application_id)
    if application.status not in REVIEW_STATES:
        raise WrongState(state=application.status)
    if application.status == "escalated" and officer.role != "supervisor":
        raise SupervisorRequired()
    check = next((c for c in repository.checks_of(session, application.id) if c.item == item),
                 None)
    if check is None:
        raise InvalidInput(_("{item} is not on this application's checklist."), field="item",
                           item=item[:48])
    if data.state == "not_acceptable" and not data.reason:
        raise InvalidInput(_("Say why the item is not acceptable."), field="reason")
    check.state = data.state
    check.reason = data.reason
    check.marked_by = officer.id
    check.marked_at = now
    if application.status == "booked":
        application.status = "under_review"
    session.flush()
    _step(session, application, officer, "evidence_marked", now, item=item, state=data.state,
          reason=data.reason)
    return check


def _issue(
    session: Session, application: Application, data: DecisionIn, officer: Principal,
    now: datetime,
) -> Endorsement:
    terms = policies.current().types[application.kind]
    entries = data.entries or terms.entries.default
    validity = data.validity_days or terms.validity_days.default
    stay = data.stay_days or terms.stay_days.default
    for field, value, bounds in (("entries", entries, terms.entries),
                                 ("validity_days", validity, terms.validity_days),
                                 ("stay_days", stay, terms.stay_days)):
        if value > bounds.max:
            raise InvalidInput(_("{field_name} may be at most {limit} for this type."),
                               field=field, field_name=field, limit=bounds.max)
    valid_from = data.valid_from or hk_date(now)
    if valid_from < hk_date(now):
        raise InvalidInput(_("The endorsement cannot start in the past."), field="valid_from")
    endorsement = Endorsement(
        number=f"E{application.kind[0].upper()}{secrets.token_hex(5).upper()}",
        application_id=application.id,
        kind=application.kind,
        destination=application.destination,
        entries=entries,
        valid_from=valid_from,
        valid_until=valid_from + timedelta(days=validity - 1),
        stay_days=stay,
        issued_at=now,
        issued_by=officer.id,
    )
    repository.add(session, endorsement)
    return endorsement


def decide(
    session: Session,
    application_id: uuid.UUID,
    data: DecisionIn,
    *,
    officer: Principal,
    now: datetime,
) -> Application:
    """Approve (issuing the endorsement), refuse with reasons, or escalate to a supervisor."""
    identity.require_role(officer, *REVIEWER_ROLES)
    application = _locked(session, application_id)
    if application.status not in REVIEW_STATES:
        raise WrongState(state=application.status)
    reasons = [reason for reason in data.reasons if reason]
    note = data.note or None
    supervised = application.needs_supervisor or application.status == "escalated"
    if data.outcome == "escalate":
        if application.status == "escalated":
            raise WrongState(state=application.status)
        if note is None:
            raise InvalidInput(_("Say why the application is escalated."), field="note")
        application.status = "escalated"
        session.flush()
        _step(session, application, officer, "escalated", now, note=note)
        log.info("permit.escalated", application=str(application.id), by=str(officer.id))
        return application
    if supervised and officer.role != "supervisor":
        raise SupervisorRequired()
    if supervised and note is None:
        raise InvalidInput(_("A supervisor's decision needs a written reason."), field="note")
    checks = repository.checks_of(session, application.id)
    if data.outcome == "approve":
        if reasons:
            raise InvalidInput(_("Reasons are given for a refusal; use the note for an "
                                 "approval."), field="reasons")
        unseen = [check.item for check in checks if check.state != "seen"]
        if unseen:
            raise ReviewIncomplete(field="checklist", items=", ".join(unseen),
                                   details={"items": unseen})
        endorsement = _issue(session, application, data, officer, now)
        application.status = "approved"
    else:
        if not reasons:
            raise InvalidInput(_("A refusal needs at least one reason."), field="reasons")
        endorsement = None
        application.status = "refused"
    application.decided_at = now
    application.decided_by = officer.id
    application.decided_role = officer.role
    application.decision_reasons = reasons
    application.decision_note = note
    appointment = repository.active_appointment(session, application.id)
    if appointment is not None:
        appointment.status = "attended"
        appointment.ended_at = now
    session.flush()
    _step(session, application, officer, application.status, now, reasons=reasons or None,
          note=note, endorsement=endorsement.number if endorsement else None)
    log.info("permit.decided", application=str(application.id), outcome=application.status,
             by=str(officer.id), role=officer.role)
    return application


def decisions_on(session: Session, day: date, code: str | None = None) -> list[dict[str, Any]]:
    """List the decisions taken on a Hong Kong day, at one office or at all."""
    office_id = _office(session, code).id if code else None
    start, end = _day_bounds(day)
    rows = []
    for application in repository.decided_between(session, start, end, office_id):
        endorsement = repository.endorsement_of(session, application.id)
        rows.append({
            "time": application.decided_at.astimezone(HONG_KONG).strftime("%H:%M")
            if application.decided_at else "",
            "reference": application.reference, "kind": application.kind,
            "reason": application.reason, "outcome": application.status,
            "by": str(application.decided_by), "role": application.decided_role,
            "reasons": list(application.decision_reasons or []),
            "endorsement": endorsement.number if endorsement else None,
        })
    return rows


# --- the decision letter -----------------------------------------------------------------

@dataclass(frozen=True)
class LetterData:
    """Everything the decision letter shows, already in the letter's language."""

    locale: str
    reference: str
    name: str
    applicant_masked: str
    permit_masked: str
    kind: str
    reason: str | None
    destination: str
    outcome: str
    decided_on: date
    office: str
    office_address: str
    reasons: tuple[str, ...]
    note: str | None
    endorsement: EndorsementView | None
    trip_conditions: tuple[str, ...]
    return_conditions: tuple[str, ...]


def letter_data(
    session: Session, application_id: uuid.UUID, *, caller: Principal, locale: str | None = None
) -> LetterData:
    """Gather the decision letter's content; only a decided application has one."""
    authorise(caller, application_id)
    application = get_application(session, application_id)
    if application.status not in ("approved", "refused") or application.decided_at is None:
        raise WrongState(state=application.status)
    policy = policies.current()
    language = locale or application.locale
    decided_on = hk_date(application.decided_at)
    conditions = policy.conditions_on(decided_on) if application.status == "approved" else None
    office = repository.get_office(session, application.office_id) if application.office_id \
        else None
    endorsement = repository.endorsement_of(session, application.id)
    return LetterData(
        locale=language,
        reference=application.reference,
        name=open_text("permit.name", application.name_sealed),
        applicant_masked=application.applicant_masked,
        permit_masked=application.permit_masked,
        kind=policy.types[application.kind].name.get(language),
        reason=policy.reasons[application.reason].name.get(language)
        if application.reason in policy.reasons else None,
        destination=application.destination,
        outcome=application.status,
        decided_on=decided_on,
        office=office.name if office else "",
        office_address=office.address if office else "",
        reasons=tuple(application.decision_reasons or ()),
        note=application.decision_note,
        endorsement=_endorsement_view(endorsement) if endorsement else None,
        trip_conditions=tuple(t.get(language) for t in conditions.trip) if conditions else (),
        return_conditions=tuple(t.get(language) for t in conditions.return_)
        if conditions else (),
    )
