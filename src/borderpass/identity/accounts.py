"""Accounts and credentials: sign-in, bearer tokens and API keys, staff and their roles,
and deleting a resident's account.

A token is given to its holder once; only its hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from borderpass.identity import repository, throttle
from borderpass.identity.documents import normalise
from borderpass.identity.events import PersonDeleted
from borderpass.identity.models import ApiToken, Person, StaffMember
from borderpass.identity.proofing import AccountSuspendedError
from borderpass.identity.schemas import Principal
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorised
from borderpass.kit.events import publish
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import check_secret, hash_secret

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
    "token_columns",
    "token_hash",
    "token_principal",
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
# The accounts of one document whose passwords a sign-in may try: the proven holder or
# the claimed accounts (at most three may be active) and suspended ones.
_ACCOUNTS_PER_DOCUMENT = 8
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
    session: Session, kind: str, number: str, password: str, *, now: datetime,
    address: str | None = None,
) -> tuple[Person, str, datetime]:
    """Sign a resident in with document number and password; return an access token.

    Throttled per account and per client ``address`` (see ``identity.throttle``).

    Raises:
        SignInFailed: wrong number or password (the failure is recorded).
        AccountLocked: too many failures; an officer must lift the lock.
        SignInDelayed: too many failures lately; try again after Retry-After.
    """
    try:
        normalised = normalise(kind, number)
    except InvalidInput:
        throttle.guard(session, None, address, now=now)
        throttle.failed(session, None, address, SignInFailed(), reason="invalid_number",
                        now=now)
    account = throttle.resident_account(kind, normalised)
    throttle.guard(session, account, address, now=now)
    # A document may have a proven holder or a few claimed accounts (and suspended
    # ones): the password says which of them is signing in.
    accounts = [person for person in repository.accounts_for_document(
        session, kind, account.key, ("active", "suspended"), limit=_ACCOUNTS_PER_DOCUMENT)
        if person.password_hash]
    if not accounts:
        hash_secret(password)  # the same work either way, so timing tells nothing
        throttle.failed(session, account, address, SignInFailed(), reason="no_active_account",
                        now=now)
    person = next((person for person in accounts
                   if check_secret(password, person.password_hash or "")), None)
    if person is None:
        throttle.failed(session, account, address, SignInFailed(), reason="wrong_password",
                        now=now)
    if person.status == "suspended":
        raise AccountSuspendedError()
    if len(accounts) == 1:
        # With several accounts on one document, one of them signing in must not wipe the
        # failures of guesses at another's password.
        throttle.succeeded(session, account)
    token, expires = _issue_token(session, "resident", person.id, "resident", now,
                                  RESIDENT_TOKEN_TTL)
    return person, token, expires


def sign_in_staff(
    session: Session, username: str, password: str, *, now: datetime,
    address: str | None = None,
) -> tuple[StaffMember, str, datetime]:
    """Sign a staff member in; return an access token carrying their role.

    Throttled per account and per client ``address``, as residents are.
    """
    account = throttle.staff_account(username)
    throttle.guard(session, account, address, now=now)
    member = repository.find_staff(session, username)
    wrong = SignInFailed(_("The user name or password is not correct."))
    if member is None:
        hash_secret(password)
        throttle.failed(session, account, address, wrong, reason="no_such_user", now=now)
    if not check_secret(password, member.password_hash):
        throttle.failed(session, account, address, wrong, reason="wrong_password", now=now)
    throttle.succeeded(session, account)
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
    record = repository.token_record(session, _hash_token(token))
    if record is None or record.revoked_at is not None:
        raise Unauthorised()
    if record.expires_at is not None and now >= record.expires_at:
        raise Unauthorised(_("The sign-in has expired; sign in again."))
    return Principal(kind=record.principal_kind, id=record.principal_id, role=record.role)


def token_hash(token: str) -> str:
    """Return what a token is found by (its SHA-256), for ``token_columns``."""
    return _hash_token(token)


def token_columns(token_hash: str | None = None) -> tuple[Any, ...]:
    """Return what ``token_principal`` needs of a token as scalar subqueries, for another
    domain's query that reads more besides (one round trip); the second names the
    principal. ``token_hash``: the token's (``token_hash``), or None for a query that
    takes it as its parameter ``token_hash``."""
    return repository.token_columns(token_hash)


def token_principal(values: Sequence[Any], *, now: datetime) -> Principal | None:
    """Return the principal of a token from the values of ``token_columns``, if it
    authenticates now as ``authenticate`` admits it; None otherwise (``authenticate``
    then says why)."""
    kind, principal_id, role, expires_at, revoked_at = values
    if kind is None or revoked_at is not None:
        return None
    if expires_at is not None and now >= expires_at:
        return None
    return Principal(kind=kind, id=principal_id, role=role)


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
