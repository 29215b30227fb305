"""Enrolment, withdrawal and the two gates.

Enrolment has three paths — in the app, at a gate with the card, at an office — and each
records who enrolled the person and how. Age is judged from the verified card on the Hong
Kong day of ``now``. Face templates are sealed under the PII key; live photos are only
ever held in memory.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy.orm import Session

from borderpass.echannel import face, guardians, keys, qr, records, repository
from borderpass.echannel.card import CardRefused, VerifiedCard, make_card, verify_card
from borderpass.echannel.models import Enrolment, Passage
from borderpass.echannel.schemas import (
    EnrolmentView,
    Gate1Decision,
    Gate2Decision,
    Guardian,
    GuardianNamed,
    MyEnrolment,
)
from borderpass.identity import service as identity
from borderpass.identity.documents import DocumentKind, InvalidDocumentNumber, mask, normalise
from borderpass.identity.events import PersonDeleted
from borderpass.identity.schemas import Principal, ProofView
from borderpass.kit.clock import hk_date
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import SigningError, VerifyKey, open_sealed, seal

__all__ = [
    "ADULT_AGE",
    "CONSENT_DAYS",
    "approve_consent",
    "consents_for_guardian",
    "expire_consents",
    "my_enrolments",
    "withdraw_consent",
    "age_on",
    "enrol_at_gate",
    "enrol_at_office",
    "enrol_in_app",
    "gate1_card",
    "gate1_qr",
    "gate2_face",
    "gates_public_key",
    "get_enrolment",
    "make_demo_card",
    "MINIMUM_AGE",
    "prove_with_card",
    "on_person_deleted",
    "purge_used_tokens",
    "read_card",
    "withdraw",
    "withdraw_as",
]

log = get_logger(__name__)

CONSENT_DAYS = guardians.CONSENT_DAYS
approve_consent = guardians.approve_consent
consents_for_guardian = guardians.consents_for_guardian
expire_consents = guardians.expire_consents
withdraw_consent = guardians.withdraw_consent

MINIMUM_AGE = 11
ADULT_AGE = 18
CLOCK_SKEW = timedelta(seconds=5)
PROOF_METHOD = "card_face"
GATE2_WITHIN = timedelta(minutes=2)
_TEMPLATE_CONTEXT = "echannel.template"


class TooYoung(Forbidden):
    code = "too_young"
    message = _("The e-Channel is for Hong Kong residents aged {minimum} or over; the card "
                "shows the holder is {age}.")


class GuardianConsentRequired(InvalidInput):
    code = "guardian_consent_required"
    message = _("A person aged 11 to 17 needs a parent's or guardian's consent: give the "
                "guardian's HKID number, their relationship and their consent.")


class AdultsOnlyAtGate(Forbidden):
    code = "adults_only_at_gate"
    message = _("Enrolment at a gate is for people aged 18 or over; a person aged 11 to 17 "
                "enrols in the app or at an enrolment office with a guardian.")


class ConsentRequired(InvalidInput):
    code = "consent_required"
    message = _("Enrolment for face verification needs the holder's consent.")


class FaceMismatch(InvalidInput):
    code = "face_mismatch"
    message = _("The live photo does not match the photo on the card.")


class CardNotYours(Forbidden):
    code = "card_not_yours"
    message = _("The card is not the signed-in resident's own identity card.")


class BadDeviceKey(InvalidInput):
    code = "bad_device_key"
    message = _("The device key must be a P-256 public key in PEM form.")


class DeviceAlreadyEnrolled(Conflict):
    code = "device_already_enrolled"
    message = _("This device key is already registered for another enrolment.")


class EnrolmentNotFound(NotFound):
    code = "enrolment_not_found"
    message = _("There is no such e-Channel enrolment.")


class NotEnrolled(Forbidden):
    code = "not_enrolled"
    message = _("This card holder is not enrolled for the e-Channel; see an officer.")


class PassageNotFound(NotFound):
    code = "passage_not_found"
    message = _("There is no traveller waiting at gate 2 with this passage.")


# --- helpers ------------------------------------------------------------------------


_doc_index = records.doc_index
_close = records.close


def _seal_template(descriptor: np.ndarray[Any, Any]) -> bytes:
    return seal(face.to_bytes(descriptor), context=_TEMPLATE_CONTEXT)


def _open_template(sealed: bytes) -> np.ndarray[Any, Any]:
    return face.from_bytes(open_sealed(sealed, context=_TEMPLATE_CONTEXT))


def age_on(born_on: date, day: date) -> int:
    """Return a person's age in whole years on ``day``."""
    return day.year - born_on.year - ((day.month, day.day) < (born_on.month, born_on.day))


def read_card(card: bytes) -> VerifiedCard:
    """Verify a card against the trusted issuing-authority keys and return what it holds."""
    return verify_card(card, keys.trusted_card_keys())


def make_demo_card(
    *, photo: bytes, number: str, name_en: str, name_zh: str, born_on: date, issued_on: date
) -> bytes:
    """Issue a demo card signed by the configured authority, its portrait cut from ``photo``."""
    authority = keys.card_authority()
    return make_card(number=number, name_en=name_en, name_zh=name_zh, born_on=born_on,
                     issued_on=issued_on, photo=face.crop_portrait(photo),
                     authority=authority.key)


def gates_public_key() -> str:
    """Return the gates' public key (PEM), which phones encrypt gate-1 tokens to."""
    return keys.gates().public_pem.decode("ascii")


def get_enrolment(session: Session, enrolment_id: uuid.UUID) -> Enrolment:
    """Return an enrolment by id."""
    enrolment = repository.get_enrolment(session, enrolment_id)
    if enrolment is None:
        raise EnrolmentNotFound(field="enrolment_id")
    return enrolment


class _GuardianCheck(NamedTuple):
    age: int
    # given in person (at an office): blind index, masked number, relationship
    record: tuple[str, str, str] | None = None
    # named in the app: the guardian's normalised number, who is to approve later
    to_approve: str | None = None


def _check_age(card: VerifiedCard, guardian: Guardian | GuardianNamed | None,
               now: datetime) -> _GuardianCheck:
    age = age_on(card.born_on, hk_date(now))
    if age < MINIMUM_AGE:
        raise TooYoung(minimum=MINIMUM_AGE, age=age, details={"age": age})
    if age >= ADULT_AGE:
        return _GuardianCheck(age)
    if guardian is None:
        raise GuardianConsentRequired(field="guardian")
    if isinstance(guardian, Guardian) and not guardian.consent:
        raise GuardianConsentRequired(field="guardian.consent")
    try:
        number = normalise(DocumentKind.HKID, guardian.document_number)
    except InvalidDocumentNumber as error:
        error.field = "guardian.document_number"
        raise
    if number == card.number:
        raise InvalidInput(_("The guardian cannot be the person being enrolled."),
                           field="guardian.document_number")
    if isinstance(guardian, GuardianNamed):
        return _GuardianCheck(age, to_approve=number)
    return _GuardianCheck(
        age, (_doc_index(number), mask(DocumentKind.HKID, number), guardian.relationship))


def _enrol(
    session: Session,
    card: VerifiedCard,
    live_photo: bytes,
    *,
    channel: str,
    by_kind: str,
    by: str,
    person_id: uuid.UUID | None,
    guardian: Guardian | GuardianNamed | None,
    device_key: bytes | None,
    now: datetime,
) -> Enrolment:
    age, guardian_record, to_approve = _check_age(card, guardian, now)
    index = _doc_index(card.number)
    device_kid = None
    if device_key is not None:
        device_kid = VerifyKey.from_pem(device_key).kid.hex()
        holder = repository.enrolment_by_device(session, device_kid)
        # The same person asking again from the same phone replaces their own record.
        if holder is not None and holder.doc_index != index:
            raise DeviceAlreadyEnrolled(field="device_public_key")
    live = face.encode(live_photo, field="live_photo")
    printed = face.encode(card.photo, field="card")
    if face.distance(live, printed) > face.THRESHOLD:
        raise FaceMismatch(field="live_photo")
    for waiting in repository.pending_enrolments_for(session, index):
        _close(waiting, "replaced", by, now)  # asking again cancels the earlier request
        earlier = repository.consent_of_enrolment(session, waiting.id)
        if earlier is not None and earlier.status == "pending":
            earlier.status = "cancelled"
    previous = repository.active_enrolment_for(session, index)
    if previous is not None and (to_approve is None or previous.device_kid == device_kid):
        # Enrolling again (a new phone, say) replaces the old record; a minor's old record
        # stays until the guardian approves the new one, unless it holds this device.
        _close(previous, "replaced", by, now)
    session.flush()  # the closed records free their device key before the new one takes it
    if person_id is None:
        # Only the proven holder of the card's number is linked: a claimed account is not
        # known to be the card holder's.
        person = identity.find_holder(session, DocumentKind.HKID.value, card.number)
        person_id = person.id if person is not None else None
    enrolment = Enrolment(
        person_id=person_id,
        doc_index=index,
        doc_masked=mask(DocumentKind.HKID, card.number),
        channel=channel,
        enrolled_by_kind=by_kind,
        enrolled_by=by,
        device_kid=device_kid,
        device_key=device_key.decode("ascii") if device_key is not None else None,
        template_sealed=_seal_template(live),
        age_at_enrolment=age,
        guardian_index=guardian_record[0] if guardian_record else None,
        guardian_masked=guardian_record[1] if guardian_record else None,
        guardian_relationship=guardian_record[2] if guardian_record else None,
        guardian_consented_at=now if guardian_record else None,
        status="pending_guardian" if to_approve is not None else "active",
        created_at=now,
    )
    repository.add(session, enrolment)
    if to_approve is not None:
        guardians.request_consent(session, enrolment, card, to_approve, age=age, now=now)
    log.info("echannel.enrolled", enrolment=str(enrolment.id), channel=channel, by_kind=by_kind,
             minor=age < ADULT_AGE, status=enrolment.status)
    return enrolment


# --- the three enrolment paths -------------------------------------------------------


def enrol_in_app(
    session: Session,
    *,
    person_id: uuid.UUID,
    card: bytes,
    live_photo: bytes,
    device_public_key: str,
    guardian: GuardianNamed | None = None,
    now: datetime,
) -> Enrolment:
    """Enrol the signed-in resident from the app: their card, a live photo and the device key.

    A person aged 11 to 17 names a guardian; the enrolment stays ``pending_guardian`` until
    the guardian approves it in their own account (``guardians.approve_consent``).
    """
    verified = read_card(card)
    view = identity.person_view(identity.get_person(session, person_id))
    if view.document_kind != DocumentKind.HKID.value or view.document_number != verified.number:
        raise CardNotYours(field="card")
    try:
        device_key = VerifyKey.from_pem(
            device_public_key.encode("ascii", errors="strict")).to_pem()
    except (SigningError, UnicodeEncodeError):
        raise BadDeviceKey(field="device_public_key") from None
    return _enrol(session, verified, live_photo, channel="app", by_kind="resident",
                  by=str(person_id), person_id=person_id, guardian=guardian,
                  device_key=device_key, now=now)


def enrol_at_gate(
    session: Session, *, gate: str, card: bytes, live_photo: bytes, consent: bool, now: datetime
) -> Enrolment:
    """Enrol a card holder aged 18 or over at a gate, on their consent, with the gate's photo."""
    verified = read_card(card)
    if age_on(verified.born_on, hk_date(now)) < ADULT_AGE:
        raise AdultsOnlyAtGate(field="card")
    if not consent:
        raise ConsentRequired(field="consent")
    return _enrol(session, verified, live_photo, channel="gate", by_kind="gate", by=gate,
                  person_id=None, guardian=None, device_key=None, now=now)


def enrol_at_office(
    session: Session,
    *,
    officer: uuid.UUID,
    card: bytes,
    live_photo: bytes,
    guardian: Guardian | None = None,
    now: datetime,
) -> Enrolment:
    """Enrol a card holder at an enrolment office; the officer is recorded."""
    verified = read_card(card)
    return _enrol(session, verified, live_photo, channel="office", by_kind="officer",
                  by=str(officer), person_id=None, guardian=guardian, device_key=None, now=now)


def prove_with_card(
    session: Session, *, person_id: uuid.UUID, card: bytes, live_photo: bytes, now: datetime
) -> ProofView:
    """Prove that the signed-in resident holds their document: the card's chip passes
    passive authentication, its number is the account's, and the live face matches the
    chip's photo. The account becomes the document's proven holder (others that claimed
    it are suspended); the card's names and date of issue replace what was typed.

    Photos are held in memory only; a failure counts against the day's attempts.

    Raises:
        CardRefused: the chip fails passive authentication.
        CardNotYours: the chip's number is not the account's.
        FaceMismatch, NoFace, BadPhoto: the live photo does not match the chip's.
    """
    person = identity.check_can_prove(session, person_id, PROOF_METHOD, now=now)
    try:
        verified = read_card(card)
    except CardRefused as error:
        identity.record_failed_proof(session, person.id, PROOF_METHOD, "card_refused", now=now)
        error.keep = True
        raise
    view = identity.person_view(person)
    if view.document_kind != DocumentKind.HKID.value or view.document_number != verified.number:
        identity.record_failed_proof(session, person.id, PROOF_METHOD, "card_not_yours",
                                     now=now)
        raise CardNotYours(field="card", keep=True)
    printed = face.encode(verified.photo, field="card")
    try:
        live = face.encode(live_photo, field="live_photo")
    except (face.NoFace, face.BadPhoto) as error:
        identity.record_failed_proof(session, person.id, PROOF_METHOD, error.code, now=now)
        error.keep = True
        raise
    gap = face.distance(live, printed)
    if gap > face.THRESHOLD:
        identity.record_failed_proof(session, person.id, PROOF_METHOD, "face_mismatch", now=now)
        log.info("echannel.proof_face_mismatch", person=str(person.id), distance=round(gap, 4))
        raise FaceMismatch(field="live_photo", keep=True)
    log.info("echannel.proof_matched", person=str(person.id), distance=round(gap, 4))
    return identity.prove_holder(
        session, person.id, method=PROOF_METHOD, now=now,
        details=identity.Details(name_en=verified.name_en, name_zh=verified.name_zh,
                                 issued_on=verified.issued_on))


def withdraw(
    session: Session,
    enrolment_id: uuid.UUID,
    *,
    by: str,
    person_id: uuid.UUID | None = None,
    now: datetime,
) -> Enrolment:
    """Withdraw an enrolment: the face template and the device key are deleted.

    ``person_id`` is the resident asking (an officer passes None): a resident may only
    withdraw their own enrolment.
    """
    enrolment = get_enrolment(session, enrolment_id)
    if person_id is not None and enrolment.person_id != person_id:
        raise EnrolmentNotFound(field="enrolment_id")
    if enrolment.status != "active":
        raise Conflict(_("This enrolment is no longer active."), field="enrolment_id")
    _close(enrolment, "withdrawn", by, now)
    session.flush()
    log.info("echannel.withdrawn", enrolment=str(enrolment.id))
    return enrolment


def withdraw_as(
    session: Session, enrolment_id: uuid.UUID, caller: Principal, *, now: datetime
) -> Enrolment:
    """Withdraw an enrolment for a caller: the resident it belongs to, or an officer."""
    if caller.kind == "resident":
        return withdraw(session, enrolment_id, by=str(caller.id), person_id=caller.id, now=now)
    identity.require_role(caller, "border_officer", "supervisor")
    return withdraw(session, enrolment_id, by=str(caller.id), now=now)


def on_person_deleted(session: Session, event: PersonDeleted) -> None:
    """Delete a deleted person's e-Channel enrolments; unlink the consents they gave."""
    repository.delete_enrolments_of_person(session, event.person_id)
    guardians.on_guardian_deleted(session, event.person_id)


def my_enrolments(session: Session, person_id: uuid.UUID) -> list[MyEnrolment]:
    """List a resident's own enrolments, newest first, each with its guardian's answer."""
    mine = []
    for enrolment in repository.enrolments_of_person(session, person_id):
        consent = repository.consent_of_enrolment(session, enrolment.id)
        mine.append(MyEnrolment(
            enrolment=EnrolmentView.model_validate(enrolment, from_attributes=True),
            guardian_consent=guardians.consent_view(consent) if consent else None))
    return mine


# --- gate 1 --------------------------------------------------------------------------


def _accepted_slots(now: datetime) -> set[int]:
    current = qr.slot_of(now)
    return {current - 1, current, qr.slot_of(now + CLOCK_SKEW)}


def _pass_gate1(session: Session, enrolment: Enrolment, gate: str, method: str,
                now: datetime) -> Gate1Decision:
    passage = Passage(enrolment_id=enrolment.id, gate=gate, method=method, gate1_at=now)
    repository.add(session, passage)
    log.info("echannel.gate1", gate=gate, method=method, passage=str(passage.id))
    return Gate1Decision(open=True, passage_id=passage.id, method=method)


def gate1_qr(session: Session, *, gate: str, token: str, now: datetime) -> Gate1Decision:
    """Check the app's QR at gate 1: decrypt, verify the device signature, slot, replay."""
    signed = qr.open_token(token, keys.gates().key)
    enrolment = repository.enrolment_by_device(session, signed.kid.hex())
    if enrolment is None or enrolment.status != "active" or enrolment.device_key is None:
        raise qr.refused("unknown_device")
    claims = qr.verify_token(signed, enrolment.device_key.encode("ascii"))
    if claims.enrolment_id != enrolment.id:
        raise qr.refused("wrong_enrolment")
    if claims.slot not in _accepted_slots(now):
        raise qr.refused("expired" if claims.slot < qr.slot_of(now) else "not_yet_valid")
    if not repository.mark_token_used(session, enrolment.id, claims.nonce.hex(), claims.slot,
                                      now):
        raise qr.refused("replayed")
    return _pass_gate1(session, enrolment, gate, "qr", now)


def gate1_card(session: Session, *, gate: str, card: bytes, now: datetime) -> Gate1Decision:
    """Read the identity card at gate 1 instead of the QR (no phone)."""
    verified = read_card(card)
    enrolment = repository.active_enrolment_for(session, _doc_index(verified.number))
    if enrolment is None:
        raise NotEnrolled(field="card")
    return _pass_gate1(session, enrolment, gate, "card", now)


# --- gate 2 --------------------------------------------------------------------------


def gate2_face(
    session: Session, *, passage_id: uuid.UUID, live_photo: bytes, now: datetime
) -> Gate2Decision:
    """Compare the live photo 1:1 with the enrolled template: open, or send to an officer.

    The photo is only held in memory for the comparison; only the distance is recorded.
    """
    passage = repository.get_passage(session, passage_id)
    if passage is None or passage.gate2_at is not None or now - passage.gate1_at > GATE2_WITHIN:
        raise PassageNotFound(field="passage_id")
    enrolment = get_enrolment(session, passage.enrolment_id)
    passage.gate2_at = now
    decision: Gate2Decision
    if enrolment.template_sealed is None:
        decision = Gate2Decision(open=False, route="officer", distance=None,
                                 threshold=face.THRESHOLD, reason="not_enrolled")
    else:
        try:
            live = face.encode(live_photo, field="live_photo")
        except (face.NoFace, face.BadPhoto) as error:
            decision = Gate2Decision(open=False, route="officer", distance=None,
                                     threshold=face.THRESHOLD, reason=error.code)
        else:
            template = _open_template(enrolment.template_sealed)
            gap = round(face.distance(live, template), 4)
            matched = gap <= face.THRESHOLD
            decision = Gate2Decision(open=matched, route="open" if matched else "officer",
                                     distance=gap, threshold=face.THRESHOLD,
                                     reason=None if matched else "face_mismatch")
    passage.distance = decision.distance
    passage.outcome = decision.route
    session.flush()
    log.info("echannel.gate2", passage=str(passage.id), route=decision.route)
    return decision


def purge_used_tokens(session: Session, *, now: datetime) -> int:
    """Forget gate-1 nonces whose slots can no longer be accepted; return how many went."""
    # A token is accepted only within a slot or two of the moment it was made, so a
    # nonce used more than ten slots ago belongs to a token no gate will accept again.
    horizon = now - 10 * timedelta(seconds=qr.SLOT_SECONDS)
    count = repository.purge_used_tokens(session, horizon)
    log.info("echannel.tokens_purged", count=count)
    return count
