"""Levels of identity assurance: a claimed account becomes the proven holder of its
document, and no document is taken over silently.

An account activated with a typed number and an SMS PIN is *claimed* (NIST SP 800-63A
IAL1: nothing ties the person to the document). It becomes *proven* (IAL2) by one of:

- ``card_face``: the smart identity card's signed chip data (passive authentication)
  and a live face matching the chip's photo — checked by the e-Channel, which owns card
  reading and face matching, and recorded here;
- ``help_desk``: an officer saw the original card at a help desk;
- ``registry_letter``: for a document without a chip, the issuing registry's record
  matches (name, date of birth, date of issue) and the PIN of a letter sent to the
  address that registry holds comes back.

A document has at most one active proven holder (a partial unique index). When a person
proves they hold a document, every other active account of it is suspended with the
reason, its tokens revoked (``AccountSuspended`` revokes its codes) and an officer is
given the case. Nothing is ever deleted or replaced by a registration.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from borderpass.identity import repository
from borderpass.identity.documents import DocumentKind, normalise_field
from borderpass.identity.events import AccountSuspended, HolderProven
from borderpass.identity.models import IdentityCase, Person, ProofAttempt, ProofLetter
from borderpass.identity.phones import normalise_phone
from borderpass.identity.schemas import CaseView, LetterView, ProofView
from borderpass.kit import outbox
from borderpass.kit.clock import hk_date
from borderpass.kit.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound
from borderpass.kit.events import publish
from borderpass.kit.i18n import _, _n, translate
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import check_secret, hash_secret
from borderpass.kit.vault import document_index, open_text, seal_text

__all__ = [
    "CHIP_KINDS",
    "LETTER_ATTEMPTS",
    "LETTER_DAYS",
    "LETTER_EVERY",
    "MAX_CLAIMED_ACCOUNTS",
    "PROOF_FAILURES_PER_DAY",
    "AccountSuspendedError",
    "CaseNotFound",
    "ChipDocument",
    "Details",
    "HolderAlreadyProven",
    "LetterExpired",
    "LetterNotFound",
    "LetterNotSent",
    "LetterTooSoon",
    "NotClaimed",
    "ProofRefused",
    "RegistryMismatch",
    "TooManyClaims",
    "TooManyProofAttempts",
    "check_can_prove",
    "claims_suspended_by",
    "close_case",
    "confirm_letter",
    "fill_letter_pin",
    "list_cases",
    "proof_view",
    "prove_at_help_desk",
    "prove_holder",
    "record_failed_proof",
    "request_letter",
]

log = get_logger(__name__)

METHODS = ("card_face", "help_desk", "registry_letter")
CHIP_KINDS = frozenset({DocumentKind.HKID.value})
"""Documents whose chip the platform reads: these are proven with the card, not a letter."""

MAX_CLAIMED_ACCOUNTS = 3
"""Active claimed accounts one document may have; sign-in tries each one's password."""

PROOF_FAILURES_PER_DAY = 5
"""Failed proofs by one method an account may make in 24 hours before it must wait."""

LETTER_DAYS = 30
LETTER_EVERY = timedelta(days=3)
LETTER_ATTEMPTS = 5
_LETTER_PURPOSE = "identity_letter"


class HolderAlreadyProven(Conflict):
    code = "holder_already_proven"
    message = _("Someone has already proved that they hold this document. If it is yours, "
                "bring it to a help desk.")


class NotClaimed(Conflict):
    code = "already_proven"
    message = _("Your identity is already proven.")


class ProofRefused(Forbidden):
    code = "proof_refused"
    message = _("Only an active account can prove its holder's identity.")


class AccountSuspendedError(Forbidden):
    code = "account_suspended"
    message = _("This account is suspended: another person proved that they hold this "
                "document. If the document is yours, bring it to a help desk.")


class TooManyClaims(Conflict):
    code = "too_many_claims"
    message = _("This document already has {count} accounts whose holder is not proven. "
                "Prove that you hold it at a help desk, with the card.")


class TooManyProofAttempts(Forbidden):
    code = "too_many_proof_attempts"
    status = 429
    message = _("Too many attempts to prove your identity this way today. Try again "
                "tomorrow, or go to a help desk with your card.")


class ChipDocument(InvalidInput):
    code = "chip_document"
    message = _("A smart identity card is proven with its chip and your face, or at a help "
                "desk; the registry letter is for documents without a chip.")


class RegistryMismatch(InvalidInput):
    code = "registry_mismatch"
    message = _("The issuing registry's record does not match your name, date of birth and "
                "date of issue, or it has no record of this document. Check them, or go to "
                "a help desk.")


class LetterTooSoon(Conflict):
    code = "letter_too_soon"
    message = _("A letter was sent less than {days} days ago. Wait for it, or go to a help "
                "desk.")


class LetterNotFound(NotFound):
    code = "letter_not_found"
    message = _("No letter is on its way to you. Ask for one first.")


class LetterNotSent(Conflict):
    code = "letter_not_sent"
    message = _("The letter has not been sent yet. Enter its PIN when it arrives.")


class LetterExpired(Gone):
    code = "letter_expired"
    message = _("The letter's PIN has expired. Ask for a new letter.")


class WrongLetterPin(InvalidInput):
    code = "wrong_pin"
    plural = _n("The PIN is not correct; {left} attempt left.",
                "The PIN is not correct; {left} attempts left.")
    counted_by = "left"
    message = plural.plural


class CaseNotFound(NotFound):
    code = "case_not_found"
    message = _("There is no such case.")


@dataclass(frozen=True)
class Details:
    """What an authoritative source says about the holder (the card's chip, the registry);
    a proven account takes these over what was typed."""

    name_en: str | None = None
    name_zh: str | None = None
    issued_on: date | None = None


@dataclass(frozen=True)
class _Outcome:
    person: Person
    suspended: list[uuid.UUID] = field(default_factory=list)


def proof_view(person: Person, suspended: int = 0) -> ProofView:
    """Return an account's level of assurance as the API shows it."""
    return ProofView(person_id=person.id, assurance=person.assurance,
                     proof_method=person.proof_method, proven_at=person.proven_at,
                     suspended_claims=suspended)


def _initials(name_en: str) -> str:
    parts = name_en.replace("-", " ").replace(",", " ").split()
    return "".join(part[0].upper() for part in parts if part[0].isalpha())[:8]


def check_can_prove(session: Session, person_id: uuid.UUID, method: str, *,
                    now: datetime) -> Person:
    """Return an active claimed account that may try to prove itself by ``method`` now.

    Raises:
        ProofRefused: the account is not active.
        NotClaimed: it is already proven.
        TooManyProofAttempts: it failed too often by this method in the last 24 hours.
    """
    person = repository.get_person(session, person_id, for_update=True)
    if person is None or person.status != "active":
        raise ProofRefused()
    if person.assurance == "proven":
        raise NotClaimed()
    since = now - timedelta(days=1)
    if repository.proof_failures_since(session, person.id, method, since) \
            >= PROOF_FAILURES_PER_DAY:
        raise TooManyProofAttempts()
    return person


def record_failed_proof(session: Session, person_id: uuid.UUID, method: str, reason: str, *,
                        now: datetime) -> None:
    """Count a failed attempt to prove an account (the caller raises with ``keep=True``)."""
    repository.add(session, ProofAttempt(person_id=person_id, method=method, at=now,
                                         succeeded=False, reason=reason[:32]))
    log.info("identity.proof_failed", person=str(person_id), method=method, reason=reason)


def prove_holder(
    session: Session,
    person_id: uuid.UUID,
    *,
    method: str,
    now: datetime,
    officer: uuid.UUID | None = None,
    details: Details | None = None,
) -> ProofView:
    """Make an active account the proven holder of its document; suspend the others.

    Raises:
        ProofRefused: the account is not active.
        HolderAlreadyProven: another account already holds the document as proven.
    """
    person = repository.get_person(session, person_id, for_update=True)
    if person is None or person.status != "active":
        raise ProofRefused()
    outcome = _make_proven(session, person, method=method, officer=officer, details=details,
                           now=now)
    return proof_view(outcome.person, len(outcome.suspended))


def _make_proven(session: Session, person: Person, *, method: str, officer: uuid.UUID | None,
                 details: Details | None, now: datetime) -> _Outcome:
    if method not in METHODS:
        raise ValueError(f"unknown proof method {method!r}")
    holder = repository.proven_holder(session, person.doc_kind, person.doc_index)
    if holder is not None and holder.id != person.id:
        raise HolderAlreadyProven(field="document_number")
    if details is not None:
        if details.name_en:
            person.name_en_sealed = seal_text("person.name_en", details.name_en)
            person.initials = _initials(details.name_en)
        if details.name_zh:
            person.name_zh_sealed = seal_text("person.name_zh", details.name_zh)
        if details.issued_on:
            person.doc_issued_on = details.issued_on
    person.assurance = "proven"
    person.proven_at = now
    person.proof_method = method
    person.proven_by = officer
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Another proof of the same document committed first (the partial unique index).
        raise HolderAlreadyProven(field="document_number") from None
    suspended = [
        _suspend(session, other, holder=person, method=method, now=now)
        for other in repository.accounts_for_document(
            session, person.doc_kind, person.doc_index, ("active",), limit=100)
        if other.id != person.id
    ]
    repository.add(session, ProofAttempt(person_id=person.id, method=method, at=now,
                                         succeeded=True, reason=None))
    publish(session, HolderProven(person.id, person.doc_kind, person.doc_index, now))
    log.info("identity.proven", person=str(person.id), method=method,
             officer=str(officer) if officer else None, suspended=len(suspended))
    return _Outcome(person, suspended)


def _suspend(session: Session, other: Person, *, holder: Person, method: str,
             now: datetime) -> uuid.UUID:
    reason = "holder_proven"
    other.status = "suspended"
    other.suspended_at = now
    other.suspended_reason = reason
    repository.revoke_tokens_of(session, "resident", other.id, now)
    repository.add(session, IdentityCase(
        doc_kind=other.doc_kind, doc_masked=other.doc_masked, suspended_person_id=other.id,
        proven_person_id=holder.id, method=method, reason=reason, opened_at=now,
    ))
    publish(session, AccountSuspended(other.id, reason, now))
    log.info("identity.suspended", person=str(other.id), holder=str(holder.id), method=method)
    return other.id


def make_proven_at_activation(session: Session, person: Person, *, officer: uuid.UUID,
                              now: datetime) -> list[uuid.UUID]:
    """Prove an account an officer activates at a help desk (the card was checked there)."""
    return _make_proven(session, person, method="help_desk", officer=officer, details=None,
                        now=now).suspended


# --- at a help desk ---------------------------------------------------------------------


def prove_at_help_desk(
    session: Session,
    *,
    kind: str,
    number: str,
    phone: str,
    card_checked: bool,
    officer: uuid.UUID,
    now: datetime,
) -> ProofView:
    """Prove an existing account at a help desk: the officer saw the card; the person names
    their account by its mobile phone number.

    Raises:
        InvalidInput: the card was not checked.
        HolderAlreadyProven: the document already has a proven holder.
        NotFound: no active account of the document has that phone number.
    """
    if not card_checked:
        raise InvalidInput(_("Confirm that you have seen the original identity card."),
                           field="card_checked")
    normalised = normalise_field(kind, number)
    index = document_index(kind, normalised)
    wanted = normalise_phone(phone)
    if repository.proven_holder(session, kind, index) is not None:
        raise HolderAlreadyProven(field="document_number")
    for person in repository.accounts_for_document(session, kind, index, ("active",)):
        if open_text("person.phone", person.phone_sealed) == wanted:
            return prove_holder(session, person.id, method="help_desk", officer=officer,
                                now=now)
    raise NotFound(_("No account of this document has that mobile phone number. Register "
                     "the person instead."), field="phone")


# --- by the issuing registry and a letter -------------------------------------------------

_NAME_PARTS = re.compile(r"[^A-Z]+")


def _name_key(name: str) -> tuple[str, ...]:
    """Compare names as the same letters in any order, whatever the case and punctuation."""
    return tuple(sorted(part for part in _NAME_PARTS.split(name.upper()) if part))


def request_letter(session: Session, person_id: uuid.UUID, *, born_on: date,
                   now: datetime) -> LetterView:
    """Match a claimed account with the issuing registry and send a PIN letter to the
    address the registry holds (never the address the account typed).

    Raises:
        ChipDocument: the document has a chip; it is proven with the card or at a help desk.
        LetterTooSoon: a letter was sent lately.
        RegistryMismatch: no record, or the name, date of birth or date of issue differ
            (the failure counts, ``keep=True``).
    """
    person = check_can_prove(session, person_id, "registry_letter", now=now)
    if person.doc_kind in CHIP_KINDS:
        raise ChipDocument(field="born_on")
    live = repository.live_letters(session, person.id)
    if live and now - live[0].sent_at < LETTER_EVERY:
        raise LetterTooSoon(days=LETTER_EVERY.days)
    if born_on > hk_date(now):
        raise InvalidInput(_("The date of birth cannot be in the future."), field="born_on")
    record = repository.registry_record(session, person.doc_kind, person.doc_index)
    matched = record is not None and record.born_on == born_on \
        and record.issued_on == person.doc_issued_on \
        and _name_key(open_text("registry.name_en", record.name_en_sealed)) \
        == _name_key(open_text("person.name_en", person.name_en_sealed))
    if record is None or not matched:
        record_failed_proof(session, person.id, "registry_letter",
                            "no_record" if record is None else "mismatch", now=now)
        raise RegistryMismatch(field="born_on", keep=True)
    for earlier in live:
        earlier.withdrawn_at = now
    letter = ProofLetter(person_id=person.id, pin_hash=None, sent_at=now,
                         expires_at=now + timedelta(days=LETTER_DAYS))
    repository.add(session, letter)
    name = open_text("registry.name_en", record.name_en_sealed)
    address = open_text("registry.address", record.address_sealed)
    outbox.queue(
        session, channel="letter", purpose=_LETTER_PURPOSE, recipient=f"{name}\n{address}",
        # In the person's language; the PIN itself is filled in at delivery.
        body=translate(_("borderpass: to prove that you hold your identity document, sign in "
                         "and enter this PIN on your account page: {pin}. It is valid for {days} "
                         "days. If you did not ask for it, bring your document to a help desk: "
                         "someone may be using your identity."),
                       person.locale, pin="{pin}", days=LETTER_DAYS),
        reference=str(letter.id), secret_ref=str(letter.id), now=now,
    )
    log.info("identity.letter_queued", person=str(person.id), letter=str(letter.id))
    return LetterView(id=letter.id, sent_at=letter.sent_at, expires_at=letter.expires_at)


def fill_letter_pin(session: Session, secret_ref: str, now: datetime) -> dict[str, str] | None:
    """Make the PIN of a queued letter as it is delivered; keep only its hash.

    Returns None when the letter is no longer wanted (used, withdrawn, expired or gone).
    """
    try:
        letter = repository.get_letter(session, uuid.UUID(secret_ref))
    except ValueError:
        return None
    if letter is None or letter.used_at is not None or letter.withdrawn_at is not None \
            or now >= letter.expires_at or letter.pin_hash is not None:
        return None
    pin = f"{secrets.randbelow(10**6):06d}"
    letter.pin_hash = hash_secret(pin)
    session.flush()
    return {"pin": pin}


def confirm_letter(session: Session, person_id: uuid.UUID, pin: str, *,
                   now: datetime) -> ProofView:
    """Prove a claimed account with the PIN of its registry letter.

    Raises:
        LetterNotFound, LetterNotSent, LetterExpired: no usable letter.
        TooManyProofAttempts: too many wrong PINs for this letter.
        WrongLetterPin: the PIN is wrong (the attempt counts, ``keep=True``).
    """
    person = check_can_prove(session, person_id, "registry_letter", now=now)
    live = repository.live_letters(session, person.id)
    if not live:
        raise LetterNotFound(field="pin")
    letter = live[0]
    if now >= letter.expires_at:
        raise LetterExpired(field="pin")
    if letter.pin_hash is None:
        raise LetterNotSent(field="pin")
    if letter.attempts >= LETTER_ATTEMPTS:
        raise TooManyProofAttempts(field="pin")
    if not check_secret(pin, letter.pin_hash):
        letter.attempts += 1
        session.flush()
        record_failed_proof(session, person.id, "registry_letter", "wrong_pin", now=now)
        if letter.attempts >= LETTER_ATTEMPTS:
            raise TooManyProofAttempts(field="pin", keep=True)
        raise WrongLetterPin(field="pin", left=LETTER_ATTEMPTS - letter.attempts, keep=True)
    letter.used_at = now
    record = repository.registry_record(session, person.doc_kind, person.doc_index)
    details = Details(name_en=open_text("registry.name_en", record.name_en_sealed)) \
        if record is not None else None
    outcome = _make_proven(session, person, method="registry_letter", officer=None,
                           details=details, now=now)
    return proof_view(outcome.person, len(outcome.suspended))


# --- the officers' cases ------------------------------------------------------------------


def _case_view(session: Session, case: IdentityCase) -> CaseView:
    suspended = repository.get_person(session, case.suspended_person_id) \
        if case.suspended_person_id else None
    proven = repository.get_person(session, case.proven_person_id) \
        if case.proven_person_id else None
    return CaseView(
        id=case.id, document_kind=case.doc_kind, document_masked=case.doc_masked,
        method=case.method, reason=case.reason, opened_at=case.opened_at,
        closed_at=case.closed_at, note=case.note,
        suspended_person_id=case.suspended_person_id,
        suspended_initials=suspended.initials if suspended else None,
        suspended_phone=outbox.mask_phone(open_text("person.phone", suspended.phone_sealed))
        if suspended else None,
        suspended_registered_at=suspended.created_at if suspended else None,
        suspended_activated_at=suspended.activated_at if suspended else None,
        proven_person_id=case.proven_person_id,
        proven_initials=proven.initials if proven else None,
    )


def claims_suspended_by(session: Session, person_id: uuid.UUID) -> int:
    """Count the claimed accounts suspended when this person proved they hold the document."""
    return repository.count_cases_of_holder(session, person_id)


def list_cases(session: Session, *, open_only: bool = True, limit: int = 200) -> list[CaseView]:
    """List the suspended claims for an officer, the latest first."""
    limit = max(1, min(limit, 1000))
    return [_case_view(session, case)
            for case in repository.identity_cases(session, open_only=open_only, limit=limit)]


def close_case(session: Session, case_id: uuid.UUID, *, officer: uuid.UUID, note: str,
               now: datetime) -> CaseView:
    """Close a case with what the officer found."""
    case = repository.get_case(session, case_id)
    if case is None:
        raise CaseNotFound(field="case_id")
    if case.closed_at is not None:
        raise Conflict(_("This case is already closed."), field="case_id")
    note = note.strip()
    if not 1 <= len(note) <= 500:
        raise InvalidInput(_("Write what you found, in 1 to 500 characters."), field="note")
    case.closed_at = now
    case.closed_by = officer
    case.note = note
    session.flush()
    log.info("identity.case_closed", case=str(case.id), officer=str(officer))
    return _case_view(session, case)
