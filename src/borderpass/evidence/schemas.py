"""What crosses the evidence domain's boundary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from borderpass.identity.documents import DocumentKind
from borderpass.kit.types import Day, Instant

__all__ = [
    "CheckinExposure",
    "CheckinOrderVisit",
    "FlagIn",
    "HighRiskAreaIn",
    "IngestReport",
    "PremisesIn",
    "RowProblem",
    "TestingOrderIn",
    "VenueChoice",
    "VenueOrderView",
]

FlagKind = Literal["confirmed", "suspected", "close_contact", "quarantine"]


class RowProblem(BaseModel):
    """Why one row of a batch was rejected; ``line`` counts from 1 as an editor does."""

    line: int
    field: str | None
    reason: str


class IngestReport(BaseModel):
    batch_id: uuid.UUID | None
    kind: str
    rows: int
    inserted: int
    duplicates: int
    rejected: list[RowProblem]
    people: list[uuid.UUID] = Field(default_factory=list, description="Registered people touched")


class FlagIn(BaseModel):
    """A case, close contact or compulsory quarantine recorded by a health officer."""

    model_config = ConfigDict(extra="forbid")

    document_kind: DocumentKind
    document_number: str = Field(min_length=1, max_length=64)
    kind: FlagKind
    starts_at: Instant
    ends_at: Instant | None = None


class PremisesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(min_length=3, max_length=400)
    venue_id: str | None = Field(default=None, max_length=64)


class VenueChoice(BaseModel):
    """A venue a testing order can name: its id and what an officer recognises it by."""

    venue_id: str
    name_en: str
    name_zh: str
    address: str


class TestingOrderIn(BaseModel):
    """A compulsory testing order for premises and a period."""

    __test__ = False  # not a pytest test class, whatever its name
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=64)
    period_from: Instant
    period_to: Instant
    test_by: Instant
    premises: list[PremisesIn] = Field(min_length=1, max_length=1000)


class HighRiskAreaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_code: str = Field(
        min_length=2, max_length=16, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,6}){0,3}$"
    )
    name_en: str = Field(min_length=1, max_length=128)
    name_zh: str = Field(min_length=1, max_length=128)
    starts_at: Instant
    ends_at: Instant | None = None


class FlagView(BaseModel):
    id: uuid.UUID
    kind: str
    starts_at: Instant
    ends_at: Instant | None


class TestResultView(BaseModel):
    __test__ = False  # not a pytest test class, whatever its name

    specimen_id: str
    collected_at: Instant
    reported_at: Instant
    method: str
    result: str
    lab: str


class VaccinationView(BaseModel):
    dose_number: int
    product: str
    vaccinated_on: Day
    provider: str


class UploadedFactView(BaseModel):
    """What the person's own uploaded check-ins told: a visit where a case was
    (``exposure``), or to a venue a compulsory testing order names (``order``)."""

    kind: Literal["exposure", "order"]
    place_id: str
    visit_from: Instant
    visit_to: Instant


class EvidenceView(BaseModel):
    """What is on file about one person, as they may see it.

    A claimed account (identity not proven) sees only what it uploaded itself: the
    results, vaccinations and records of laboratories, registries and officers are
    ``withheld`` until the person proves they hold the document.
    """

    tests: list[TestResultView]
    vaccinations: list[VaccinationView]
    flags: list[FlagView]
    uploads: list[UploadedFactView] = Field(default_factory=list)
    assurance: Literal["claimed", "proven"] = "proven"
    withheld: bool = Field(
        False, description="True while the identity is not proven: evidence from "
                           "laboratories, registries and officers is not shown")


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the rules need to know about one person, summarised from the evidence.

    Every instant is aware. ``flag_until`` is None for a flag without an end.
    ``last_dose_at`` is the start (Hong Kong time) of the day of the latest dose. The
    exposure facts come from uploaded venue check-in records: the latest visit to a
    venue while a case was there.
    """

    last_negative_at: Instant | None = None
    last_positive_at: Instant | None = None
    flag_since: Instant | None = None
    flag_until: Instant | None = None
    flag_kinds: tuple[str, ...] = ()
    order_issued_at: Instant | None = None
    order_reference: str | None = None
    high_risk_visit_at: Instant | None = None
    high_risk_region: str | None = None
    exposure_at: Instant | None = None
    exposure_venue: str | None = None
    last_negative_pcr_at: Instant | None = None
    last_negative_rat_at: Instant | None = None
    doses: int = 0
    last_dose_at: Instant | None = None


@dataclass(frozen=True, slots=True)
class CheckinExposure:
    """An uploaded visit to a place while a case was there (or a taxi ride just after one)."""

    place_id: str
    visit_from: Instant
    visit_to: Instant


@dataclass(frozen=True, slots=True)
class CheckinOrderVisit:
    """An uploaded visit to a venue named by a compulsory testing order, in its period."""

    order_id: uuid.UUID
    place_id: str
    visit_from: Instant
    visit_to: Instant


class TravelRecordIn(BaseModel):
    """Where a person was and when: a crossing, or a partner's travel record."""

    model_config = ConfigDict(extra="forbid")

    document_kind: DocumentKind
    document_number: str = Field(min_length=1, max_length=64)
    region_code: str = Field(min_length=2, max_length=16,
                             pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,6}){0,3}$")
    at: Instant
    source: str = Field(default="officer", min_length=1, max_length=64)


class VenueOrderView(BaseModel):
    """A compulsory testing order that names a registered venue among its premises."""

    order_id: uuid.UUID
    reference: str
    venue_id: str
    period_from: Instant
    period_to: Instant
    test_by: Instant


class HighRiskAreaView(BaseModel):
    region_code: str
    name_en: str
    name_zh: str
    starts_at: Instant
    ends_at: Instant | None


class TestingOrderView(BaseModel):
    __test__ = False  # not a pytest test class, whatever its name

    reference: str
    period_from: Instant
    period_to: Instant
    test_by: Instant
    premises: list[str]
