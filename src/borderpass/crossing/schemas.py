"""What crosses the crossing domain's boundary: the crossing policy document, control
points, quotas and bookings, and the decision at the border with its reasons."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from borderpass.kit.types import Day, Instant
from borderpass.rules.schemas import Description

__all__ = [
    "BookingIn",
    "BookingView",
    "CodeView",
    "ControlPointIn",
    "ControlPointView",
    "CrossingDocument",
    "CrossingPolicyDocument",
    "CrossingRuleDocument",
    "DecisionIn",
    "DecisionRecordView",
    "DecisionView",
    "Direction",
    "EndorsementView",
    "MetDocument",
    "Outcome",
    "PolicyView",
    "QuarantineDocument",
    "QuarantinePlaceDocument",
    "QuarantineView",
    "QuotaIn",
    "QuotaView",
    "ReasonView",
    "RuleCheckView",
]

Direction = Literal["north", "south"]
Outcome = Literal["quarantine_free", "quarantine", "refused"]
Locale = Literal["zh_Hant", "zh_Hans", "en"]
_VERSION = r"^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$"
_IDENTIFIER = r"^[A-Z0-9][A-Z0-9\-]{1,63}$"
_REASON = r"^[a-z][a-z0-9_]{1,47}$"
_POINT = r"^[A-Z0-9]{2,8}$"
_PLACE = r"^[A-Z0-9][A-Z0-9\-]{1,15}$"


# --- the policy document -------------------------------------------------------------

class MetDocument(BaseModel):
    """What a rule says when it holds: its reason code and text in the three languages."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    reason: str = Field(alias="Reason", pattern=_REASON)
    description: list[Description] = Field(alias="Description", min_length=3, max_length=3)


class CrossingRuleDocument(BaseModel):
    """One condition of crossing: CertLogic over the traveller's facts, the outcome its
    failure leads to, and what it says either way."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    identifier: str = Field(alias="Identifier", pattern=_IDENTIFIER)
    version: str = Field(alias="Version", pattern=_VERSION)
    outcome: Literal["refused", "quarantine"] = Field(alias="Outcome")
    reason: str = Field(alias="Reason", pattern=_REASON)
    description: list[Description] = Field(alias="Description", min_length=3, max_length=3)
    met: MetDocument = Field(alias="Met")
    valid_from: Instant = Field(alias="ValidFrom")
    valid_to: Instant = Field(alias="ValidTo")
    affected_fields: list[str] = Field(alias="AffectedFields", min_length=1, max_length=20)
    applies: Any = Field(alias="Applies", default=True)
    logic: Any = Field(alias="Logic")


class QuarantinePlaceDocument(BaseModel):
    """A designated quarantine place; ``ControlPoints`` limits where it is assigned."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    code: str = Field(alias="Code", pattern=_PLACE)
    name: list[Description] = Field(alias="Name", min_length=3, max_length=3)
    control_points: list[str] | None = Field(alias="ControlPoints", default=None,
                                             min_length=1, max_length=50)


class QuarantineDocument(BaseModel):
    """How long quarantine lasts and where travellers may be sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    days: int = Field(alias="Days", ge=1, le=60)
    places: list[QuarantinePlaceDocument] = Field(alias="Places", min_length=1, max_length=100)


class CrossingDocument(BaseModel):
    """The rules of some control points in one direction."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    control_points: list[str] = Field(alias="ControlPoints", min_length=1, max_length=50)
    direction: Direction = Field(alias="Direction")
    quarantine: QuarantineDocument | None = Field(alias="Quarantine", default=None)
    rules: list[CrossingRuleDocument] = Field(alias="Rules", min_length=1, max_length=100)


class CrossingPolicyDocument(BaseModel):
    """A versioned crossing policy: per control point and direction, the rules that
    decide between quarantine-free, quarantine and refusal."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    identifier: str = Field(alias="Identifier", pattern=_IDENTIFIER)
    jurisdiction: str = Field(alias="Jurisdiction", min_length=2, max_length=8)
    version: str = Field(alias="Version", pattern=_VERSION)
    valid_from: Instant = Field(alias="ValidFrom")
    valid_to: Instant = Field(alias="ValidTo")
    description: list[Description] = Field(alias="Description", min_length=3, max_length=3)
    crossings: list[CrossingDocument] = Field(alias="Crossings", min_length=1, max_length=50)


class PolicyView(BaseModel):
    id: uuid.UUID
    identifier: str
    version: str
    jurisdiction: str
    valid_from: Instant
    valid_to: Instant
    loaded_at: Instant
    active: bool
    activated_at: Instant | None
    crossings: int


# --- control points, quotas and bookings ---------------------------------------------

class ControlPointIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=_POINT, description="Short code, e.g. LWU")
    name_zh_hant: str = Field(min_length=1, max_length=120)
    name_zh_hans: str = Field(min_length=1, max_length=120)
    name_en: str = Field(min_length=1, max_length=160)


class ControlPointView(BaseModel):
    code: str
    name_zh_hant: str
    name_zh_hans: str
    name_en: str


class QuotaIn(BaseModel):
    """Quarantine-free places at a control point for a run of days."""

    model_config = ConfigDict(extra="forbid")

    control_point: str = Field(pattern=_POINT)
    day: Day
    days: int = Field(default=1, ge=1, le=60, description="Set the same places on this many "
                      "days from ``day``")
    places: int = Field(ge=0, le=100_000)


class QuotaView(BaseModel):
    control_point: str
    day: Day
    capacity: int
    booked: int
    free: int


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    control_point: str = Field(pattern=_POINT)
    day: Day


class BookingView(BaseModel):
    id: uuid.UUID
    reference: str
    control_point: str
    day: date
    status: Literal["booked", "used", "cancelled", "no_show"]
    booked_at: Instant
    ended_at: Instant | None


# --- the decision --------------------------------------------------------------------

class DecisionIn(BaseModel):
    """What the officer reads at the control point."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    control_point: str = Field(pattern=_POINT)
    direction: Direction
    document_kind: str = Field(min_length=1, max_length=16,
                               description="hkid, hrp, macau or mainland")
    document_number: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=4096, description="The text of the QR code")
    endorsement: str | None = Field(default=None, max_length=20,
                                    description="The endorsement's number, for a mainland "
                                    "resident")
    at: Instant | None = Field(default=None, description="Decide at this instant (default now)")
    language: Locale | None = Field(default=None, description="The language of the reasons "
                                    "(default: the caller's)")


class ReasonView(BaseModel):
    """One reason for the outcome: a stable code and a message in the officer's language."""

    code: str
    rule: str
    message: str


class RuleCheckView(BaseModel):
    """One rule of the policy as it was applied: met or not, and what failing leads to."""

    rule: str
    code: str
    met: bool
    outcome: Literal["refused", "quarantine"]
    message: str


class QuarantineView(BaseModel):
    place: str
    place_name: str
    days: int
    starts_on: date
    ends_on: date


class CodeView(BaseModel):
    """The health code as the verifier read it (no more than the code itself shows)."""

    result: str
    reason: str | None
    jurisdiction: str | None
    colour: str | None
    valid_until: Instant | None
    initials: str | None
    document: str | None


class EndorsementView(BaseModel):
    number: str
    kind: str
    destination: str
    valid_from: date
    valid_until: date
    entries_left: int
    conditions: list[str]


class DecisionView(BaseModel):
    """The decision at the border, with every reason that led to it."""

    id: uuid.UUID
    outcome: Outcome
    may_cross: bool
    control_point: str
    control_point_name: str
    direction: Direction
    decided_at: Instant
    judged_at: Instant
    policy: str
    language: Locale
    reasons: list[ReasonView]
    checks: list[RuleCheckView]
    quarantine: QuarantineView | None
    code: CodeView
    endorsement: EndorsementView | None
    booking: str | None


class DecisionRecordView(BaseModel):
    """A decision as it is on record: who, when, where, under which policy, the outcome and
    its reason codes; the traveller only as the kind of document (the blind index stays
    in the database)."""

    id: uuid.UUID
    control_point: str
    direction: Direction
    decided_at: Instant
    judged_at: Instant
    decided_by: uuid.UUID | None
    decided_role: str | None
    channel: str
    policy: str
    outcome: Outcome
    reasons: list[str]
    document_kind: str
    code_issuer: str | None
    code_result: str
    endorsement: str | None
    quarantine_place: str | None
    quarantine_ends_on: date | None
