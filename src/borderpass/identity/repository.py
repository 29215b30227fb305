"""All SQL of the identity domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from borderpass.identity.models import (
    ActivationPin,
    ApiToken,
    Person,
    ProofDocument,
    Registration,
    StaffMember,
)
from borderpass.kit.db import among

__all__ = [
    "add",
    "delete_person",
    "expired_registrations",
    "find_person_by_index",
    "find_staff",
    "find_token",
    "get_person",
    "get_registration",
    "latest_pin",
    "revoke_tokens_of",
]


def add(session: Session, *rows: object) -> None:
    """Stage new rows and flush them."""
    session.add_all(rows)
    session.flush()


def get_person(session: Session, person_id: uuid.UUID) -> Person | None:
    return session.get(Person, person_id)


def find_person_by_index(session: Session, kind: str, index: str) -> Person | None:
    return session.scalars(
        select(Person).where(Person.doc_kind == kind, Person.doc_index == index)
    ).one_or_none()


def address_indexes_of(session: Session, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Return the address blind index of each of these people that exists."""
    if not person_ids:
        return {}
    query = select(Person.id, Person.address_index).where(among(session, Person.id, person_ids))
    return {person_id: index for person_id, index in session.connection().execute(query)}


def active_people_after(session: Session, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """Return up to ``limit`` active people's ids in id order, after ``after``."""
    query = select(Person.id).where(Person.status == "active")
    if after is not None:
        query = query.where(Person.id > after)
    return list(session.scalars(query.order_by(Person.id).limit(limit)))


def active_people_at(session: Session, address_indexes: Sequence[str]) -> list[uuid.UUID]:
    """Return the active people whose address has one of these blind indexes."""
    if not address_indexes:
        return []
    return list(session.scalars(
        select(Person.id).where(Person.address_index.in_(list(address_indexes)),
                                Person.status == "active")
    ))


def get_registration(
    session: Session, registration_id: uuid.UUID, *, for_update: bool = False
) -> Registration | None:
    query = select(Registration).where(Registration.id == registration_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def latest_pin(session: Session, registration_id: uuid.UUID) -> ActivationPin | None:
    return session.scalars(
        select(ActivationPin)
        .where(ActivationPin.registration_id == registration_id)
        .order_by(ActivationPin.sent_at.desc())
        .limit(1)
    ).first()


def pins_sent_since(session: Session, registration_id: uuid.UUID, since: datetime) -> int:
    return len(
        session.scalars(
            select(ActivationPin.id).where(
                ActivationPin.registration_id == registration_id, ActivationPin.sent_at >= since
            )
        ).all()
    )


def expired_registrations(session: Session, now: datetime) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration).where(
                Registration.expires_at < now, Registration.state.in_(("started", "submitted"))
            )
        )
    )


def delete_person(session: Session, person_id: uuid.UUID) -> None:
    session.execute(delete(ProofDocument).where(ProofDocument.person_id == person_id))
    session.execute(
        update(Registration).where(Registration.person_id == person_id).values(person_id=None)
    )
    session.execute(
        update(ApiToken)
        .where(ApiToken.principal_kind == "resident", ApiToken.principal_id == person_id)
        .values(revoked_at=ApiToken.created_at)
    )
    session.execute(delete(Person).where(Person.id == person_id))
    session.flush()


def proof_of(session: Session, person_id: uuid.UUID) -> ProofDocument | None:
    return session.scalars(
        select(ProofDocument).where(ProofDocument.person_id == person_id)
    ).first()


def find_staff(session: Session, username: str) -> StaffMember | None:
    query = select(StaffMember).where(StaffMember.username == username)
    return session.scalars(query).one_or_none()


def get_staff(session: Session, staff_id: uuid.UUID) -> StaffMember | None:
    return session.get(StaffMember, staff_id)


def find_token(session: Session, token_hash: str) -> ApiToken | None:
    return session.get(ApiToken, token_hash)


def revoke_tokens_of(session: Session, kind: str, principal_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.principal_kind == kind,
            ApiToken.principal_id == principal_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
