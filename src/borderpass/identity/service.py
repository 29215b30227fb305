"""Registration, activation, sign-in and credentials.

Personal values are sealed before they reach a table and are looked up by blind index.
Nothing in this module logs or reports a plain document number, name or address.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy.orm import Session

from borderpass.identity import repository
from borderpass.identity.documents import DocumentKind, mask, normalise, normalise_field
from borderpass.identity.events import PersonActivated, PersonDeleted
from borderpass.identity.models import (
    ActivationPin,
    ApiToken,
    Person,
    ProofDocument,
    Registration,
    StaffMember,
)
from borderpass.identity.phones import normalise_phone
from borderpass.identity.schemas import PersonView, Principal, RegistrationDetails
from borderpass.kit import outbox
from borderpass.kit.clock import hk_date
from borderpass.kit.config import get_settings
from borderpass.kit.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    TooLarge,
    Unauthorised,
)
from borderpass.kit.events import publish
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import check_secret, hash_secret
from borderpass.kit.vault import address_index, document_index, open_text, seal_text

__all__ = [
    "STAFF_ROLES",
    "activate",
    "activate_by_officer",
    "active_people",
    "address_indexes",
    "authenticate",
    "create_staff",
    "delete_account",
    "detect_proof_type",
    "find_person",
    "get_registration",
    "people_at_addresses",
    "issue_api_key",
    "issue_token",
    "person_view",
    "purge_expired_registrations",
    "require_role",
    "resend_pin",
    "sign_in",
    "sign_in_staff",
    "staff_principal",
    "start_registration",
    "submit_registration",
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


class AlreadyRegistered(Conflict):
    code = "already_registered"
    message = _("This document is already registered. Sign in instead.")


class InvalidProof(InvalidInput):
    code = "invalid_proof"
    message = _("The proof of address must be a PDF, JPEG or PNG file.")


class ProofTooLarge(TooLarge):
    code = "proof_too_large"
    message = _("The proof of address is larger than {limit} MB.")


class WrongPin(InvalidInput):
    code = "wrong_pin"
    message = _("The PIN is not correct; {left} attempts left.")


class PinExpired(Gone):
    code = "pin_expired"
    message = _("The PIN has expired. Ask for a new one.")


class TooManyAttempts(Forbidden):
    code = "too_many_attempts"
    status = 429
    message = _("Too many wrong PINs. Ask for a new one.")


class SignInFailed(Unauthorised):
    code = "sign_in_failed"
    message = _("The document number or password is not correct, or the account is not active.")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
) -> Registration:
    """Record a resident's details and proof of address, and send the activation PIN."""
    registration = _load_registration(session, registration_id, now)
    if registration.state != "started":
        raise RegistrationState(state=registration.state)
    checked = _check_details(details, now)
    media_type = detect_proof_type(proof)
    index = document_index(checked.kind, checked.number)
    existing = repository.find_person_by_index(session, checked.kind, index)
    if existing is not None:
        if existing.status == "active":
            raise AlreadyRegistered(field="document_number")
        repository.delete_person(session, existing.id)
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
            content_sealed=_seal_bytes("proof.content", proof),
            uploaded_at=now,
        ),
    )
    registration.person_id = person.id
    registration.state = "submitted"
    registration.channel = details.pin_channel
    _send_pin(session, registration, person, now)
    log.info("registration.submitted", registration=str(registration.id),
             kind=checked.kind.value, channel=details.pin_channel)
    return registration


def _seal_bytes(field: str, content: bytes) -> bytes:
    from borderpass.kit.signing import seal

    return seal(get_settings().secret_bytes("pii_key"), content, context=field.encode())


def _send_pin(session: Session, registration: Registration, person: Person, now: datetime) -> None:
    settings = get_settings()
    pin = f"{secrets.randbelow(10**6):06d}"
    expires = min(now + timedelta(minutes=settings.pin_minutes), registration.expires_at)
    repository.add(
        session,
        ActivationPin(
            registration_id=registration.id,
            pin_hash=hash_secret(pin),
            sent_at=now,
            expires_at=expires,
        ),
    )
    channel = registration.channel or "sms"
    recipient = open_text("person.phone", person.phone_sealed) if channel == "sms" else (
        open_text("person.address", person.address_sealed)
    )
    outbox.queue(
        session,
        channel=channel,
        purpose="activation_pin",
        recipient=recipient,
        body=f"borderpass: your activation PIN is {pin}. It expires in {settings.pin_minutes} "
        "minutes. Never share it.",
        reference=str(registration.id),
        now=now,
    )


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

    Publishes ``person.activated`` so that evidence waiting for this document attaches.
    """
    registration = _load_registration(session, registration_id, now)
    if registration.state != "submitted" or registration.person_id is None:
        raise RegistrationState(state=registration.state)
    record = repository.latest_pin(session, registration.id)
    if record is None or record.used_at is not None:
        raise PinExpired()
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
    person.status = "active"
    person.activated_at = now
    registration.state = "activated"
    session.flush()
    publish(session, PersonActivated(person.id, person.doc_kind, person.doc_index,
                                     person.address_index, now))
    token, expires = _issue_token(session, "resident", person.id, "resident", now,
                                  RESIDENT_TOKEN_TTL)
    log.info("registration.activated", registration=str(registration.id), person=str(person.id))
    return person, token, expires


def activate_by_officer(
    session: Session, registration_id: uuid.UUID, *, officer: uuid.UUID, now: datetime
) -> Person:
    """Activate a registration at a help station after an officer checked the documents."""
    registration = _load_registration(session, registration_id, now)
    if registration.state != "submitted" or registration.person_id is None:
        raise RegistrationState(state=registration.state)
    person = get_person(session, registration.person_id)
    person.status = "active"
    person.activated_at = now
    registration.state = "activated"
    registration.helped_by = officer
    session.flush()
    publish(session, PersonActivated(person.id, person.doc_kind, person.doc_index,
                                     person.address_index, now))
    log.info("registration.activated", registration=str(registration.id), person=str(person.id),
             officer=str(officer))
    return person


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


def find_person(session: Session, kind: str, number: str) -> Person | None:
    """Find a person by a document number (validated first), through its blind index."""
    normalised = normalise_field(kind, number)
    return repository.find_person_by_index(session, kind, document_index(kind, normalised))


def people_at_addresses(session: Session, address_indexes: Sequence[str]) -> list[uuid.UUID]:
    """Return the active residents whose address has one of these blind indexes."""
    return repository.active_people_at(session, sorted(set(address_indexes)))


def address_indexes(session: Session, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Return the address blind index of each of these people (in one query per call).

    Raises:
        NotFound: one of them is not a known person.
    """
    found = repository.address_indexes_of(session, sorted(set(person_ids)))
    if len(found) != len(set(person_ids)):
        raise NotFound(_("There is no such person."))
    return found


def active_people(session: Session, *, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """Return a page of active residents' ids in id order, starting after ``after``."""
    return repository.active_people_after(session, after, limit)


def get_person(session: Session, person_id: uuid.UUID) -> Person:
    """Return a person by id."""
    person = repository.get_person(session, person_id)
    if person is None:
        raise NotFound(_("There is no such person."))
    return person


def person_view(person: Person) -> PersonView:
    """Unseal a person's record for display to that person or an authorised officer."""
    return PersonView(
        id=person.id,
        status=person.status,
        name_zh=open_text("person.name_zh", person.name_zh_sealed),
        name_en=open_text("person.name_en", person.name_en_sealed),
        initials=person.initials,
        document_kind=person.doc_kind,
        document_number=open_text("person.doc_number", person.doc_number_sealed),
        document_masked=person.doc_masked,
        document_issued_on=person.doc_issued_on,
        hrp_number=open_text("person.hrp", person.hrp_sealed) if person.hrp_sealed else None,
        phone=open_text("person.phone", person.phone_sealed),
        address=open_text("person.address", person.address_sealed),
        locale=person.locale,
        activated_at=person.activated_at,
    )


def delete_account(session: Session, person_id: uuid.UUID, *, now: datetime) -> None:
    """Delete a resident's account and proof of address; their tokens stop working."""
    repository.revoke_tokens_of(session, "resident", person_id, now)
    publish(session, PersonDeleted(person_id, now))
    repository.delete_person(session, person_id)
    log.info("account.deleted", person=str(person_id))


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
