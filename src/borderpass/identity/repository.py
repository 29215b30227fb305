"""All SQL of the identity domain."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, select, text, update
from sqlalchemy.orm import Session

from borderpass.identity.models import (
    ActivationPin,
    ApiToken,
    DocumentRegistry,
    IdentityCase,
    Person,
    ProofAttempt,
    ProofDocument,
    ProofLetter,
    Registration,
    RegistryRecord,
    SignInFailure,
    SignInLock,
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
    "get_pin",
    "get_registration",
    "latest_pin",
    "revoke_tokens_of",
    "standing_columns",
    "token_record",
]


def add(session: Session, *rows: object) -> None:
    """Stage new rows and flush them."""
    session.add_all(rows)
    session.flush()


def get_person(session: Session, person_id: uuid.UUID, *, for_update: bool = False
               ) -> Person | None:
    if for_update:
        return session.scalars(
            select(Person).where(Person.id == person_id).with_for_update()).one_or_none()
    return session.get(Person, person_id)


def find_person_by_index(session: Session, kind: str, index: str) -> Person | None:
    """Return the account that holds a document: its proven holder, else the active
    claimed account activated last, else the latest pending or suspended one."""
    rank = case((Person.status == "active", 0), else_=1)
    proven = case((Person.assurance == "proven", 0), else_=1)
    return session.scalars(
        select(Person).where(Person.doc_kind == kind, Person.doc_index == index)
        .order_by(rank, proven, Person.activated_at.desc().nulls_last(),
                  Person.created_at.desc())
        .limit(1)
    ).first()


def accounts_for_document(
    session: Session, kind: str, index: str, statuses: Sequence[str], *, limit: int = 20
) -> list[Person]:
    """Return the accounts of a document in these states, the proven holder first."""
    proven = case((Person.assurance == "proven", 0), else_=1)
    return list(session.scalars(
        select(Person).where(Person.doc_kind == kind, Person.doc_index == index,
                             Person.status.in_(list(statuses)))
        .order_by(proven, Person.activated_at.desc().nulls_last(), Person.created_at.desc())
        .limit(limit)
    ))


def proven_holder(session: Session, kind: str, index: str) -> Person | None:
    """Return the document's active proven holder, if it has one."""
    return session.scalars(
        select(Person).where(Person.doc_kind == kind, Person.doc_index == index,
                             Person.status == "active", Person.assurance == "proven")
    ).first()


def count_claimed(session: Session, kind: str, index: str) -> int:
    """Count the document's active accounts whose holder is not proven."""
    return int(session.scalar(
        select(func.count()).select_from(Person).where(
            Person.doc_kind == kind, Person.doc_index == index, Person.status == "active",
            Person.assurance == "claimed")
    ) or 0)


def address_indexes_of(session: Session, person_ids: Sequence[uuid.UUID], *,
                       contiguous: bool = False) -> dict[uuid.UUID, str]:
    """Return the address blind index of each of these people that exists (with
    ``contiguous``, of everyone from the least id to the greatest)."""
    if not person_ids:
        return {}
    query = select(Person.id, Person.address_index).where(
        among(session, Person.id, person_ids, contiguous=contiguous))
    return {person_id: index for person_id, index in session.connection().execute(query).all()}


def active_people_after(session: Session, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """Return up to ``limit`` active people's ids in id order, after ``after``."""
    query = select(Person.id).where(Person.status == "active")
    if after is not None:
        query = query.where(Person.id > after)
    return list(session.scalars(query.order_by(Person.id).limit(limit)))


def active_people_marks(session: Session, every: int) -> list[uuid.UUID]:
    """Return the id of every ``every``-th active person in id order (the first included)."""
    numbered = select(Person.id, func.row_number().over(order_by=Person.id).label("n")) \
        .where(Person.status == "active").subquery()
    return list(session.scalars(select(numbered.c.id).where((numbered.c.n - 1) % every == 0)
                                .order_by(numbered.c.id)))


def count_active_people(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Person)
                              .where(Person.status == "active")) or 0)


def active_people_between(session: Session, low: uuid.UUID | None,
                          high: uuid.UUID | None) -> list[uuid.UUID]:
    """Return the active people's ids with ``low <= id < high`` (a None bound: no bound)."""
    query = select(Person.id).where(Person.status == "active")
    if low is not None:
        query = query.where(Person.id >= low)
    if high is not None:
        query = query.where(Person.id < high)
    return list(session.scalars(query.order_by(Person.id)))


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


def get_pin(session: Session, pin_id: uuid.UUID) -> ActivationPin | None:
    return session.get(ActivationPin, pin_id)


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


def token_record(session: Session, token_hash: str) -> Any:
    """Return what authenticating needs of a token (kind, id, role, expiry, revocation),
    as one row read without the ORM's bookkeeping, or None."""
    return session.connection().execute(_TOKEN_RECORD, {"token_hash": token_hash}).first()


_TOKEN_RECORD = select(ApiToken.principal_kind, ApiToken.principal_id, ApiToken.role,
                       ApiToken.expires_at, ApiToken.revoked_at
                       ).where(ApiToken.token_hash == bindparam("token_hash"))


def token_columns(token_hash: str | None = None) -> tuple[Any, ...]:
    """Return what ``token_record`` reads of a token (kind, id, role, expiry, revocation) as
    scalar subqueries, for another domain's query that reads more besides;
    ``token_hash`` None: the query takes it as its parameter ``token_hash``."""
    found = bindparam("token_hash") if token_hash is None else token_hash
    return tuple(select(column).where(ApiToken.token_hash == found).scalar_subquery()
                 for column in (ApiToken.principal_kind, ApiToken.principal_id, ApiToken.role,
                                ApiToken.expires_at, ApiToken.revoked_at))


def standing_columns(person_id: Any) -> tuple[Any, Any]:
    """Return a person's status and level of assurance as scalar subqueries, for another
    domain's query that reads more besides; ``person_id`` is an id or a column of it."""
    return (select(Person.status).where(Person.id == person_id).scalar_subquery(),
            select(Person.assurance).where(Person.id == person_id).scalar_subquery())


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


# --- sign-in throttling --------------------------------------------------------------

def hold_sign_in(session: Session, scope: str, key: str) -> None:
    """Make sign-ins to one account take turns until this transaction ends, so that its
    failures are counted one after another whichever web process takes them.

    PostgreSQL: a transaction-scoped advisory lock on the account (no row needed, none
    left behind). SQLite: a writing transaction already holds the database's only write
    lock from its first statement.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"sign-in:{scope}:{key}".encode()).digest()
    session.execute(text("SELECT pg_advisory_xact_lock(:lock)"),
                    {"lock": int.from_bytes(digest[:8], "big", signed=True)})


def sign_in_failures_since(
    session: Session, scope: str, key: str, since: datetime
) -> tuple[int, datetime | None]:
    """Return how many failures ``key`` had after ``since``, and when the last was."""
    count, last = session.execute(
        select(func.count(), func.max(SignInFailure.at)).where(
            SignInFailure.scope == scope, SignInFailure.key == key, SignInFailure.at > since)
    ).one()
    return int(count), last


def add_sign_in_failures(session: Session, keys: Sequence[tuple[str, str]], at: datetime) -> None:
    """Record one failure for each ``(scope, key)``."""
    session.add_all(SignInFailure(scope=scope, key=key, at=at) for scope, key in keys)
    session.flush()


def forget_sign_in_failures(
    session: Session, scope: str, key: str, *, before: datetime | None = None
) -> int:
    """Delete the failures of one key (only those at or before ``before``, if given)."""
    query = delete(SignInFailure).where(SignInFailure.scope == scope, SignInFailure.key == key)
    if before is not None:
        query = query.where(SignInFailure.at <= before)
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]


def purge_sign_in_failures(session: Session, before: datetime) -> int:
    """Delete every failure at or before ``before``."""
    result = session.execute(delete(SignInFailure).where(SignInFailure.at <= before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def find_sign_in_lock(session: Session, scope: str, key: str) -> SignInLock | None:
    return session.get(SignInLock, (scope, key))


def lock_sign_in(session: Session, scope: str, key: str, label: str, failures: int,
                 now: datetime) -> None:
    """Lock an account (its sign-ins take turns: see ``hold_sign_in``)."""
    if session.get(SignInLock, (scope, key)) is None:
        session.add(SignInLock(scope=scope, key=key, label=label, failures=failures,
                               locked_at=now))
        session.flush()


def delete_sign_in_lock(session: Session, scope: str, key: str) -> bool:
    """Delete a lock; tell whether there was one."""
    result = session.execute(
        delete(SignInLock).where(SignInLock.scope == scope, SignInLock.key == key))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def sign_in_locks(session: Session, scopes: Sequence[str]) -> list[SignInLock]:
    """Return the locks of these scopes, the latest first."""
    return list(session.scalars(
        select(SignInLock).where(SignInLock.scope.in_(list(scopes)))
        .order_by(SignInLock.locked_at.desc(), SignInLock.label)))


# --- proving who holds a document ------------------------------------------------------

def proof_failures_since(
    session: Session, person_id: uuid.UUID, method: str, since: datetime
) -> int:
    """Count an account's failed attempts to prove its identity by ``method`` since then."""
    return int(session.scalar(
        select(func.count()).select_from(ProofAttempt).where(
            ProofAttempt.person_id == person_id, ProofAttempt.method == method,
            ProofAttempt.succeeded.is_(False), ProofAttempt.at > since)
    ) or 0)


def live_letters(session: Session, person_id: uuid.UUID) -> list[ProofLetter]:
    """Return an account's letters not used or withdrawn, the latest first."""
    return list(session.scalars(
        select(ProofLetter).where(ProofLetter.person_id == person_id,
                                  ProofLetter.used_at.is_(None),
                                  ProofLetter.withdrawn_at.is_(None))
        .order_by(ProofLetter.sent_at.desc())
    ))


def get_letter(session: Session, letter_id: uuid.UUID) -> ProofLetter | None:
    return session.get(ProofLetter, letter_id)


def find_registry(session: Session, name: str) -> DocumentRegistry | None:
    return session.scalars(
        select(DocumentRegistry).where(DocumentRegistry.name == name)).one_or_none()


def get_registry(session: Session, registry_id: uuid.UUID) -> DocumentRegistry | None:
    return session.get(DocumentRegistry, registry_id)


def registry_record(session: Session, kind: str, index: str) -> RegistryRecord | None:
    return session.scalars(
        select(RegistryRecord).where(RegistryRecord.doc_kind == kind,
                                     RegistryRecord.doc_index == index)).one_or_none()


def registry_records(
    session: Session, kind: str, indexes: Sequence[str]
) -> dict[str, RegistryRecord]:
    """Return the registry's records of these documents that exist, by blind index."""
    if not indexes:
        return {}
    return {record.doc_index: record for record in session.scalars(
        select(RegistryRecord).where(RegistryRecord.doc_kind == kind,
                                     RegistryRecord.doc_index.in_(list(indexes))))}


def identity_cases(session: Session, *, open_only: bool, limit: int) -> list[IdentityCase]:
    """Return the cases, the latest first (only those not closed, if asked)."""
    query = select(IdentityCase)
    if open_only:
        query = query.where(IdentityCase.closed_at.is_(None))
    return list(session.scalars(
        query.order_by(IdentityCase.opened_at.desc(), IdentityCase.id).limit(limit)))


def get_case(session: Session, case_id: uuid.UUID) -> IdentityCase | None:
    return session.get(IdentityCase, case_id)


def count_cases_of_holder(session: Session, person_id: uuid.UUID) -> int:
    """Count the cases opened when this person proved they hold their document."""
    return int(session.scalar(
        select(func.count()).select_from(IdentityCase).where(
            IdentityCase.proven_person_id == person_id)) or 0)
