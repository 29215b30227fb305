"""What a verified foreign certificate says, as the data the business rules read.

The EU's business rules are CertLogic over ``{"payload": the DCC, "external": {…}}``; the
same shape lets ``rules.eu`` judge a DCC with the project's evaluator.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from borderpass.worldcodes.result import Result
from borderpass.worldcodes.valuesets import eu_value_sets

__all__ = ["NotJudgeable", "certlogic_data", "certificate_type"]

_TYPES = {"v": "Vaccination", "t": "Test", "r": "Recovery"}


class NotJudgeable(ValueError):
    """The result is not a valid DCC: there is nothing the rules may rely on."""


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def certificate_type(result: Result) -> str:
    """Return a valid DCC's type as the EU's rules name it: Vaccination, Test or Recovery.

    Raises:
        NotJudgeable: the result is not a valid DCC.
    """
    if result.format != "dcc" or not result.valid or result.content is None:
        raise NotJudgeable(result.reason or "not a DCC")
    kinds = [name for key, name in _TYPES.items() if key in result.content]
    if len(kinds) != 1:
        raise NotJudgeable("not one kind of certificate")
    return kinds[0]


def certlogic_data(result: Result, *, now: datetime, country: str) -> dict[str, Any]:
    """Return the data context of the EU's business rules for a valid DCC.

    ``external`` holds ``validationClock`` (``now``), ``valueSets`` (codes by the EU's
    value set identifiers), ``countryCode`` (the verifying country), ``exp`` and ``iat``.

    Raises:
        NotJudgeable: the result is not a valid DCC.
    """
    certificate_type(result)
    summary = result.summary
    return {
        "payload": result.content,
        "external": {
            "validationClock": _instant(now),
            "valueSets": eu_value_sets(),
            "countryCode": country,
            "exp": _instant(summary.expires_at) if summary else None,
            "iat": _instant(summary.issued_at) if summary else None,
        },
    }
