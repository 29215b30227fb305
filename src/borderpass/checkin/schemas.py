"""What crosses the check-in domain's boundary."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from borderpass.kit.types import Instant

__all__ = [
    "USUAL_STAY_MINUTES",
    "VENUE_TYPES",
    "CaseIn",
    "CaseView",
    "ExposureFact",
    "OrderFact",
    "UploadBundle",
    "UploadFacts",
    "UploadReceipt",
    "UploadRecord",
    "VenueIn",
    "VenueView",
]

VENUE_TYPES = (
    "restaurant", "bar", "shop", "mall", "market", "supermarket", "office", "school",
    "hospital", "clinic", "hotel", "gym", "cinema", "place_of_worship", "government",
    "transport", "other",
)
VenueType = Literal[
    "restaurant", "bar", "shop", "mall", "market", "supermarket", "office", "school",
    "hospital", "clinic", "hotel", "gym", "cinema", "place_of_worship", "government",
    "transport", "other",
]
PlaceKind = Literal["venue", "legacy", "taxi"]
# How long a visit usually lasts, by venue type: the check-in app leaves by itself then
# unless the person leaves by hand first. A type not named here gets ``other``'s.
USUAL_STAY_MINUTES = {
    "restaurant": 120, "bar": 180, "shop": 60, "mall": 180, "market": 60,
    "supermarket": 60, "office": 540, "school": 480, "hospital": 240, "clinic": 120,
    "hotel": 720, "gym": 120, "cinema": 180, "place_of_worship": 120, "government": 120,
    "transport": 60, "taxi": 60, "other": 240,
}


class VenueIn(BaseModel):
    """A venue an operator registers: names in Chinese and English, type and address."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name_zh: str = Field(min_length=1, max_length=120, description="Name in Traditional Chinese")
    name_zh_hans: str | None = Field(
        default=None, min_length=1, max_length=120,
        description="Name in Simplified Chinese (converted from the Traditional name when "
                    "not given)",
    )
    name_en: str = Field(min_length=1, max_length=160)
    type: VenueType
    address: str = Field(min_length=5, max_length=400)


class VenueView(BaseModel):
    code: str
    name_zh: str
    name_zh_hans: str
    name_en: str
    type: str
    address: str
    status: str
    created_at: Instant
    approved_at: Instant | None


class CaseIn(BaseModel):
    """Where and when a case was: a venue (ours or a legacy id) or a taxi's plate."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    venue_id: str | None = Field(default=None, min_length=8, max_length=10)
    plate: str | None = Field(default=None, min_length=2, max_length=12)
    starts_at: Instant
    ends_at: Instant

    @model_validator(mode="after")
    def _one_place(self) -> CaseIn:
        if (self.venue_id is None) == (self.plate is None):
            raise ValueError("give either venue_id or plate")
        return self


class CaseView(BaseModel):
    id: uuid.UUID
    place_kind: str
    place_id: str
    starts_at: Instant
    ends_at: Instant
    place_name: str | None = Field(default=None, description="A registered venue's name")


class UploadRecord(BaseModel):
    """One check-in as the phone uploads it: the place, never its secret."""

    model_config = ConfigDict(extra="forbid")

    kind: PlaceKind
    place_id: str = Field(min_length=2, max_length=16, pattern=r"^[A-Za-z0-9]+$")
    start: Instant
    end: Instant


class UploadBundle(BaseModel):
    """The signed bundle a phone uploads (format BPU1); the signature covers the rest."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["BPU1"]
    device_key: str = Field(min_length=43, max_length=44)
    created_at: Instant
    in_use_since: Instant
    records: list[UploadRecord] = Field(max_length=5000)
    signature: str = Field(min_length=86, max_length=88)


class UploadReceipt(BaseModel):
    records: int
    covered_days: int
    covers_last_14_days: bool


class ExposureFact(BaseModel):
    """An uploaded visit that overlaps a published case (direct) or follows one in a taxi."""

    kind: Literal["direct", "indirect"]
    place_kind: str
    place_id: str
    visit_from: Instant
    visit_to: Instant
    case_from: Instant
    case_to: Instant


class OrderFact(BaseModel):
    """An uploaded visit that puts the person under a compulsory testing order."""

    order_id: uuid.UUID
    reference: str
    place_id: str
    visit_from: Instant
    visit_to: Instant
    period_from: Instant
    period_to: Instant
    test_by: Instant


class UploadFacts(BaseModel):
    """What a person's uploaded check-ins tell the Health Code rules, at ``as_of``.

    ``covered_days``: whole days the app was in use before the latest upload (at most
    31; 0 with no upload). ``covers_last_14_days``: at least 14 such days, and the
    upload is no more than a day old.
    """

    person_id: uuid.UUID
    as_of: Instant
    uploaded_at: Instant | None
    in_use_since: Instant | None
    covered_days: int
    covers_last_14_days: bool
    exposures: list[ExposureFact]
    orders: list[OrderFact]
