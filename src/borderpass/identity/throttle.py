"""Sign-in throttling, for residents and staff, per account and per client address.

Every failed sign-in is recorded in the database (so every web process counts the same
failures) under the account (a resident's document blind index or a staff user name,
whether or not such an account exists) and under the client's address. Over a sliding
window (``sign_in_window_seconds``):

- from ``sign_in_delay_after`` failures on, the next attempt must wait, longer after each
  further failure; an attempt that comes too early is refused with 429 and Retry-After
  without its password being looked at, and does not count. Nothing sleeps: the wait is
  the caller's.
- at ``sign_in_lock_after`` failures the account is locked: every attempt is refused
  with 423, the right password too, until an officer lifts the lock (the API, the help
  desk's page, or ``borderpass accounts unlock``).
- a client address is only delayed, from ``sign_in_address_delay_after`` failures, never
  locked: many people may share one.

A successful sign-in clears its account's failures. Sign-ins to one account take turns
(``repository.hold_sign_in``), so the lock comes after exactly the configured number of
failures however many processes take them. Each refusal is logged with the account (the
first characters of its blind index, or the staff user name), the client address and the
reason; never the password or the document number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from borderpass.identity import repository
from borderpass.identity.documents import mask, normalise
from borderpass.identity.schemas import Principal, SignInLockView, UnlockResult
from borderpass.kit.config import Settings, get_settings
from borderpass.kit.errors import BorderpassError, Forbidden, InvalidInput
from borderpass.kit.i18n import _, _n
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import document_index

__all__ = [
    "ACCOUNT_SCOPES",
    "UNLOCK_ROLES",
    "Account",
    "AccountLocked",
    "SignInDelayed",
    "failed",
    "guard",
    "purge_sign_in_failures",
    "resident_account",
    "sign_in_locks",
    "staff_account",
    "succeeded",
    "unlock",
]

log = get_logger(__name__)

ACCOUNT_SCOPES = ("resident", "staff")
# Who may lift a lock of each kind: a help desk unlocks residents (after checking their
# identity document), only a supervisor or an administrator unlocks staff or an address.
UNLOCK_ROLES = {
    "resident": ("help_desk", "supervisor", "admin"),
    "staff": ("supervisor", "admin"),
    "address": ("supervisor", "admin"),
}


class AccountLocked(BorderpassError):
    code = "account_locked"
    status = 423
    message = _("This account is locked after too many failed sign-ins. Bring your identity "
                "document to a help desk, where an officer can unlock it.")


STAFF_LOCKED = _("This account is locked after too many failed sign-ins. Ask a supervisor "
                 "to unlock it.")


class SignInDelayed(BorderpassError):
    code = "sign_in_delayed"
    status = 429
    plural = _n("Too many failed sign-ins. Wait {seconds} second, then try again.",
                "Too many failed sign-ins. Wait {seconds} seconds, then try again.")
    counted_by = "seconds"
    message = plural.plural

    def __init__(self, seconds: int, **params: Any) -> None:
        self.retry_after = max(1, seconds)
        super().__init__(seconds=self.retry_after, **params)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class Account:
    """An account as the throttle knows it: its scope, its key and what officers see."""

    scope: str  # "resident" or "staff"
    key: str  # a document blind index, or a staff user name
    label: str  # a masked document number, or the user name

    @property
    def logged(self) -> str:
        """How the account appears in the log: never a document number."""
        return self.key[:12] if self.scope == "resident" else self.key


def resident_account(kind: str, normalised: str) -> Account:
    """Return the throttle's account for a resident's (normalised) document number."""
    return Account("resident", document_index(kind, normalised), mask(kind, normalised))


def staff_account(username: str) -> Account:
    """Return the throttle's account for a staff user name, as typed."""
    name = username[:64]
    return Account("staff", name, name)


def _window(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(seconds=settings.sign_in_window_seconds)


def _wait(settings: Settings, failures: int, threshold: int) -> timedelta | None:
    """How long to wait after the last of ``failures``: none below ``threshold``, then a
    delay growing with each further failure, up to the configured ceiling."""
    if failures < threshold:
        return None
    seconds = settings.sign_in_delay_seconds * settings.sign_in_delay_growth ** min(
        failures - threshold, 64)
    return timedelta(seconds=min(seconds, settings.sign_in_delay_max_seconds))


def _retry_after(session: Session, scope: str, key: str, threshold: int, settings: Settings,
                 now: datetime) -> int | None:
    """Return the whole seconds ``key`` must still wait, or None if it may try now."""
    count, last = repository.sign_in_failures_since(session, scope, key,
                                                    _window(settings, now))
    wait = _wait(settings, count, threshold)
    if wait is None or last is None or now >= last + wait:
        return None
    return math.ceil((last + wait - now).total_seconds())


def _refuse(account: Account | None, address: str | None, reason: str, **fields: Any) -> None:
    log.warning("sign_in.refused", scope=account.scope if account else None,
                account=account.logged if account else None, address=address, reason=reason,
                **fields)


def _locked(account: Account, **params: Any) -> AccountLocked:
    if account.scope == "staff":
        return AccountLocked(STAFF_LOCKED, **params)
    return AccountLocked(**params)


def guard(session: Session, account: Account | None, address: str | None, *,
          now: datetime) -> None:
    """Admit a sign-in attempt to have its password checked, or refuse it.

    Holds the account's turn until the transaction ends.

    Raises:
        AccountLocked: the account is locked.
        SignInDelayed: the account or the address must wait (Retry-After).
    """
    settings = get_settings()
    if account is not None:
        repository.hold_sign_in(session, account.scope, account.key)
        if repository.find_sign_in_lock(session, account.scope, account.key) is not None:
            _refuse(account, address, "locked")
            raise _locked(account)
        wait = _retry_after(session, account.scope, account.key, settings.sign_in_delay_after,
                            settings, now)
        if wait is not None:
            _refuse(account, address, "delayed", seconds=wait)
            raise SignInDelayed(wait)
    if address:
        wait = _retry_after(session, "address", address, settings.sign_in_address_delay_after,
                            settings, now)
        if wait is not None:
            _refuse(account, address, "address_delayed", seconds=wait)
            raise SignInDelayed(wait)


def failed(session: Session, account: Account | None, address: str | None,
           error: BorderpassError, *, reason: str, now: datetime) -> NoReturn:
    """Record a failed sign-in and raise ``error``, or AccountLocked if this failure
    locks the account; either keeps the record (the unit of work commits it)."""
    settings = get_settings()
    keys = ([(account.scope, account.key)] if account is not None else []) + (
        [("address", address)] if address else [])
    repository.add_sign_in_failures(session, keys, now)
    if address:
        repository.forget_sign_in_failures(session, "address", address,
                                           before=_window(settings, now))
    _refuse(account, address, reason)
    error.keep = True
    if account is None:
        raise error
    repository.forget_sign_in_failures(session, account.scope, account.key,
                                       before=_window(settings, now))
    count, _last = repository.sign_in_failures_since(session, account.scope, account.key,
                                                     _window(settings, now))
    if count >= settings.sign_in_lock_after:
        repository.lock_sign_in(session, account.scope, account.key, account.label, count, now)
        log.warning("sign_in.locked", scope=account.scope, account=account.logged,
                    address=address, failures=count)
        raise _locked(account, keep=True)
    raise error


def succeeded(session: Session, account: Account) -> None:
    """Forget an account's failures after it signed in."""
    repository.forget_sign_in_failures(session, account.scope, account.key)


def _target(kind: str | None, number: str | None, username: str | None,
            address: str | None) -> tuple[str, str, str]:
    """Return the scope, key and label an officer named (exactly one of the three)."""
    given = [name for name, value in (("document", kind or number), ("username", username),
                                      ("address", address)) if value]
    if len(given) != 1:
        raise InvalidInput(_("Name one account: a document kind and number, a staff user "
                             "name, or a client address."), field="account")
    if username:
        account = staff_account(username.strip())
        return account.scope, account.key, account.label
    if address:
        text = address.strip()[:128]
        return "address", text, text
    if not kind or not number:
        field = "document_number" if kind else "document_kind"
        raise InvalidInput(_("Give both the kind and the number of the document."), field=field)
    try:
        normalised = normalise(kind, number)
    except InvalidInput as error:
        error.field = "document_kind" if getattr(error, "reason", "") == "unknown_kind" else (
            "document_number")
        raise
    account = resident_account(kind, normalised)
    return account.scope, account.key, account.label


def unlock(
    session: Session,
    *,
    kind: str | None = None,
    number: str | None = None,
    username: str | None = None,
    address: str | None = None,
    officer: Principal | None,
    now: datetime,
) -> UnlockResult:
    """Lift the lock of an account (or the delay of a client address) and forget its
    failures, so that it may sign in again at once.

    ``officer`` is the staff member doing it (None for the platform's operators at the
    command line); a help desk may unlock residents only.
    """
    scope, key, label = _target(kind, number, username, address)
    if officer is not None and officer.role not in UNLOCK_ROLES[scope]:
        raise Forbidden()
    repository.hold_sign_in(session, scope, key)
    was_locked = repository.delete_sign_in_lock(session, scope, key)
    cleared = repository.forget_sign_in_failures(session, scope, key)
    session.flush()
    log.info("sign_in.unlocked", scope=scope, account=key[:12] if scope == "resident" else key,
             was_locked=was_locked, failures=cleared,
             officer=str(officer.id) if officer is not None else "command line")
    return UnlockResult(scope=scope, account=label, was_locked=was_locked,
                        failures_cleared=cleared, at=now)


def sign_in_locks(session: Session, *, officer: Principal | None) -> list[SignInLockView]:
    """Return the locked accounts an officer may unlock (every one at the command line)."""
    scopes = [scope for scope in ACCOUNT_SCOPES
              if officer is None or officer.role in UNLOCK_ROLES[scope]]
    if not scopes:
        raise Forbidden()
    return [SignInLockView(scope=lock.scope, account=lock.label, failures=lock.failures,
                           locked_at=lock.locked_at)
            for lock in repository.sign_in_locks(session, scopes)]


def purge_sign_in_failures(session: Session, *, now: datetime) -> int:
    """Delete the failures that have left every sliding window; return how many."""
    return repository.purge_sign_in_failures(session, _window(get_settings(), now))
