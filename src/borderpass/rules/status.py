"""The status of a person: a pure function of their facts, a rule set and the time.

``evaluate(facts, rule_set, now)`` runs every rule in force, takes the worst colour of
the failing rules (red over amber over green), and finds ``changes_at``: the first
instant after ``now`` at which the status would change with no new evidence. The status
can only change where a rule's clock comparison flips, that is at a fact's instant plus
one of the ``plusTime`` offsets the rules use, or where a rule comes into or goes out of
force; those instants are tried in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from borderpass.evidence.schemas import PersonFacts
from borderpass.rules.certlogic import CertLogicError
from borderpass.rules.ruleset import Rule, RuleSet

__all__ = ["FAR_FUTURE", "Status", "certlogic_data", "evaluate", "instant_text"]

FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_RANK = {"green": 0, "amber": 1, "red": 2}


@dataclass(frozen=True)
class Status:
    """A colour, the failing rules behind it, and when it would change by itself."""

    colour: str
    reasons: tuple[Rule, ...]
    changes_at: datetime | None
    rule_set: str

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(rule.identifier for rule in self.reasons)


def instant_text(value: datetime | None) -> str | None:
    """Write an instant as CertLogic reads it: UTC, milliseconds, ``Z``."""
    if value is None:
        return None
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def certlogic_data(facts: PersonFacts) -> dict[str, Any]:
    """Return the data context the rules see: ``payload`` (the facts) and ``external``."""
    has_flag = facts.flag_since is not None
    return {
        "payload": {
            "tests": {"lastNegative": instant_text(facts.last_negative_at),
                      "lastPositive": instant_text(facts.last_positive_at),
                      "lastNegativePcr": instant_text(facts.last_negative_pcr_at),
                      "lastNegativeRat": instant_text(facts.last_negative_rat_at)},
            "vaccinations": {"doses": facts.doses,
                             "lastDose": instant_text(facts.last_dose_at)},
            "flags": {"since": instant_text(facts.flag_since),
                      "until": instant_text(facts.flag_until or FAR_FUTURE) if has_flag else None,
                      "kinds": list(facts.flag_kinds)},
            "testingOrder": {"issuedAt": instant_text(facts.order_issued_at),
                             "reference": facts.order_reference},
            "highRiskVisit": {"at": instant_text(facts.high_risk_visit_at),
                              "region": facts.high_risk_region},
            "exposure": {"at": instant_text(facts.exposure_at), "venue": facts.exposure_venue},
        },
        "external": {"validationClock": None},
    }


def _failing_mask(rule_set: RuleSet, data: dict[str, Any], at: datetime) -> int:
    """Return the rules failing at ``at`` as a bit mask (bit ``n`` for ``rules[n]``)."""
    data["external"]["validationClock"] = instant_text(at)
    mask = 0
    for bit, valid_from, valid_to, check in rule_set.checks:
        if valid_from <= at < valid_to:
            try:
                if check(data) is not True:
                    mask |= bit
            except CertLogicError:
                mask |= bit  # a rule that cannot be decided does not let anyone through
    return mask


def _failing(rules: tuple[Rule, ...], mask: int) -> tuple[Rule, ...]:
    return tuple(rule for index, rule in enumerate(rules) if mask >> index & 1)


def _colour(failing: tuple[Rule, ...]) -> str:
    colour = "green"
    for rule in failing:
        if _RANK[rule.colour] > _RANK[colour]:
            colour = rule.colour
    return colour


def _shift(value: datetime, amount: int, unit: str) -> datetime | None:
    try:
        if unit == "hour":
            return value + timedelta(hours=amount)
        if unit == "day":
            return value + timedelta(days=amount)
        months = value.year * 12 + value.month - 1 + (amount if unit == "month" else 12 * amount)
        year, month = divmod(months, 12)
        first = value.replace(year=year, month=month + 1, day=1)
        return first + timedelta(days=value.day - 1)
    except (ValueError, OverflowError):
        return None


def _candidates(facts: PersonFacts, rule_set: RuleSet, now: datetime) -> list[datetime]:
    found = {edge for edge in rule_set.edges if edge > now}
    for instant in (
        facts.last_negative_at, facts.last_positive_at, facts.flag_since, facts.flag_until,
        facts.order_issued_at, facts.high_risk_visit_at, facts.exposure_at,
        facts.last_negative_pcr_at, facts.last_negative_rat_at, facts.last_dose_at,
    ):
        if instant is None:
            continue
        utc = instant.astimezone(UTC)
        for amount, unit in rule_set.offsets:
            shifted = _shift(utc, amount, unit)
            if shifted is not None and shifted > now:
                found.add(shifted)
    found.discard(FAR_FUTURE)
    return sorted(found)


def evaluate(facts: PersonFacts, rule_set: RuleSet, now: datetime) -> Status:
    """Return the status that ``rule_set`` gives ``facts`` at ``now``.

    Args:
        facts: the person's facts, as the evidence service summarises them.
        rule_set: a validated, compiled rule set.
        now: the instant to judge at (aware).

    Returns:
        the colour, the failing rules, and ``changes_at`` (None if the status would never
        change by itself).
    """
    data = certlogic_data(facts)
    # The colour follows from the failing rules, so the status changes exactly when they do.
    current = _failing_mask(rule_set, data, now)
    changes_at = None
    for candidate in _candidates(facts, rule_set, now):
        # Comparisons flip either at the instant (``before``) or just after it (``after``).
        if _failing_mask(rule_set, data, candidate) != current:
            changes_at = candidate
            break
        if _failing_mask(rule_set, data, candidate + _MS) != current:
            changes_at = candidate + _MS
            break
    failing = _failing(rule_set.rules, current)
    return Status(_colour(failing), failing, changes_at, rule_set.name)
