"""What crosses the e-Channel's boundary."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from borderpass.kit.types import Instant

__all__ = [
    "RELATIONSHIPS",
    "AppEnrolmentRequest",
    "CardGateRequest",
    "CardProofRequest",
    "ConsentApproval",
    "ConsentView",
    "EnrolmentView",
    "Gate1Decision",
    "Gate2Decision",
    "Gate2Request",
    "GateEnrolmentRequest",
    "Guardian",
    "GuardianNamed",
    "MyEnrolment",
    "OfficeEnrolmentRequest",
    "QrGateRequest",
]

RELATIONSHIPS = ("father", "mother", "legal_guardian")


def _from_base64(value: object) -> object:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64") from None
    return value


Base64Bytes = Annotated[bytes, BeforeValidator(_from_base64)]


class Guardian(BaseModel):
    """A parent or guardian authorising the enrolment of a person aged 11 to 17."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    document_number: str = Field(min_length=1, max_length=64,
                                 description="The guardian's HKID number")
    relationship: Literal["father", "mother", "legal_guardian"]
    consent: bool = Field(description="The guardian consents to the enrolment")


class GuardianNamed(BaseModel):
    """The guardian a person aged 11 to 17 names in the app; they approve in their account."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    document_number: str = Field(min_length=1, max_length=64,
                                 description="The guardian's HKID number")


class AppEnrolmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card: Base64Bytes = Field(description="The card's chip content, base64")
    live_photo: Base64Bytes = Field(description="A photo taken now by the phone, base64")
    device_public_key: str = Field(min_length=1, max_length=1000,
                                   description="The phone's P-256 public key, PEM")
    guardian: GuardianNamed | None = Field(
        default=None, description="Aged 11 to 17: the guardian who is to approve")


class CardProofRequest(BaseModel):
    """Prove the signed-in resident's identity with their smart identity card and face."""

    model_config = ConfigDict(extra="forbid")

    card: Base64Bytes = Field(description="The card's chip content, base64")
    live_photo: Base64Bytes = Field(description="A photo of the holder taken now, base64")


class GateEnrolmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gate: str = Field(min_length=1, max_length=32)
    card: Base64Bytes
    live_photo: Base64Bytes
    consent: bool


class OfficeEnrolmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card: Base64Bytes
    live_photo: Base64Bytes
    guardian: Guardian | None = None


class QrGateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gate: str = Field(min_length=1, max_length=32)
    token: str = Field(min_length=1, max_length=2048)


class CardGateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gate: str = Field(min_length=1, max_length=32)
    card: Base64Bytes


class Gate2Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passage_id: uuid.UUID
    live_photo: Base64Bytes


class EnrolmentView(BaseModel):
    """An enrolment as its holder or an officer sees it: no template, no full number."""

    id: uuid.UUID
    doc_masked: str
    channel: str
    enrolled_by_kind: str
    enrolled_by: str
    age_at_enrolment: int
    guardian_masked: str | None
    guardian_relationship: str | None
    status: str
    created_at: Instant
    withdrawn_at: Instant | None
    device_kid: str | None = Field(default=None,
                                   description="The key id of the registered device key (hex)")


class Gate1Decision(BaseModel):
    open: bool
    passage_id: uuid.UUID
    method: Literal["qr", "card"]


class Gate2Decision(BaseModel):
    open: bool
    route: Literal["open", "officer"]
    distance: float | None
    threshold: float
    reason: str | None = None


class ConsentApproval(BaseModel):
    """A guardian's approval of a child's enrolment."""

    model_config = ConfigDict(extra="forbid")

    relationship: Literal["father", "mother", "legal_guardian"] = Field(
        description="The guardian's relationship to the child")
    consent: Literal[True] = Field(description="The guardian consents to the enrolment")


class ConsentView(BaseModel):
    """A request for a guardian's consent, as the guardian and the child see it."""

    id: uuid.UUID
    enrolment_id: uuid.UUID
    child_name_en: str
    child_name_zh: str
    child_masked: str
    child_age: int
    guardian_masked: str
    status: Literal["pending", "approved", "declined", "withdrawn", "expired", "cancelled"]
    requested_at: Instant
    expires_at: Instant
    relationship: str | None
    decided_at: Instant | None
    withdrawn_at: Instant | None


class MyEnrolment(BaseModel):
    """A resident's own enrolment, with the guardian's answer for a minor."""

    enrolment: EnrolmentView
    guardian_consent: ConsentView | None = None
