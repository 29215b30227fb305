"""What crosses the identity domain's boundary."""

from __future__ import annotations

import re
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from borderpass.identity.documents import DocumentKind
from borderpass.kit.types import Day, Instant

__all__ = [
    "ActivationRequest",
    "ActivationResult",
    "CaseCloseRequest",
    "CaseView",
    "HelpDeskProofRequest",
    "LetterConfirmRequest",
    "LetterRequest",
    "LetterView",
    "ProofView",
    "RegistryLoadReport",
    "RegistryProblem",
    "PersonView",
    "Principal",
    "RegistrationDetails",
    "RegistrationView",
    "SignInLockView",
    "SignInRequest",
    "TokenView",
    "UnlockRequest",
    "UnlockResult",
]

_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z .,'\-]*")


class RegistrationDetails(BaseModel):
    """The facts a resident gives when registering (the proof of address comes as a file)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name_zh: str = Field(min_length=1, max_length=60, description="Name in Chinese characters")
    name_en: str = Field(
        min_length=1, max_length=100, description="Name in English, as on the document"
    )
    document_kind: DocumentKind
    document_number: str = Field(min_length=1, max_length=64)
    document_issued_on: Day
    hrp_number: str | None = Field(default=None, max_length=64)
    will_cross: bool = False
    phone: str = Field(min_length=4, max_length=32)
    address: str = Field(min_length=5, max_length=300)
    password: str = Field(min_length=8, max_length=128)
    locale: Literal["zh_Hant", "zh_Hans", "en"] = "zh_Hant"
    pin_channel: Literal["sms", "letter"] = "sms"

    @field_validator("name_en")
    @classmethod
    def _latin(cls, value: str) -> str:
        if not _LATIN_NAME.fullmatch(value):
            raise ValueError("use Latin letters, spaces, hyphens, commas and apostrophes")
        return " ".join(value.split())

    @field_validator("hrp_number")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class RegistrationView(BaseModel):
    id: uuid.UUID
    state: str
    started_at: Instant
    expires_at: Instant


class ActivationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pin: str = Field(pattern=r"^\d{6}$", description="The 6-digit PIN that was sent")


class TokenView(BaseModel):
    token: str
    expires_at: Instant | None


class ActivationResult(BaseModel):
    person_id: uuid.UUID
    access: TokenView


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_kind: DocumentKind
    document_number: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class PersonView(BaseModel):
    """A person's own record, unsealed for them alone."""

    id: uuid.UUID
    status: str
    name_zh: str
    name_en: str
    initials: str
    document_kind: str
    document_number: str
    document_masked: str
    document_issued_on: Day
    hrp_number: str | None
    phone: str
    address: str
    locale: str
    activated_at: Instant | None
    assurance: Literal["claimed", "proven"] = Field(
        description="claimed: a typed number and an SMS PIN; proven: the card and a live "
                    "face, a help desk, or the issuing registry and a letter")
    proven_at: Instant | None = None
    proof_method: str | None = None


class Principal(BaseModel):
    """Who is calling: a resident, a staff member, an evidence source or an applicant for
    an endorsement (who holds a token for one application only), with a role."""

    kind: Literal["resident", "staff", "source", "applicant"]
    id: uuid.UUID
    role: str


class SignInLockView(BaseModel):
    """An account locked after too many failed sign-ins."""

    scope: Literal["resident", "staff"]
    account: str = Field(description="The masked document number, or the staff user name")
    failures: int
    locked_at: Instant


class UnlockRequest(BaseModel):
    """The account to unlock: a resident's document, a staff user name, or (to end its
    delay) a client address; exactly one of them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    document_kind: str | None = Field(default=None, max_length=16)
    document_number: str | None = Field(default=None, max_length=64)
    username: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=128)


class UnlockResult(BaseModel):
    """What lifting a lock did."""

    scope: Literal["resident", "staff", "address"]
    account: str = Field(description="The masked document number, user name or address")
    was_locked: bool
    failures_cleared: int
    at: Instant


# --- proving who holds a document --------------------------------------------------------


class ProofView(BaseModel):
    """An account's level of assurance after a proof."""

    person_id: uuid.UUID
    assurance: Literal["claimed", "proven"]
    proof_method: str | None
    proven_at: Instant | None
    suspended_claims: int = Field(
        0, description="Other accounts that claimed the document and are now suspended")


class LetterRequest(BaseModel):
    """Ask for a PIN letter: the date of birth must match the issuing registry's record
    (with the account's name and date of issue)."""

    model_config = ConfigDict(extra="forbid")

    born_on: Day


class LetterView(BaseModel):
    """A PIN letter on its way to the address the issuing registry holds."""

    id: uuid.UUID
    sent_at: Instant
    expires_at: Instant
    channel: Literal["letter"] = "letter"


class LetterConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pin: str = Field(pattern=r"^\d{6}$", description="The 6-digit PIN in the letter")


class HelpDeskProofRequest(BaseModel):
    """An officer proves an existing account: the person is at the desk with the card."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    document_kind: DocumentKind
    document_number: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=4, max_length=32,
                       description="The account's mobile phone number, as the person gives it")
    card_checked: bool = Field(description="The officer saw the original card and it matches")


class CaseView(BaseModel):
    """A claimed account suspended because another person proved they hold the document."""

    id: uuid.UUID
    document_kind: str
    document_masked: str
    method: str
    reason: str
    opened_at: Instant
    closed_at: Instant | None
    note: str | None
    suspended_person_id: uuid.UUID | None
    suspended_initials: str | None
    suspended_phone: str | None = Field(description="Masked")
    suspended_registered_at: Instant | None
    suspended_activated_at: Instant | None
    proven_person_id: uuid.UUID | None
    proven_initials: str | None


class CaseCloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=1, max_length=500, description="What the officer found")


class RegistryProblem(BaseModel):
    line: int
    field: str | None
    reason: str


class RegistryLoadReport(BaseModel):
    """What a batch of the issuing registry's records changed."""

    registry: str
    rows: int
    inserted: int
    updated: int
