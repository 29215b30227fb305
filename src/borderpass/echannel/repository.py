"""All SQL of the e-Channel."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from borderpass.echannel.models import Enrolment, Passage, UsedToken

__all__ = [
    "active_enrolment_for",
    "add",
    "delete_enrolments_of_person",
    "enrolment_by_device",
    "get_enrolment",
    "get_passage",
    "mark_token_used",
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
