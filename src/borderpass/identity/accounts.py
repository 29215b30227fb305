"""Accounts and credentials: sign-in, bearer tokens and API keys, staff and their roles,
and deleting a resident's account.

A token is given to its holder once; only its hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from borderpass.identity import repository
from borderpass.identity.documents import normalise
from borderpass.identity.events import PersonDeleted
from borderpass.identity.models import ApiToken, Person, StaffMember
from borderpass.identity.schemas import Principal
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorised
from borderpass.kit.events import publish
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import check_secret, hash_secret
from borderpass.kit.vault import document_index

__all__ = [
    "RESIDENT_TOKEN_TTL",
    "STAFF_ROLES",
    "STAFF_TOKEN_TTL",
    "SignInFailed",
    "authenticate",
    "create_staff",
    "delete_account",
    "issue_api_key",
    "issue_token",
    "require_role",
    "sign_in",
    "sign_in_staff",
    "sign_out",
    "staff_principal",
]

log = get_logger(__name__)

STAFF_ROLES = (
    "health_officer",
    "border_officer",
    "help_desk",
    "exit_entry_officer",
    "supervisor",
    "admin",
    "venue_operator",
)
RESIDENT_TOKEN_TTL = timedelta(days=7)
STAFF_TOKEN_TTL = timedelta(hours=12)


class SignInFailed(Unauthorised):
    code = "sign_in_failed"
    message = _("The document number or password is not correct, or the account is not active.")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue_token(
    session: Session,
    kind: str,
    principal_id: uuid.UUID,
    role: str,
    now: datetime,
    ttl: timedelta | None,
    label: str = "",
) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires = now + ttl if ttl else None
    repository.add(
        session,
        ApiToken(
            token_hash=_hash_token(token),
            principal_kind=kind,
            principal_id=principal_id,
            role=role,
            label=label,
            created_at=now,
            expires_at=expires,
        ),
    )
    return token, expires  # type: ignore[return-value]


def sign_in(
    session: Session, kind: str, number: str, password: str, *, now: datetime
) -> tuple[Person, str, datetime]:
    """Sign a resident in with document number and password; return an access token."""
    try:
        normalised = normalise(kind, number)
    except InvalidInput:
        raise SignInFailed() from None
    person = repository.find_person_by_index(session, kind, document_index(kind, normalised))
    if person is None or person.status != "active" or not person.password_hash:
        hash_secret(password)  # the same work either way, so timing tells nothing
        raise SignInFailed()
    if not check_secret(password, person.password_hash):
        raise SignInFailed()
    token, expires = _issue_token(session, "resident", person.id, "resident", now,
                                  RESIDENT_TOKEN_TTL)
    return person, token, expires


def sign_in_staff(
    session: Session, username: str, password: str, *, now: datetime
) -> tuple[StaffMember, str, datetime]:
    """Sign a staff member in; return an access token carrying their role."""
    member = repository.find_staff(session, username)
    if member is None:
        hash_secret(password)
        raise SignInFailed(_("The user name or password is not correct."))
    if not check_secret(password, member.password_hash):
        raise SignInFailed(_("The user name or password is not correct."))
    token, expires = _issue_token(session, "staff", member.id, member.role, now, STAFF_TOKEN_TTL)
    return member, token, expires


def create_staff(
    session: Session, username: str, display_name: str, role: str, password: str, *, now: datetime
) -> StaffMember:
    """Create a staff account with one of ``STAFF_ROLES``."""
    if role not in STAFF_ROLES:
        raise InvalidInput(_("Unknown role {role}."), field="role", role=role[:32])
    if len(password) < 8:
        raise InvalidInput(_("A password needs at least 8 characters."), field="password")
    if repository.find_staff(session, username) is not None:
        raise Conflict(_("That user name is taken."), field="username")
    member = StaffMember(username=username, display_name=display_name, role=role,
                         password_hash=hash_secret(password), created_at=now)
    repository.add(session, member)
    return member


def issue_api_key(
    session: Session, kind: str, principal_id: uuid.UUID, role: str, label: str, *, now: datetime
) -> str:
    """Issue a long-lived API key for a principal (a lab or registry, say)."""
    token, _expires = _issue_token(session, kind, principal_id, role, now, None, label)
    return token


def issue_token(
    session: Session,
    kind: str,
    principal_id: uuid.UUID,
    role: str,
    *,
    ttl: timedelta,
    label: str = "",
    now: datetime,
) -> tuple[str, datetime]:
    """Issue an expiring bearer token for a principal; only its hash is stored."""
    token, expires = _issue_token(session, kind, principal_id, role, now, ttl, label)
    return token, expires


def authenticate(session: Session, token: str, *, now: datetime) -> Principal:
    """Return the principal of a bearer token or API key.

    Raises:
        Unauthorised: unknown, expired or revoked.
    """
    record = repository.find_token(session, _hash_token(token))
    if record is None or record.revoked_at is not None:
        raise Unauthorised()
    if record.expires_at is not None and now >= record.expires_at:
        raise Unauthorised(_("The sign-in has expired; sign in again."))
    return Principal(kind=record.principal_kind, id=record.principal_id, role=record.role)


def sign_out(session: Session, token: str, *, now: datetime) -> None:
    """Revoke one access token."""
    record = repository.find_token(session, _hash_token(token))
    if record is not None and record.revoked_at is None:
        record.revoked_at = now
        session.flush()


def staff_principal(session: Session, username: str) -> Principal:
    """Return the principal of a staff member named by user name (for the command line)."""
    member = repository.find_staff(session, username)
    if member is None:
        raise NotFound(_("There is no staff member {username}."), field="officer",
                       username=username[:64])
    return Principal(kind="staff", id=member.id, role=member.role)


def require_role(principal: Principal, *roles: str) -> Principal:
    """Return the principal if it holds one of ``roles``; raise Forbidden otherwise."""
    if principal.role not in roles:
        raise Forbidden()
    return principal


def delete_account(session: Session, person_id: uuid.UUID, *, now: datetime) -> None:
    """Delete a resident's account and proof of address; their tokens stop working."""
    repository.revoke_tokens_of(session, "resident", person_id, now)
    publish(session, PersonDeleted(person_id, now))
    repository.delete_person(session, person_id)
    log.info("account.deleted", person=str(person_id))
