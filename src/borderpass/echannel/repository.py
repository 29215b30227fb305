"""All SQL of the e-Channel."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from borderpass.echannel.models import Enrolment, GuardianConsent, Passage, UsedToken

__all__ = [
    "active_enrolment_for",
    "add",
    "consent_of_enrolment",
    "consents_for_guardian",
    "delete_consents_of_guardian",
    "delete_enrolments_of_person",
    "enrolment_by_device",
    "enrolments_of_person",
    "expired_consents",
    "get_consent",
    "get_enrolment",
    "get_passage",
    "mark_token_used",
    "pending_enrolments_for",
    "purge_used_tokens",
]


def add(session: Session, *rows: object) -> None:
    """Stage new rows and flush them."""
    session.add_all(rows)
    session.flush()


def get_enrolment(session: Session, enrolment_id: uuid.UUID) -> Enrolment | None:
    return session.get(Enrolment, enrolment_id)


def active_enrolment_for(session: Session, doc_index: str) -> Enrolment | None:
    return session.scalars(
        select(Enrolment).where(Enrolment.doc_index == doc_index, Enrolment.status == "active")
    ).first()


def enrolment_by_device(session: Session, device_kid: str) -> Enrolment | None:
    return session.scalars(
        select(Enrolment).where(Enrolment.device_kid == device_kid)
    ).one_or_none()


def mark_token_used(
    session: Session, enrolment_id: uuid.UUID, nonce: str, slot: int, now: datetime
) -> bool:
    """Record a token's nonce; return False when it was already recorded (a replay)."""
    if session.get(UsedToken, (enrolment_id, nonce)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(UsedToken(enrolment_id=enrolment_id, nonce=nonce, slot=slot, used_at=now))
    except IntegrityError:
        return False
    return True


def purge_used_tokens(session: Session, before: datetime) -> int:
    """Forget used nonces older than ``before``: their slots can no longer be accepted."""
    result = session.execute(delete(UsedToken).where(UsedToken.used_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def get_passage(session: Session, passage_id: uuid.UUID) -> Passage | None:
    return session.get(Passage, passage_id)


def delete_enrolments_of_person(session: Session, person_id: uuid.UUID) -> None:
    session.execute(delete(Enrolment).where(Enrolment.person_id == person_id))


def pending_enrolments_for(session: Session, doc_index: str) -> list[Enrolment]:
    """Return a document's enrolments still waiting for a guardian."""
    return list(session.scalars(
        select(Enrolment).where(Enrolment.doc_index == doc_index,
                                Enrolment.status == "pending_guardian")))


def get_consent(session: Session, consent_id: uuid.UUID) -> GuardianConsent | None:
    return session.get(GuardianConsent, consent_id)


def consent_of_enrolment(session: Session, enrolment_id: uuid.UUID) -> GuardianConsent | None:
    """Return the latest request for a guardian's consent made for an enrolment."""
    return session.scalars(
        select(GuardianConsent).where(GuardianConsent.enrolment_id == enrolment_id)
        .order_by(GuardianConsent.requested_at.desc())
    ).first()


def consents_for_guardian(session: Session, guardian_index: str) -> list[GuardianConsent]:
    """Return the requests naming a guardian, newest first."""
    return list(session.scalars(
        select(GuardianConsent).where(GuardianConsent.guardian_index == guardian_index)
        .order_by(GuardianConsent.requested_at.desc(), GuardianConsent.id)))


def expired_consents(session: Session, now: datetime,
                     guardian_index: str | None = None) -> list[GuardianConsent]:
    """Return the requests still pending past their time limit (of one guardian, or all)."""
    query = select(GuardianConsent).where(GuardianConsent.status == "pending",
                                          GuardianConsent.expires_at <= now)
    if guardian_index is not None:
        query = query.where(GuardianConsent.guardian_index == guardian_index)
    return list(session.scalars(query))


def delete_consents_of_guardian(session: Session, person_id: uuid.UUID) -> None:
    """Forget who answered: the guardian's account is deleted."""
    session.execute(
        update(GuardianConsent).where(GuardianConsent.guardian_person_id == person_id)
        .values(guardian_person_id=None))


def enrolments_of_person(session: Session, person_id: uuid.UUID) -> list[Enrolment]:
    return list(session.scalars(
        select(Enrolment).where(Enrolment.person_id == person_id)
        .order_by(Enrolment.created_at.desc(), Enrolment.id)))
