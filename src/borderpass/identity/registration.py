"""Registration and activation: a resident's details and proof of address, the PIN,
activation by PIN or by an officer, and the purge of registrations not finished in time.

Personal values are sealed before they reach a table and are looked up by blind index.
Nothing in this module logs or reports a plain document number, name or address.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy.orm import Session

from borderpass.identity import repository
from borderpass.identity.accounts import RESIDENT_TOKEN_TTL, _issue_token
from borderpass.identity.documents import DocumentKind, mask, normalise
from borderpass.identity.models import ActivationPin, Person, ProofDocument, Registration
from borderpass.identity.people import get_person
from borderpass.identity.phones import normalise_phone
from borderpass.identity.proofing import (
    MAX_CLAIMED_ACCOUNTS,
    TooManyClaims,
    make_proven_at_activation,
)
from borderpass.identity.schemas import RegistrationDetails
from borderpass.kit import outbox
from borderpass.kit.clock import hk_date
from borderpass.kit.config import get_settings
from borderpass.kit.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound, TooLarge
from borderpass.kit.i18n import _, _n, translate_plural
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import check_secret, hash_secret, seal
from borderpass.kit.vault import address_index, document_index, open_text, seal_text

__all__ = [
    "AlreadyRegistered",
    "InvalidProof",
    "PinExpired",
    "PinNotSent",
    "ProofTooLarge",
    "RegistrationExpired",
    "RegistrationNotFound",
    "RegistrationState",
    "RegistrationTooLong",
    "TooManyAttempts",
    "WrongPin",
    "activate",
    "activate_by_officer",
    "detect_proof_type",
    "extend_registration",
    "fill_activation_pin",
    "get_registration",
    "initials_of",
    "parse_details",
    "purge_expired_registrations",
    "resend_pin",
    "start_registration",
    "submit_registration",
]

log = get_logger(__name__)

class RegistrationNotFound(NotFound):
    code = "registration_not_found"
    message = _("There is no such registration.")


class RegistrationExpired(Gone):
    code = "registration_expired"
    message = _("The registration has expired: registration must be finished within "
                "{minutes} minutes. Please start again.")


class RegistrationState(Conflict):
    code = "registration_state"
    message = _("The registration cannot do this now: it is {state}.")


class RegistrationTooLong(Conflict):
    code = "registration_too_long"
    message = _("A registration cannot be given more time: it ends at the latest {hours} "
                "hours after it began. Please finish it now, or start again.")


class AlreadyRegistered(Conflict):
    code = "already_registered"
    message = _("Someone has already proved that they hold this document. Sign in instead; "
                "if the document is yours and you cannot, bring it to a help desk.")


class InvalidProof(InvalidInput):
    code = "invalid_proof"
    message = _("The proof of address must be a PDF, JPEG or PNG file.")


class ProofTooLarge(TooLarge):
    code = "proof_too_large"
    message = _("The proof of address is larger than {limit} MB.")


class WrongPin(InvalidInput):
    code = "wrong_pin"
    plural = _n("The PIN is not correct; {left} attempt left.",
                "The PIN is not correct; {left} attempts left.")
    counted_by = "left"
    message = plural.plural


class PinNotSent(Conflict):
    code = "pin_not_sent"
    message = _("The PIN has not been sent yet. Wait for the message, then enter its PIN.")


class PinExpired(Gone):
    code = "pin_expired"
    message = _("The PIN has expired. Ask for a new one.")


class TooManyAttempts(Forbidden):
    code = "too_many_attempts"
    status = 429
    message = _("Too many wrong PINs. Ask for a new one.")


def _load_registration(session: Session, registration_id: uuid.UUID, now: datetime) -> Registration:
    registration = repository.get_registration(session, registration_id, for_update=True)
    if registration is None:
        raise RegistrationNotFound(field="registration_id")
    if registration.state == "activated":
        raise RegistrationState(state="activated")
    if registration.state == "expired" or now >= registration.expires_at:
        raise RegistrationExpired(minutes=get_settings().registration_minutes)
    return registration


def get_registration(session: Session, registration_id: uuid.UUID) -> Registration:
    """Return a registration by id, whatever its state."""
    registration = repository.get_registration(session, registration_id)
    if registration is None:
        raise RegistrationNotFound(field="registration_id")
    return registration


def start_registration(session: Session, *, now: datetime) -> Registration:
    """Begin a registration; it must be activated within the configured minutes."""
    minutes = get_settings().registration_minutes
    registration = Registration(started_at=now, expires_at=now + timedelta(minutes=minutes))
    repository.add(session, registration)
    log.info("registration.started", registration=str(registration.id))
    return registration


# However often a person asks for more time, a registration ends at the latest this many
# periods of ``registration_minutes`` after it began: well over the ten extensions that
# WCAG 2.2.1 asks for, and short enough that no half-finished record lingers for days.
MOST_PERIODS = 11


def extend_registration(session: Session, registration_id: uuid.UUID, *,
                        now: datetime) -> Registration:
    """Give an open registration the configured minutes again, counted from now."""
    registration = _load_registration(session, registration_id, now)
    minutes = get_settings().registration_minutes
    latest = registration.started_at + timedelta(minutes=minutes * MOST_PERIODS)
    extended = min(now + timedelta(minutes=minutes), latest)
    if extended <= registration.expires_at:
        if now + timedelta(minutes=minutes) > latest:
            raise RegistrationTooLong(hours=minutes * MOST_PERIODS // 60)
        return registration  # already as long as it can be from now
    registration.expires_at = extended
    session.flush()
    log.info("registration.extended", registration=str(registration.id),
             expires_at=extended.isoformat())
    return registration


_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def detect_proof_type(content: bytes) -> str:
    """Return the media type of a proof file judged by its content, not its name.

    Raises:
        InvalidProof: the content is none of PDF, JPEG or PNG.
        ProofTooLarge: it is over the size limit.
    """
    limit = get_settings().proof_max_bytes
    if len(content) > limit:
        raise ProofTooLarge(field="proof", limit=limit // (1024 * 1024))
    if not content:
        raise InvalidProof(_("The proof of address file is empty."), field="proof")
    for signature, media_type in _SIGNATURES:
        if content.startswith(signature):
            return media_type
    raise InvalidProof(field="proof")


def initials_of(name_en: str) -> str:
    """Return the initials of an English name, e.g. ``CHAN Tai-man`` gives ``CTM``."""
    parts = name_en.replace("-", " ").replace(",", " ").split()
    return "".join(part[0].upper() for part in parts if part[0].isalpha())[:8]


@dataclass(frozen=True)
class _Checked:
    kind: DocumentKind
    number: str
    hrp: str | None
    phone: str


def _check_details(details: RegistrationDetails, now: datetime) -> _Checked:
    today = hk_date(now)
    from borderpass.identity.documents import InvalidDocumentNumber

    try:
        number = normalise(details.document_kind, details.document_number, today=today)
    except InvalidDocumentNumber as error:
        error.field = "document_number"
        raise
    hrp = None
    if details.hrp_number:
        try:
            hrp = normalise(DocumentKind.HRP, details.hrp_number)
        except InvalidDocumentNumber as error:
            error.field = "hrp_number"
            raise
    elif details.will_cross:
        raise InvalidInput(
            _("A Home Return Permit number is needed to cross the border."), field="hrp_number"
        )
    if details.document_issued_on > today:
        raise InvalidInput(_("The date of issue cannot be in the future."),
                           field="document_issued_on")
    if details.document_issued_on < date(1940, 1, 1):
        raise InvalidInput(_("The date of issue is too far in the past."),
                           field="document_issued_on")
    return _Checked(details.document_kind, number, hrp, normalise_phone(details.phone))


def submit_registration(
    session: Session,
    registration_id: uuid.UUID,
    details: RegistrationDetails,
    proof: bytes,
    *,
    now: datetime,
    send_pin: bool = True,
) -> Registration:
    """Record a resident's details and proof of address, and send the activation PIN.

    ``send_pin=False`` at a help station, where an officer activates the account at once.
    """
    registration = _load_registration(session, registration_id, now)
    if registration.state != "started":
        raise RegistrationState(state=registration.state)
    checked = _check_details(details, now)
    media_type = detect_proof_type(proof)
    index = document_index(checked.kind, checked.number)
    # Only a proven holder closes a document to new registrations. Claimed, pending and
    # suspended accounts of it stay as they are: a registration never deletes or replaces
    # one (a pending one expires by itself), and whoever proves they hold the document
    # wins it (``proofing``).
    if repository.proven_holder(session, checked.kind, index) is not None:
        raise AlreadyRegistered(field="document_number")
    person = Person(
        doc_kind=checked.kind.value,
        doc_index=index,
        doc_number_sealed=seal_text("person.doc_number", checked.number),
        doc_masked=mask(checked.kind, checked.number),
        doc_issued_on=details.document_issued_on,
        name_zh_sealed=seal_text("person.name_zh", details.name_zh),
        name_en_sealed=seal_text("person.name_en", details.name_en),
        initials=initials_of(details.name_en),
        hrp_index=document_index(DocumentKind.HRP, checked.hrp) if checked.hrp else None,
        hrp_sealed=seal_text("person.hrp", checked.hrp) if checked.hrp else None,
        phone_sealed=seal_text("person.phone", checked.phone),
        address_sealed=seal_text("person.address", details.address),
        address_index=address_index(details.address),
        password_hash=hash_secret(details.password),
        locale=details.locale,
        status="pending",
        created_at=now,
    )
    repository.add(session, person)
    repository.add(
        session,
        ProofDocument(
            person_id=person.id,
            media_type=media_type,
            size=len(proof),
            content_sealed=seal(proof, context="proof.content"),
            uploaded_at=now,
        ),
    )
    registration.person_id = person.id
    registration.state = "submitted"
    registration.channel = details.pin_channel if send_pin else None
    if send_pin:
        _send_pin(session, registration, person, now)
    log.info("registration.submitted", registration=str(registration.id),
             kind=checked.kind.value, channel=registration.channel)
    return registration


_ACTIVATION_SMS = _n("borderpass: your activation PIN is {pin}. It expires in {minutes} minute. "
                     "Never share it.",
                     "borderpass: your activation PIN is {pin}. It expires in {minutes} minutes. "
                     "Never share it.")


def _send_pin(session: Session, registration: Registration, person: Person, now: datetime) -> None:
    """Queue the activation message; its PIN is made at delivery (``fill_activation_pin``)."""
    settings = get_settings()
    record = ActivationPin(registration_id=registration.id, pin_hash=None, sent_at=now,
                           expires_at=registration.expires_at)
    repository.add(session, record)
    channel = registration.channel or "sms"
    recipient = open_text("person.phone", person.phone_sealed) if channel == "sms" else (
        open_text("person.address", person.address_sealed)
    )
    outbox.queue(
        session,
        channel=channel,
        purpose="activation_pin",
        recipient=recipient,
        # In the person's language; the PIN itself is filled in at delivery.
        body=translate_plural(_ACTIVATION_SMS, settings.pin_minutes, person.locale,
                              pin="{pin}", minutes=settings.pin_minutes),
        reference=str(registration.id),
        secret_ref=str(record.id),
        now=now,
    )


def fill_activation_pin(session: Session, secret_ref: str, now: datetime) -> dict[str, str] | None:
    """Make the PIN of a queued activation message as it is delivered; keep only its hash.

    The PIN lives from now for the configured minutes (never past the registration).
    Returns None when there is nothing to send any more: the registration was activated,
    expired or purged, or a newer PIN replaced this one.
    """
    record = repository.get_pin(session, uuid.UUID(secret_ref))
    if record is None or record.used_at is not None:
        return None
    registration = repository.get_registration(session, record.registration_id)
    if registration is None or registration.state != "submitted" \
            or now >= registration.expires_at:
        return None
    latest = repository.latest_pin(session, registration.id)
    if latest is None or latest.id != record.id:
        return None
    pin = f"{secrets.randbelow(10**6):06d}"
    record.pin_hash = hash_secret(pin)
    record.expires_at = min(now + timedelta(minutes=get_settings().pin_minutes),
                            registration.expires_at)
    record.attempts = 0
    session.flush()
    return {"pin": pin}


def resend_pin(session: Session, registration_id: uuid.UUID, *, now: datetime) -> Registration:
    """Send a fresh PIN for a submitted registration, replacing the previous one."""
    registration = _load_registration(session, registration_id, now)
    if registration.state != "submitted" or registration.person_id is None:
        raise RegistrationState(state=registration.state)
    if repository.pins_sent_since(session, registration.id, now - timedelta(minutes=1)):
        raise TooManyAttempts(_("A PIN was sent less than a minute ago; wait before asking again."))
    person = repository.get_person(session, registration.person_id)
    if person is None:  # pragma: no cover - the foreign key keeps them together
        raise RegistrationNotFound()
    _send_pin(session, registration, person, now)
    return registration


def activate(
    session: Session, registration_id: uuid.UUID, pin: str, *, now: datetime
) -> tuple[Person, str, datetime]:
    """Activate a registration with its PIN; return the person and an access token.

    The account is *claimed*: it holds what the person uploads, but no evidence from
    laboratories, registries or officers until it is proven (``proofing``).

    Raises:
        AlreadyRegistered: the document has a proven holder by now.
        TooManyClaims: the document has the most claimed accounts it may have.
    """
    registration = _load_registration(session, registration_id, now)
    if registration.state != "submitted" or registration.person_id is None:
        raise RegistrationState(state=registration.state)
    record = repository.latest_pin(session, registration.id)
    if record is None or record.used_at is not None:
        raise PinExpired()
    if record.pin_hash is None:
        raise PinNotSent()
    if now >= record.expires_at:
        raise PinExpired()
    limit = get_settings().pin_attempts
    if record.attempts >= limit:
        raise TooManyAttempts()
    if not check_secret(pin, record.pin_hash):
        record.attempts += 1
        session.flush()
        if record.attempts >= limit:
            # Commit the spent attempt even though we report an error.
            raise TooManyAttempts(keep=True)
        raise WrongPin(field="pin", left=limit - record.attempts, keep=True)
    record.used_at = now
    person = repository.get_person(session, registration.person_id)
    if person is None:  # pragma: no cover - the foreign key keeps them together
        raise RegistrationNotFound()
    if repository.proven_holder(session, person.doc_kind, person.doc_index) is not None:
        raise AlreadyRegistered(field="document_number")
    claimed = repository.count_claimed(session, person.doc_kind, person.doc_index)
    if claimed >= MAX_CLAIMED_ACCOUNTS:
        raise TooManyClaims(count=claimed)
    person.status = "active"
    person.assurance = "claimed"
    person.activated_at = now
    registration.state = "activated"
    session.flush()
    token, expires = _issue_token(session, "resident", person.id, "resident", now,
                                  RESIDENT_TOKEN_TTL)
    log.info("registration.activated", registration=str(registration.id), person=str(person.id))
    return person, token, expires


def activate_by_officer(
    session: Session, registration_id: uuid.UUID, *, officer: uuid.UUID, now: datetime
) -> Person:
    """Activate a registration at a help station after an officer checked the documents.

    The officer saw the original card, so the account is *proven* at once: evidence
    waiting for the document attaches, and any claimed account of it is suspended.
    """
    registration = _load_registration(session, registration_id, now)
    if registration.state != "submitted" or registration.person_id is None:
        raise RegistrationState(state=registration.state)
    person = get_person(session, registration.person_id)
    person.status = "active"
    person.activated_at = now
    registration.state = "activated"
    registration.helped_by = officer
    make_proven_at_activation(session, person, officer=officer, now=now)
    log.info("registration.activated", registration=str(registration.id), person=str(person.id),
             officer=str(officer))
    return person


def purge_expired_registrations(session: Session, *, now: datetime) -> int:
    """Delete registrations that were not activated in time, and their pending people."""
    count = 0
    for registration in repository.expired_registrations(session, now):
        if registration.person_id is not None:
            person = repository.get_person(session, registration.person_id)
            if person is not None and person.status == "pending":
                repository.delete_person(session, person.id)
        registration.state = "expired"
        count += 1
    session.flush()
    return count


def parse_details(data: dict[str, object]) -> RegistrationDetails:
    """Validate registration fields, naming the first bad field in the error."""
    try:
        return RegistrationDetails.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidInput(
            _("{field_name}: {problem}"), field=field, field_name=field, problem=first["msg"],
            details=[{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                     for e in error.errors()],
        ) from None
