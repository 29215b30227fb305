"""JSON endpoints of the identity domain: registration, activation, sign-in, the account."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel

from borderpass.identity import documents, service
from borderpass.identity.caller import Caller, require
from borderpass.identity.phones import InvalidPhone, normalise_phone
from borderpass.identity.schemas import (
    ActivationRequest,
    ActivationResult,
    CaseCloseRequest,
    CaseView,
    HelpDeskProofRequest,
    LetterConfirmRequest,
    LetterRequest,
    LetterView,
    PersonView,
    Principal,
    ProofView,
    RegistrationView,
    RegistryLoadReport,
    SignInLockView,
    SignInRequest,
    TokenView,
    UnlockRequest,
    UnlockResult,
)
from borderpass.kit.clock import hk_date
from borderpass.kit.config import get_settings
from borderpass.kit.errors import InvalidInput
from borderpass.kit.http import ClientAddress, DbSession, Now, bearer_token, request_locale
from borderpass.kit.i18n import _, translate

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["identity"])


def _view(registration: object) -> RegistrationView:
    return RegistrationView.model_validate(registration, from_attributes=True)


@router.post("/registrations", status_code=201)
def start_registration(session: DbSession, now: Now) -> RegistrationView:
    """Begin a registration; finish it before ``expires_at``."""
    return _view(service.start_registration(session, now=now))


@router.post("/registrations/{registration_id}/details")
def submit_details(
    registration_id: uuid.UUID,
    session: DbSession,
    now: Now,
    name_zh: Annotated[str, Form()],
    name_en: Annotated[str, Form()],
    document_kind: Annotated[str, Form()],
    document_number: Annotated[str, Form()],
    document_issued_on: Annotated[str, Form()],
    phone: Annotated[str, Form()],
    address: Annotated[str, Form()],
    password: Annotated[str, Form()],
    proof: Annotated[UploadFile, File(description="Proof of address: PDF, JPEG or PNG, ≤ 5 MB")],
    hrp_number: Annotated[str | None, Form()] = None,
    will_cross: Annotated[bool, Form()] = False,
    locale: Annotated[str, Form()] = "zh_Hant",
    pin_channel: Annotated[str, Form()] = "sms",
) -> RegistrationView:
    """Give the resident's details and proof of address; a PIN is sent to activate."""
    details = service.parse_details({
        "name_zh": name_zh, "name_en": name_en, "document_kind": document_kind,
        "document_number": document_number, "document_issued_on": document_issued_on,
        "hrp_number": hrp_number, "will_cross": will_cross, "phone": phone, "address": address,
        "password": password, "locale": locale, "pin_channel": pin_channel,
    })
    content = proof.file.read(get_settings().proof_max_bytes + 1)
    return _view(service.submit_registration(session, registration_id, details, content, now=now))


@router.post("/registrations/{registration_id}/pin")
def resend_pin(registration_id: uuid.UUID, session: DbSession, now: Now) -> RegistrationView:
    """Send a new activation PIN."""
    return _view(service.resend_pin(session, registration_id, now=now))


@router.post("/registrations/{registration_id}/activate")
def activate(
    registration_id: uuid.UUID, body: ActivationRequest, session: DbSession, now: Now
) -> ActivationResult:
    """Activate the account with the PIN; returns an access token."""
    person, token, expires = service.activate(session, registration_id, body.pin, now=now)
    return ActivationResult(person_id=person.id, access=TokenView(token=token, expires_at=expires))


_THROTTLED: dict[int | str, dict[str, Any]] = {
    423: {"description": "The account is locked after too many failed sign-ins; an officer "
          "unlocks it"},
    429: {"description": "Too many failed sign-ins lately: try again after Retry-After "
          "seconds"},
}


@router.post("/sessions", responses=_THROTTLED)
def sign_in(body: SignInRequest, session: DbSession, now: Now,
            address: ClientAddress) -> TokenView:
    """Sign a resident in with document number and password."""
    _person, token, expires = service.sign_in(
        session, body.document_kind, body.document_number, body.password, now=now,
        address=address,
    )
    return TokenView(token=token, expires_at=expires)


class StaffSignIn(BaseModel):
    username: str
    password: str


@router.post("/staff/sessions", responses=_THROTTLED)
def staff_sign_in(body: StaffSignIn, session: DbSession, now: Now,
                  address: ClientAddress) -> TokenView:
    """Sign a staff member in."""
    _member, token, expires = service.sign_in_staff(session, body.username, body.password,
                                                    now=now, address=address)
    return TokenView(token=token, expires_at=expires)


Unlocker = Annotated[Principal, require("help_desk", "supervisor", "admin")]


@router.get("/sign-in-locks")
def sign_in_locks(session: DbSession, caller: Unlocker) -> list[SignInLockView]:
    """List the accounts locked after too many failed sign-ins that the caller may unlock."""
    return service.sign_in_locks(session, officer=caller)


@router.post("/sign-in-locks/unlock")
def unlock(body: UnlockRequest, session: DbSession, now: Now, caller: Unlocker) -> UnlockResult:
    """Unlock an account (a help desk: residents, after checking their identity document;
    a supervisor: staff too) or end a client address's delay; its failures are forgotten."""
    return service.unlock(session, kind=body.document_kind, number=body.document_number,
                          username=body.username, address=body.address, officer=caller,
                          now=now)


@router.delete("/sessions", status_code=204)
def sign_out(
    session: DbSession, now: Now, token: Annotated[str, Depends(bearer_token)], _caller: Caller
) -> None:
    """Sign out: the token stops working."""
    service.sign_out(session, token, now=now)


ResidentOnly = Annotated[Principal, require("resident")]


@router.get("/me")
def me(session: DbSession, caller: ResidentOnly) -> PersonView:
    """Return the signed-in resident's own record."""
    return service.person_view(service.get_person(session, caller.id))


@router.delete("/me", status_code=204)
def delete_me(session: DbSession, now: Now, caller: ResidentOnly) -> None:
    """Delete the signed-in resident's account."""
    service.delete_account(session, caller.id, now=now)


class NumberCheck(BaseModel):
    """Whether a number as typed is valid, its normal form, and a message for the form."""

    valid: bool
    normalised: str | None = None
    reason: str | None = None
    message: str


@router.get("/documents/check")
def check_document(request: Request, kind: str, number: str, now: Now) -> NumberCheck:
    """Check a document number as it is typed (the registration form asks as you type)."""
    locale = request_locale(request)
    try:
        normalised = documents.normalise(kind, number[:64], today=hk_date(now))
    except documents.InvalidDocumentNumber as error:
        return NumberCheck(valid=False, reason=error.reason, message=error.render(locale))
    return NumberCheck(valid=True, normalised=normalised,
                       message=translate(_("Valid: {number}"), locale, number=normalised))


@router.get("/phones/check")
def check_phone(request: Request, number: str) -> NumberCheck:
    """Check a mobile phone number as it is typed."""
    locale = request_locale(request)
    try:
        normalised = normalise_phone(number[:32])
    except InvalidPhone as error:
        return NumberCheck(valid=False, reason=error.code, message=error.render(locale))
    return NumberCheck(valid=True, normalised=normalised,
                       message=translate(_("Valid: {number}"), locale, number=normalised))


# --- proving who holds a document -------------------------------------------------------

HelpDesk = Annotated[Principal, require("help_desk", "supervisor")]
Registry = Annotated[Principal, require(service.REGISTRY_ROLE)]


@router.post("/me/proof/letter", status_code=202)
def request_proof_letter(body: LetterRequest, session: DbSession, now: Now,
                         caller: ResidentOnly) -> LetterView:
    """Match the account with the issuing registry and send a PIN letter to the address
    the registry holds (for documents without a chip)."""
    return service.request_letter(session, caller.id, born_on=body.born_on, now=now)


@router.post("/me/proof/letter/confirm")
def confirm_proof_letter(body: LetterConfirmRequest, session: DbSession, now: Now,
                         caller: ResidentOnly) -> ProofView:
    """Prove the account with the PIN of the registry's letter."""
    return service.confirm_letter(session, caller.id, body.pin, now=now)


@router.post("/identity/help-desk/proofs")
def prove_at_help_desk(body: HelpDeskProofRequest, session: DbSession, now: Now,
                       caller: HelpDesk) -> ProofView:
    """Prove an existing account at a help desk, where the officer saw the original card."""
    return service.prove_at_help_desk(
        session, kind=body.document_kind.value, number=body.document_number, phone=body.phone,
        card_checked=body.card_checked, officer=caller.id, now=now)


@router.get("/identity/cases")
def identity_cases(session: DbSession, caller: HelpDesk,
                   state: Literal["open", "all"] = "open") -> list[CaseView]:
    """List the claimed accounts suspended because another person proved they hold the
    document, the latest first."""
    return service.list_cases(session, open_only=state == "open")


@router.post("/identity/cases/{case_id}/close")
def close_identity_case(case_id: uuid.UUID, body: CaseCloseRequest, session: DbSession,
                        now: Now, caller: HelpDesk) -> CaseView:
    """Close a case with what the officer found."""
    return service.close_case(session, case_id, officer=caller.id, note=body.note, now=now)


async def _records(request: Request) -> tuple[bytes, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("text/csv", "application/csv"):
        media = "csv"
    elif content_type == "application/json":
        media = "json"
    else:
        raise InvalidInput(_("Send the records as text/csv or application/json."),
                           field="content-type")
    return await request.body(), media


# The batch, read on the event loop before the endpoint runs on a worker thread.
Records = Annotated[tuple[bytes, str], Depends(_records)]


@router.post("/identity/registry-records", openapi_extra={"requestBody": {
    "required": True,
    "content": {"text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}}}}})
def load_registry_records(records: Records, session: DbSession, now: Now,
                          caller: Registry) -> RegistryLoadReport:
    """Load an issuing registry's records of its documents (CSV or JSON), atomically."""
    content, media = records
    return service.load_registry_records(session, caller.id, content, media, now=now)
