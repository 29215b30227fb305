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
    "PersonView",
    "Principal",
    "RegistrationDetails",
    "RegistrationView",
    "SignInRequest",
    "TokenView",
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


class Principal(BaseModel):
    """Who is calling: a resident, a staff member, an evidence source or an applicant for
    an endorsement (who holds a token for one application only), with a role."""

    kind: Literal["resident", "staff", "source", "applicant"]
    id: uuid.UUID
    role: str
