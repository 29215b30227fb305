"""Endorsement applications: apply, find and authorise, record each step, and show.

An applicant is a mainland resident identified by a validated resident ID number; the
application gives them a bearer token for that one application (stored hashed by
identity). Every step is recorded with who took it and when.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.documents import DocumentKind, InvalidDocumentNumber, mask, normalise
from borderpass.identity.phones import normalise_phone
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import hk_date
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import document_index, seal_text
from borderpass.permits import policy as policies
from borderpass.permits import repository
from borderpass.permits.models import (
    Application,
    ApplicationStep,
    Appointment,
    Endorsement,
    EvidenceCheck,
)
from borderpass.permits.schemas import (
    ApplicationIn,
    ApplicationView,
    AppointmentView,
    CheckView,
    DecisionView,
    EndorsementView,
    StepView,
)

__all__ = [
    "APPLICANT_TOKEN_TTL",
    "OPEN_STATES",
    "REVIEWER_ROLES",
    "ApplicationNotFound",
    "DuplicateApplication",
    "InvalidPermitNumber",
    "TypeClosed",
    "WrongState",
    "application_view",
    "authorise",
    "create_application",
    "get_application",
    "normalise_permit_number",
    "steps_of",
]

log = get_logger(__name__)

APPLICANT_TOKEN_TTL = timedelta(days=180)
REVIEWER_ROLES = ("exit_entry_officer", "supervisor")
OPEN_STATES = ("submitted", "booked", "under_review", "escalated")
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U


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


class WrongState(Conflict):
    code = "application_state"
    message = _("The application cannot do this now: it is {state}.")


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


def steps_of(session: Session, application_id: uuid.UUID) -> list[StepView]:
    """Return an application's history: who did what, and when."""
    get_application(session, application_id)
    return [StepView.model_validate(step, from_attributes=True)
            for step in repository.steps_of(session, application_id)]
