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
    "EnrolmentView",
    "Gate1Decision",
    "Gate2Decision",
    "Gate2Request",
    "GateEnrolmentRequest",
    "Guardian",
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


class AppEnrolmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card: Base64Bytes = Field(description="The card's chip content, base64")
    live_photo: Base64Bytes = Field(description="A photo taken now by the phone, base64")
    device_public_key: str = Field(min_length=1, max_length=1000,
                                   description="The phone's P-256 public key, PEM")
    guardian: Guardian | None = None


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
