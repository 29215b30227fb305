"""The endorsement policy as data: which types are open and when, reasons and checklists.

The policy ships as ``policy.json`` beside this module and is validated when loaded: every
text in three languages, every checklist item known, every opening window in order. An
operator may point ``BORDERPASS_PERMITS_POLICY`` at another file with the same shape.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from borderpass.kit.clock import hk_date

__all__ = [
    "ENDORSEMENT_TYPES",
    "Conditions",
    "EndorsementType",
    "Policy",
    "PolicyError",
    "Reason",
    "Text",
    "current",
    "load_policy",
    "policy_view",
    "use_policy",
]

ENDORSEMENT_TYPES = ("emergency", "business", "regular")
POLICY_FILE = Path(__file__).resolve().parent / "policy.json"


class PolicyError(ValueError):
    """The policy file is missing, not JSON, or not of the expected shape."""


class Text(BaseModel):
    """A text in the platform's three languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1)
    zh_Hant: str = Field(min_length=1)
    zh_Hans: str = Field(min_length=1)

    def get(self, locale: str) -> str:
        """Return the text in ``locale`` (one of ``LOCALES``), English otherwise."""
        return str(getattr(self, locale, self.en))


class Window(BaseModel):
    """Days (Hong Kong calendar, both ends included) during which a type is open."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    starts: date = Field(alias="from")
    until: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.until is not None and self.until < self.starts:
            raise ValueError("an opening window must not end before it starts")
        return self

    def covers(self, day: date) -> bool:
        return self.starts <= day and (self.until is None or day <= self.until)


class Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: int = Field(ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.default > self.max:
            raise ValueError("the default must not exceed the maximum")
        return self


class EndorsementType(BaseModel):
    """One endorsement type: when it is open, its terms and its common checklist."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    open: tuple[Window, ...]
    entries: Bounds
    validity_days: Bounds
    stay_days: Bounds
    checklist: tuple[str, ...]

    def is_open(self, day: date) -> bool:
        """Tell whether applications of this type are accepted on ``day``."""
        return any(window.covers(day) for window in self.open)


class Reason(BaseModel):
    """An emergency reason and the evidence it needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    checklist: tuple[str, ...] = Field(min_length=1)
    relationship: bool


class Conditions(BaseModel):
    """Epidemic conditions on the trip and on the return, in force during a window."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    starts: date = Field(alias="from")
    until: date | None = None
    trip: tuple[Text, ...]
    return_: tuple[Text, ...] = Field(alias="return")

    def covers(self, day: date) -> bool:
        return self.starts <= day and (self.until is None or day <= self.until)


class Relationships(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    direct: dict[str, Text] = Field(min_length=1)
    other: dict[str, Text] = Field(min_length=1)


class Policy(BaseModel):
    """The whole endorsement policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    types: dict[str, EndorsementType]
    evidence: dict[str, Text]
    reasons: dict[str, Reason] = Field(min_length=1)
    relationships: Relationships
    conditions: tuple[Conditions, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        if set(self.types) != set(ENDORSEMENT_TYPES):
            raise ValueError(f"types must be exactly {', '.join(ENDORSEMENT_TYPES)}")
        lists = [(f"types.{name}", kind.checklist) for name, kind in self.types.items()]
        lists += [(f"reasons.{name}", reason.checklist) for name, reason in self.reasons.items()]
        for where, items in lists:
            unknown = [item for item in items if item not in self.evidence]
            if unknown:
                raise ValueError(f"{where}: unknown evidence item(s) {', '.join(unknown)}")
            if len(set(items)) != len(items):
                raise ValueError(f"{where}: an evidence item is listed twice")
        overlap = set(self.relationships.direct) & set(self.relationships.other)
        if overlap:
            raise ValueError(f"relationships both direct and other: {', '.join(sorted(overlap))}")
        return self

    def checklist(self, kind: str, reason: str | None) -> tuple[str, ...]:
        """Return the evidence items an application of ``kind`` (and ``reason``) needs."""
        items = list(self.types[kind].checklist)
        if kind == "emergency" and reason is not None:
            items += [item for item in self.reasons[reason].checklist if item not in items]
        return tuple(items)

    def conditions_on(self, day: date) -> Conditions | None:
        """Return the epidemic conditions in force on ``day``, if any."""
        return next((c for c in self.conditions if c.covers(day)), None)

    def relationship_class(self, relationship: str) -> Literal["direct", "other"] | None:
        """Say whether a relationship is direct, another family tie, or unknown (None)."""
        if relationship in self.relationships.direct:
            return "direct"
        if relationship in self.relationships.other:
            return "other"
        return None

    def relationship_name(self, relationship: str) -> Text | None:
        return self.relationships.direct.get(relationship) or self.relationships.other.get(
            relationship
        )


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file.

    Args:
        path: a JSON file shaped like the packaged ``policy.json``.

    Returns:
        The validated policy.

    Raises:
        PolicyError: the file cannot be read, is not JSON, or is not a valid policy; the
            message names the first problem and where it is.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyError(f"{path}: cannot read the policy: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise PolicyError(f"{path}: not JSON: {error}") from None
    try:
        return Policy.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top)"
        raise PolicyError(f"{path}: {where}: {first['msg']}") from None


_override: list[Policy] = []


@lru_cache(maxsize=4)
def _load_cached(path: str) -> Policy:
    return load_policy(Path(path))


def current() -> Policy:
    """Return the policy in force: the packaged file unless configured otherwise."""
    if _override:
        return _override[-1]
    return _load_cached(os.environ.get("BORDERPASS_PERMITS_POLICY") or str(POLICY_FILE))


@contextmanager
def use_policy(policy: Policy) -> Iterator[Policy]:
    """Put ``policy`` in force for the duration of the block (tests and dry runs)."""
    _override.append(policy)
    try:
        yield policy
    finally:
        _override.remove(policy)


def policy_view(*, locale: str, now: datetime) -> dict[str, Any]:
    """Describe the policy in force today: open types, reasons, checklists, relationships."""
    policy = current()
    today = hk_date(now)

    def names(items: tuple[str, ...]) -> list[dict[str, str]]:
        return [{"item": item, "name": policy.evidence[item].get(locale)} for item in items]

    conditions = policy.conditions_on(today)
    return {
        "day": today.isoformat(),
        "types": [
            {"kind": name, "name": kind.name.get(locale), "open": kind.is_open(today),
             "checklist": names(kind.checklist)}
            for name, kind in policy.types.items()
        ],
        "reasons": [
            {"reason": name, "name": reason.name.get(locale),
             "relationship_needed": reason.relationship,
             "checklist": names(policy.checklist("emergency", name))}
            for name, reason in policy.reasons.items()
        ],
        "relationships": {
            "direct": {key: text.get(locale) for key, text in policy.relationships.direct.items()},
            "other": {key: text.get(locale) for key, text in policy.relationships.other.items()},
        },
        "conditions": None if conditions is None else {
            "trip": [text.get(locale) for text in conditions.trip],
            "return": [text.get(locale) for text in conditions.return_],
        },
    }
