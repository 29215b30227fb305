"""What crosses the rules domain's boundary: rule-set documents, and the status they give."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from borderpass.kit.types import Instant

__all__ = [
    "Colour",
    "Description",
    "ReasonView",
    "RuleDocument",
    "RuleSetDocument",
    "RuleSetView",
    "StatusView",
]

Colour = Literal["green", "amber", "red"]
LANGUAGES = ("zh-Hant", "zh-Hans", "en")
_VERSION = r"^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$"
_IDENTIFIER = r"^[A-Z0-9][A-Z0-9\-]{1,63}$"


class Description(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lang: Literal["zh-Hant", "zh-Hans", "en"]
    desc: str = Field(min_length=1, max_length=500)


class RuleDocument(BaseModel):
    """One business rule in the shape of an EU DCC rule, with the colour its failure gives."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    identifier: str = Field(alias="Identifier", pattern=_IDENTIFIER)
    type: Literal["Acceptance", "Invalidation"] = Field(alias="Type", default="Acceptance")
    country: str = Field(alias="Country", min_length=2, max_length=8)
    version: str = Field(alias="Version", pattern=_VERSION)
    schema_version: str = Field(alias="SchemaVersion", pattern=_VERSION)
    engine: Literal["CERTLOGIC"] = Field(alias="Engine")
    engine_version: str = Field(alias="EngineVersion", pattern=_VERSION)
    colour: Literal["red", "amber"] = Field(alias="Colour")
    description: list[Description] = Field(alias="Description", min_length=3, max_length=3)
    valid_from: Instant = Field(alias="ValidFrom")
    valid_to: Instant = Field(alias="ValidTo")
    affected_fields: list[str] = Field(alias="AffectedFields", min_length=1, max_length=20)
    logic: Any = Field(alias="Logic")


class RuleSetDocument(BaseModel):
    """A versioned rule set: the rules that turn a person's facts into a colour."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    identifier: str = Field(alias="Identifier", pattern=_IDENTIFIER)
    jurisdiction: str = Field(alias="Jurisdiction", min_length=2, max_length=8)
    version: str = Field(alias="Version", pattern=_VERSION)
    valid_from: Instant = Field(alias="ValidFrom")
    valid_to: Instant = Field(alias="ValidTo")
    description: list[Description] = Field(alias="Description", min_length=3, max_length=3)
    rules: list[RuleDocument] = Field(alias="Rules", min_length=1, max_length=200)


class RuleSetView(BaseModel):
    id: uuid.UUID
    identifier: str
    version: str
    jurisdiction: str
    valid_from: Instant
    valid_to: Instant
    loaded_at: Instant
    active: bool
    activated_at: Instant | None
    rules: int


class ReasonView(BaseModel):
    """A failing rule, explained in the three languages."""

    rule: str
    colour: Literal["red", "amber"]
    description: dict[str, str]


class StatusView(BaseModel):
    """A person's colour, why, and when it would change by itself."""

    colour: Colour
    reasons: list[ReasonView]
    changes_at: Instant | None
    evaluated_at: Instant
    rule_set: str
