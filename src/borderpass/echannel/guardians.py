"""A guardian's consent to the enrolment of a person aged 11 to 17.

The minor enrols in the app and names a guardian by HKID number; the enrolment waits
(``pending_guardian``) and the gates do not know it. Only the proven holder of that
number (identity's highest level of assurance: the card and a live face, a help desk,
or a registry letter) sees the request in their own account, and approves it stating
the relationship, within ``CONSENT_DAYS``. The approval records who, when and in which
relationship; the guardian can withdraw it, which closes the enrolment. A request not
approved in time expires, and the pending enrolment's template is deleted.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from borderpass.echannel import records, repository
from borderpass.echannel.card import VerifiedCard
from borderpass.echannel.models import Enrolment, GuardianConsent
from borderpass.echannel.schemas import ConsentView
from borderpass.identity import service as identity
from borderpass.identity.documents import DocumentKind, mask, normalise
from borderpass.kit.errors import Conflict, Forbidden, Gone, NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import open_sealed, seal

__all__ = [
    "CONSENT_DAYS",
    "ConsentClosed",
    "ConsentExpired",
    "ConsentNotFound",
    "GuardianNotProven",
    "approve_consent",
    "consent_view",
    "consents_for_guardian",
    "expire_consents",
    "on_guardian_deleted",
    "request_consent",
    "withdraw_consent",
]

log = get_logger(__name__)

CONSENT_DAYS = 7
_NAME_CONTEXT = "echannel.guardian_consent.child_name"


class GuardianNotProven(Forbidden):
    code = "guardian_not_proven"
    message = _("Only a resident who holds a Hong Kong identity card and whose identity is "
                "proven can authorise a child's e-Channel enrolment. Prove your identity "
                "first.")


class ConsentNotFound(NotFound):
    code = "consent_request_not_found"
    message = _("There is no such request for your consent.")


class ConsentExpired(Gone):
    code = "consent_request_expired"
    message = _("This request has expired: it had to be approved within {days} days. The "
                "child can ask again from the app.")


class ConsentClosed(Conflict):
    code = "consent_request_closed"
    message = _("This request has already been answered or withdrawn.")


def _seal_name(card: VerifiedCard) -> bytes:
    return seal(json.dumps({"en": card.name_en, "zh": card.name_zh},
                           ensure_ascii=False).encode(), context=_NAME_CONTEXT)


def consent_view(consent: GuardianConsent) -> ConsentView:
    """Return a request as the guardian (or the child) sees it, the child's name unsealed."""
    names = json.loads(open_sealed(consent.child_name_sealed, context=_NAME_CONTEXT))
    return ConsentView(
        id=consent.id, enrolment_id=consent.enrolment_id, child_name_en=names["en"],
        child_name_zh=names["zh"], child_masked=consent.child_masked,
        child_age=consent.child_age, guardian_masked=consent.guardian_masked,
        status=consent.status, requested_at=consent.requested_at,
        expires_at=consent.expires_at, relationship=consent.relationship,
        decided_at=consent.decided_at, withdrawn_at=consent.withdrawn_at)


def request_consent(
    session: Session, enrolment: Enrolment, card: VerifiedCard, guardian_number: str, *,
    age: int, now: datetime,
) -> GuardianConsent:
    """Ask the named guardian to approve a minor's pending enrolment."""
    number = normalise(DocumentKind.HKID, guardian_number)
    consent = GuardianConsent(
        enrolment_id=enrolment.id, guardian_index=records.doc_index(number),
        guardian_masked=mask(DocumentKind.HKID, number),
        child_masked=enrolment.doc_masked, child_name_sealed=_seal_name(card),
        child_age=age, status="pending", requested_at=now,
        expires_at=now + timedelta(days=CONSENT_DAYS))
    repository.add(session, consent)
    log.info("echannel.guardian_consent_requested", consent=str(consent.id),
             enrolment=str(enrolment.id))
    return consent


def _guardian_index(session: Session, person_id: uuid.UUID) -> str:
    """Return the blind index of a proven HKID holder's number, or refuse."""
    person = identity.get_person(session, person_id)
    view = identity.person_view(person)
    if not identity.is_proven(session, person_id) or view.document_kind != DocumentKind.HKID.value:
        raise GuardianNotProven()
    return records.doc_index(normalise(DocumentKind.HKID, view.document_number))


def _expire(session: Session, consents: list[GuardianConsent], now: datetime) -> int:
    for consent in consents:
        consent.status = "expired"
        enrolment = repository.get_enrolment(session, consent.enrolment_id)
        if enrolment is not None and enrolment.status == "pending_guardian":
            records.close(enrolment, "expired", "guardian_consent_expired", now)
    session.flush()
    return len(consents)


def _own(session: Session, consent_id: uuid.UUID, person_id: uuid.UUID,
         now: datetime) -> GuardianConsent:
    index = _guardian_index(session, person_id)
    _expire(session, repository.expired_consents(session, now, index), now)
    consent = repository.get_consent(session, consent_id)
    # Someone else's request is not found: whether a child named a given person is the
    # guardian's and the child's business only.
    if consent is None or consent.guardian_index != index:
        raise ConsentNotFound(field="consent_id")
    return consent


def consents_for_guardian(
    session: Session, person_id: uuid.UUID, *, now: datetime
) -> list[ConsentView]:
    """List the requests naming the signed-in guardian, newest first (past ones too)."""
    index = _guardian_index(session, person_id)
    _expire(session, repository.expired_consents(session, now, index), now)
    return [consent_view(consent) for consent in repository.consents_for_guardian(session, index)]


def approve_consent(
    session: Session, consent_id: uuid.UUID, *, person_id: uuid.UUID, relationship: str,
    now: datetime,
) -> ConsentView:
    """Approve a child's pending enrolment as their guardian: the enrolment becomes active."""
    consent = _own(session, consent_id, person_id, now)
    if consent.status == "expired":
        raise ConsentExpired(days=CONSENT_DAYS, field="consent_id", keep=True)
    enrolment = repository.get_enrolment(session, consent.enrolment_id)
    if consent.status != "pending" or enrolment is None \
            or enrolment.status != "pending_guardian":
        raise ConsentClosed(field="consent_id", keep=True)
    previous = repository.active_enrolment_for(session, enrolment.doc_index)
    if previous is not None:  # the child's earlier enrolment (an old phone) gives way now
        records.close(previous, "replaced", str(person_id), now)
    enrolment.status = "active"
    enrolment.guardian_index = consent.guardian_index
    enrolment.guardian_masked = consent.guardian_masked
    enrolment.guardian_relationship = relationship
    enrolment.guardian_consented_at = now
    consent.status = "approved"
    consent.guardian_person_id = person_id
    consent.relationship = relationship
    consent.decided_at = now
    session.flush()
    log.info("echannel.guardian_consent_approved", consent=str(consent.id),
             enrolment=str(enrolment.id))
    return consent_view(consent)


def withdraw_consent(
    session: Session, consent_id: uuid.UUID, *, person_id: uuid.UUID, now: datetime
) -> ConsentView:
    """Decline a pending request or withdraw a given consent: the child's enrolment closes."""
    consent = _own(session, consent_id, person_id, now)
    if consent.status not in ("pending", "approved"):
        raise ConsentClosed(field="consent_id", keep=True)
    enrolment = repository.get_enrolment(session, consent.enrolment_id)
    if consent.status == "pending":
        consent.status, consent.decided_at = "declined", now
        consent.guardian_person_id = person_id
        closed_as = "refused"
    else:
        consent.status, consent.withdrawn_at = "withdrawn", now
        closed_as = "withdrawn"
    if enrolment is not None and enrolment.status in ("pending_guardian", "active"):
        records.close(enrolment, closed_as, str(person_id), now)
    session.flush()
    log.info("echannel.guardian_consent_withdrawn", consent=str(consent.id),
             status=consent.status)
    return consent_view(consent)


def expire_consents(session: Session, *, now: datetime) -> int:
    """Expire the requests not approved in time; return how many."""
    count = _expire(session, repository.expired_consents(session, now), now)
    log.info("echannel.guardian_consents_expired", count=count)
    return count


def on_guardian_deleted(session: Session, person_id: uuid.UUID) -> None:
    """Unlink a deleted account from the consents it gave (the masked number stays)."""
    repository.delete_consents_of_guardian(session, person_id)
