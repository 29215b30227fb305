"""The review at the office and the decision: each evidence item marked, then approve,
refuse or escalate.

Officers check the originals against the checklist; an application for a visit or a
funeral by a family member who is not a direct relative is decided by a supervisor, in
writing. An approval issues the endorsement.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import HONG_KONG, hk_date
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput
from borderpass.kit.i18n import LOCALES, InLocales, _
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import open_text
from borderpass.permits import policy as policies
from borderpass.permits import repository
from borderpass.permits.applications import (
    REVIEWER_ROLES,
    WrongState,
    _locked,
    _step,
    application_view,
    get_application,
)
from borderpass.permits.booking import _day_bounds, _office
from borderpass.permits.models import Application, Endorsement, EvidenceCheck
from borderpass.permits.schemas import ApplicationView, DecisionIn, EvidenceMarkIn

__all__ = [
    "REVIEW_STATES",
    "EndorsementRecord",
    "ReviewDetails",
    "ReviewIncomplete",
    "SupervisorRequired",
    "awaiting_supervisor",
    "decide",
    "decisions_on",
    "endorsement_record",
    "mark_evidence",
    "review_details",
]

log = get_logger(__name__)

REVIEW_STATES = ("booked", "under_review", "escalated")


class SupervisorRequired(Forbidden):
    code = "supervisor_required"
    message = _("A supervisor decides this application; escalate it instead.")


def _evidence_names(items: list[str]) -> InLocales:
    """Name checklist items in each language, as the policy names them, for a message."""
    evidence = policies.current().evidence

    def name(item: str, locale: str) -> str:
        return evidence[item].get(locale) if item in evidence else item

    return InLocales({locale: ("、" if locale.startswith("zh") else ", ").join(
        name(item, locale) for item in items) for locale in LOCALES})


class ReviewIncomplete(Conflict):
    code = "review_incomplete"
    message = _("Every evidence item must be marked seen before approval; not yet: {items}.")


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
            raise ReviewIncomplete(field="checklist", items=_evidence_names(unseen),
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


@dataclass(frozen=True)
class EndorsementRecord:
    """An issued endorsement as a control point checks it: its terms, its holder's
    document as a blind index (never the number), and the epidemic conditions of the
    policy on the day it was issued, each in the three languages."""

    number: str
    kind: str
    reason: str | None
    destination: str
    entries: int
    valid_from: date
    valid_until: date
    stay_days: int
    holder_kind: str
    holder_index: str
    trip_conditions: tuple[dict[str, str], ...]
    return_conditions: tuple[dict[str, str], ...]


def _texts(items: tuple[policies.Text, ...]) -> tuple[dict[str, str], ...]:
    return tuple({"en": text.en, "zh_Hant": text.zh_Hant, "zh_Hans": text.zh_Hans}
                 for text in items)


def endorsement_record(session: Session, number: str) -> EndorsementRecord | None:
    """Find an issued endorsement by its number (as printed on the decision letter)."""
    endorsement = repository.find_endorsement(session, number.strip().upper()[:20])
    if endorsement is None:
        return None
    application = get_application(session, endorsement.application_id)
    conditions = policies.current().conditions_on(hk_date(endorsement.issued_at))
    return EndorsementRecord(
        number=endorsement.number, kind=endorsement.kind, reason=application.reason,
        destination=endorsement.destination, entries=endorsement.entries,
        valid_from=endorsement.valid_from, valid_until=endorsement.valid_until,
        stay_days=endorsement.stay_days, holder_kind="mainland",
        holder_index=application.applicant_index,
        trip_conditions=_texts(conditions.trip) if conditions else (),
        return_conditions=_texts(conditions.return_) if conditions else (),
    )
