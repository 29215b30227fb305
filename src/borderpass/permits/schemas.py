"""What crosses the permits domain's boundary."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from borderpass.identity.schemas import TokenView
from borderpass.kit.types import Day, Instant

__all__ = [
    "ApplicationCreated",
    "ApplicationIn",
    "ApplicationView",
    "AppointmentView",
    "BookingIn",
    "CheckView",
    "DecisionIn",
    "DecisionView",
    "EndorsementView",
    "EvidenceMarkIn",
    "OfficeIn",
    "OfficeView",
    "SlotView",
    "SlotsIn",
    "StepView",
]

Kind = Literal["emergency", "business", "regular"]
Destination = Literal["HK", "MO"]
CheckState = Literal["pending", "seen", "missing", "not_acceptable"]
Outcome = Literal["approve", "refuse", "escalate"]


class ApplicationIn(BaseModel):
    """An application for an endorsement, as the applicant gives it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    mainland_id: str = Field(min_length=1, max_length=64,
                             description="Mainland resident identity card number (18 characters)")
    name: str = Field(min_length=1, max_length=60, description="Name as on the identity card")
    phone: str = Field(min_length=4, max_length=32, description="Mobile number for reminders")
    permit_number: str = Field(min_length=1, max_length=32,
                               description="Exit-entry permit for travelling to Hong Kong and "
                               "Macau, e.g. C12345678")
    kind: Kind
    destination: Destination = "HK"
    reason: str | None = Field(default=None, max_length=32,
                               description="For an emergency: one of the policy's reasons")
    relationship: str | None = Field(default=None, max_length=32,
                                     description="For a visit or a funeral: the applicant's "
                                     "relationship to the patient or the deceased")
    relationship_detail: str | None = Field(default=None, max_length=200)
    employer: str | None = Field(default=None, max_length=200,
                                 description="For business: the applicant's employer")
    inviter: str | None = Field(default=None, max_length=200,
                                description="For business: who invites the applicant")
    locale: Literal["zh_Hant", "zh_Hans", "en"] = "zh_Hans"


class CheckView(BaseModel):
    item: str
    name: str
    state: CheckState
    reason: str | None
    marked_by: uuid.UUID | None
    marked_at: Instant | None


class AppointmentView(BaseModel):
    id: uuid.UUID
    slot_id: uuid.UUID
    office: str
    starts_at: Instant
    ends_at: Instant
    status: str


class EndorsementView(BaseModel):
    number: str
    kind: str
    destination: str
    entries: int
    valid_from: Day
    valid_until: Day
    stay_days: int
    issued_at: Instant
    issued_by: uuid.UUID


class DecisionView(BaseModel):
    outcome: Literal["approved", "refused"]
    at: Instant
    by: uuid.UUID
    role: str
    reasons: list[str]
    note: str | None


class ApplicationView(BaseModel):
    id: uuid.UUID
    reference: str
    kind: str
    destination: str
    reason: str | None
    relationship: str | None
    relationship_class: Literal["direct", "other"] | None
    needs_supervisor: bool
    status: str
    applicant_masked: str
    permit_masked: str
    created_at: Instant
    checklist: list[CheckView]
    appointment: AppointmentView | None
    decision: DecisionView | None
    endorsement: EndorsementView | None


class ApplicationCreated(BaseModel):
    application: ApplicationView
    access: TokenView = Field(description="Keep this: it is the only way to manage the "
                              "application online. It is shown once.")


class OfficeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=300)


class OfficeView(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    address: str


class SlotsIn(BaseModel):
    """Publish a day's slots: every ``minutes`` from ``opens`` to ``closes``."""

    model_config = ConfigDict(extra="forbid")

    day: Day
    opens: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, Hong Kong time")
    closes: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, Hong Kong time")
    minutes: int = Field(ge=5, le=480)
    capacity: int = Field(ge=0, le=10_000)


class SlotView(BaseModel):
    id: uuid.UUID
    office: str
    starts_at: Instant
    ends_at: Instant
    capacity: int
    booked: int
    free: int


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: uuid.UUID


class EvidenceMarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    state: Literal["seen", "missing", "not_acceptable"]
    reason: str | None = Field(default=None, max_length=500)


class DecisionIn(BaseModel):
    """An officer's decision; an approval may set the endorsement's terms."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Outcome
    reasons: list[str] = Field(default_factory=list, max_length=20,
                               description="Why, for a refusal (at least one)")
    note: str | None = Field(default=None, max_length=2000,
                             description="A written reason: required when a supervisor "
                             "decides, and when an officer escalates")
    entries: int | None = Field(default=None, ge=1, le=99)
    valid_from: Day | None = None
    validity_days: int | None = Field(default=None, ge=1, le=3650)
    stay_days: int | None = Field(default=None, ge=1, le=365)


class StepView(BaseModel):
    seq: int
    at: Instant
    actor_kind: str
    actor_id: uuid.UUID
    actor_role: str
    action: str
    detail: dict[str, object]
