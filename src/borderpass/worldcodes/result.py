"""The one result shape of every verifier of foreign (and our own) codes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

__all__ = [
    "CANNOT_VERIFY",
    "INVALID",
    "VALID",
    "Entry",
    "Result",
    "Steps",
    "Summary",
]

VALID, INVALID, CANNOT_VERIFY = "valid", "invalid", "cannot_verify"


@dataclass(frozen=True)
class Entry:
    """One thing a certificate states: a vaccination, a test or a recovery.

    ``kind`` is ``vaccination``, ``test`` or ``recovery``; the codes are as issued and
    the names are the value sets' English display names, when known.
    """

    kind: str
    date: str | None = None
    disease: str | None = None
    product: str | None = None
    """The vaccine (product name or code) or the test (type, and name when given)."""
    dose: str | None = None
    """``n/m`` for a vaccination."""
    result: str | None = None
    """A test's result (``not detected`` …) or a lab result's value."""
    country: str | None = None
    issuer: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    identifier: str | None = None
    codes: Mapping[str, str] = field(default_factory=dict)
    """The codes behind the names: ``{"disease": "840539006", "product": …}``."""

    def as_json(self) -> dict[str, Any]:
        return {name: value for name, value in (
            ("kind", self.kind), ("date", self.date), ("disease", self.disease),
            ("product", self.product), ("dose", self.dose), ("result", self.result),
            ("country", self.country), ("issuer", self.issuer),
            ("valid_from", self.valid_from), ("valid_until", self.valid_until),
            ("identifier", self.identifier), ("codes", dict(self.codes)),
        ) if value not in (None, {})}


@dataclass(frozen=True)
class Summary:
    """What a certificate says about its holder, as a verifier shows it."""

    name: str | None
    birth_date: str | None
    issued_at: datetime | None
    expires_at: datetime | None
    entries: tuple[Entry, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "birth_date": self.birth_date,
            "issued_at": _iso(self.issued_at), "expires_at": _iso(self.expires_at),
            "entries": [entry.as_json() for entry in self.entries],
        }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


class Steps:
    """The outcome of each step, in order: True, False, or None when not reached.

    The first step that fails gives the reason, unless an earlier reason was set.
    """

    __slots__ = ("outcomes", "reason")
    _blank: dict[tuple[str, ...], dict[str, bool | None]] = {}
    """Each list of steps with none reached, made once: a copy is cheaper than a new map."""

    def __init__(self, names: tuple[str, ...]) -> None:
        blank = self._blank.get(names)
        if blank is None:
            blank = self._blank.setdefault(names, dict.fromkeys(names))
        self.outcomes: dict[str, bool | None] = blank.copy()
        self.reason: str | None = None

    def passed(self, name: str) -> None:
        self.outcomes[name] = True

    def failed(self, name: str, reason: str) -> None:
        self.outcomes[name] = False
        if self.reason is None:
            self.reason = reason

    def unknown(self, reason: str) -> None:
        """Note why a step could not be taken (nothing to check it with)."""
        if self.reason is None:
            self.reason = reason

    @property
    def result(self) -> str:
        values = self.outcomes.values()
        if False in values:
            return INVALID
        if None in values:
            return CANNOT_VERIFY
        return VALID


@dataclass(frozen=True, init=False)
class Result:
    """The verdict on a code: valid, invalid or cannot verify, and why.

    ``steps`` holds each step's outcome (None: not reached); ``reason`` is None only when
    the code is valid. ``summary`` is what the code says, once it could be read (shown
    only as far as the steps allow: an invalid code's content is not to be relied on);
    ``content`` the decoded payload (the DCC's ``hcert`` object, the SHC's ``vc``), for
    whoever turns it into facts.
    """

    format: str
    result: str
    reason: str | None
    issuer: str | None = None
    subject: str | None = None
    steps: Mapping[str, bool | None] = field(default_factory=dict)
    content: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Format-specific fields for the JSON output (our codes' colour, validity …)."""
    summarise: Callable[[], Summary | None] | None = field(default=None, repr=False,
                                                           compare=False)
    """Makes ``summary`` when it is first asked for: a gate that only needs the verdict
    does not pay for it."""

    def __init__(self, format: str, result: str, reason: str | None,
                 issuer: str | None = None, subject: str | None = None,
                 steps: Mapping[str, bool | None] | None = None,
                 content: Mapping[str, Any] | None = None,
                 extra: Mapping[str, Any] | None = None,
                 summarise: Callable[[], Summary | None] | None = None) -> None:
        # One write of the instance's fields instead of a frozen dataclass's nine
        # ``object.__setattr__`` calls: a result is made for every code scanned, and this
        # was a twentieth of a whole DCC verification (bench/worldcodes.py).
        vars(self).update(format=format, result=result, reason=reason, issuer=issuer,
                          subject=subject, steps={} if steps is None else steps,
                          content=content, extra={} if extra is None else extra,
                          summarise=summarise)

    @cached_property
    def summary(self) -> Summary | None:
        """What the code says, or None when it could not be read."""
        return self.summarise() if self.summarise is not None else None

    @property
    def valid(self) -> bool:
        return self.result == VALID

    def as_json(self) -> dict[str, Any]:
        """Return ``{"format", "result", "reason", "issuer", "subject", "steps", …}``."""
        shown: dict[str, Any] = dict(self.extra)
        shown.update({
            "format": self.format, "result": self.result, "reason": self.reason,
            "issuer": self.issuer, "subject": self.subject, "steps": dict(self.steps),
        })
        if self.summary is not None:
            shown["summary"] = self.summary.as_json()
        return shown
