"""The status of a person: a pure function of their facts, a rule set and the time.

``evaluate(facts, rule_set, now)`` runs every rule in force, takes the worst colour of
the failing rules (red over amber over green), and finds ``changes_at``: when the status
would change with no new evidence. It is defined by :func:`evaluate_exhaustive`, which
tries, in order, the candidate instants (a fact's instant plus one of the ``plusTime``
offsets the rules use, or where a rule comes into or goes out of force) and each of them
plus a millisecond, and gives the first at which the failing rules differ from those at
``now``.

:func:`evaluate` gives the same answer without trying the rules at every candidate. The
rules' logic says where each rule may change (:mod:`borderpass.rules.changes`): at the
instants where one of its clock comparisons flips, which follow from the facts. Walking
those in order and evaluating only the rules that may change there finds the first
instant ``first`` at which the failing rules differ, and the next instant ``then`` at
which any rule may change again. Every candidate ``c`` with ``c + 1 ms < first`` would
have been tried in vain; the first one after those is the answer (``c`` when it is at or
after ``first``, else ``c + 1 ms``) provided ``c + 1 ms < then``, and otherwise the
exhaustive search resumes from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from borderpass.evidence.schemas import PersonFacts
from borderpass.rules.ruleset import Rule, RuleSet

__all__ = [
    "FAR_FUTURE",
    "Status",
    "certlogic_data",
    "evaluate",
    "evaluate_exhaustive",
    "instant_text",
    "restore",
]

FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_ZERO = timedelta(0)
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


_TEXTS: dict[datetime, str] = {}
"""Instants already written: a person's last negative test is also their last of one
method, and many people share the day of their last dose or an order's instant."""


def instant_text(value: datetime | None) -> str | None:
    """Write an instant as CertLogic reads it: UTC, milliseconds, ``Z``."""
    if value is None:
        return None
    written = _TEXTS.get(value)
    if written is not None:
        return written
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    if utc.year >= 1000:  # isoformat writes the year in four digits, as strftime does here
        written = utc.isoformat(timespec="milliseconds")[:-6] + "Z"
    else:
        written = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if len(_TEXTS) >= 4096:
        _TEXTS.clear()
    _TEXTS[value] = written
    return written


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


_LAST_CLOCK: list[tuple[datetime, str | None]] = [(FAR_FUTURE, instant_text(FAR_FUTURE))]
"""The last instant ``_failing_bits`` wrote, and how: mostly the same ``now`` for every
person of a batch."""


def _failing_mask(rule_set: RuleSet, data: dict[str, Any], at: datetime) -> int:
    """Return the rules failing at ``at`` as a bit mask (bit ``n`` for ``rules[n]``)."""
    return _failing_bits(rule_set, data, at, rule_set.everyone)


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
    for instant in _facts_instants(facts):
        if instant is None:
            continue
        utc = instant.astimezone(UTC)
        for amount, unit in rule_set.offsets:
            shifted = _shift(utc, amount, unit)
            if shifted is not None and shifted > now:
                found.add(shifted)
    found.discard(FAR_FUTURE)
    return sorted(found)


def _facts_instants(facts: PersonFacts) -> tuple[datetime | None, ...]:
    return (
        facts.last_negative_at, facts.last_positive_at, facts.flag_since, facts.flag_until,
        facts.order_issued_at, facts.high_risk_visit_at, facts.exposure_at,
        facts.last_negative_pcr_at, facts.last_negative_rat_at, facts.last_dose_at,
    )


def _first_candidate(facts: PersonFacts, rule_set: RuleSet, now: datetime,
                     bound: datetime) -> datetime | None:
    """Return the earliest candidate instant after ``now`` and not before ``bound``."""
    best = None
    for edge in rule_set.edges:
        if edge > now and edge >= bound and edge != FAR_FUTURE:
            best = edge
            break
    calendar = len(rule_set.deltas) < len(rule_set.offsets)
    floor = None  # a fact before this is too early for even the longest shift to fit
    if rule_set.deltas:
        try:
            floor = max(now, bound) - rule_set.deltas[-1]
        except OverflowError:
            floor = None
    for instant in _facts_instants(facts):
        if instant is None:
            continue
        utc = instant if instant.tzinfo is UTC else instant.astimezone(UTC)
        if floor is not None and utc < floor and not calendar:
            continue
        for delta in rule_set.deltas:  # shortest first: the first that fits is this fact's
            try:
                shifted = utc + delta
            except OverflowError:
                if delta > _ZERO:
                    break
                continue
            if shifted > now and shifted >= bound and shifted != FAR_FUTURE:
                if best is None or shifted < best:
                    best = shifted
                break
        if calendar:
            for amount, unit in rule_set.offsets:
                if unit in ("hour", "day"):
                    continue
                moved = _shift(utc, amount, unit)
                if moved is not None and moved > now and moved >= bound \
                        and moved != FAR_FUTURE and (best is None or moved < best):
                    best = moved
    return best


def _search(facts: PersonFacts, rule_set: RuleSet, data: dict[str, Any], current: int,
            candidates: list[datetime]) -> datetime | None:
    """Try the candidates in order: the first at which the failing rules differ."""
    for candidate in candidates:
        # Comparisons flip either at the instant (``before``) or just after it (``after``).
        if _failing_mask(rule_set, data, candidate) != current:
            return candidate
        if _failing_mask(rule_set, data, candidate + _MS) != current:
            return candidate + _MS
    return None


def _failing_bits(rule_set: RuleSet, data: dict[str, Any], at: datetime, bits: int) -> int:
    """Return which of the rules in ``bits`` fail at ``at`` (a rule that cannot be decided
    fails: it does not let anyone through)."""
    last, written = _LAST_CLOCK[0]
    if at != last:
        written = instant_text(at)
        _LAST_CLOCK[0] = (at, written)
    data["external"]["validationClock"] = written
    return rule_set.failing(data, at, bits)


def _changes_at(facts: PersonFacts, rule_set: RuleSet, data: dict[str, Any], current: int,
                now: datetime) -> datetime | None:
    plan = rule_set.clock
    assert plan is not None  # noqa: S101 - only called for rule sets with a plan
    changes = plan.changes(data, now)
    mask, index, count = current, 0, len(changes)
    while index < count:
        at, bits = changes[index]
        index += 1
        while index < count and changes[index][0] == at:
            bits |= changes[index][1]
            index += 1
        mask = mask & ~bits | _failing_bits(rule_set, data, at, bits)
        if mask == current:
            continue
        candidate = _first_candidate(facts, rule_set, now, at - _MS)
        if candidate is None:
            return None
        if index == count or candidate + _MS < changes[index][0]:
            return candidate if candidate >= at else candidate + _MS
        return _search(facts, rule_set, data, current,
                       [c for c in _candidates(facts, rule_set, now) if c >= candidate])
    return None


def evaluate(facts: PersonFacts, rule_set: RuleSet, now: datetime) -> Status:
    """Return the status that ``rule_set`` gives ``facts`` at ``now``.

    Args:
        facts: the person's facts, as the evidence service summarises them.
        rule_set: a validated, compiled rule set.
        now: the instant to judge at (aware).

    Returns:
        the colour, the failing rules, and ``changes_at`` (None if the status would never
        change by itself), exactly as :func:`evaluate_exhaustive` gives them.
    """
    if rule_set.clock is None:
        return evaluate_exhaustive(facts, rule_set, now)
    data = certlogic_data(facts)
    current = _failing_mask(rule_set, data, now)
    changes_at = _changes_at(facts, rule_set, data, current, now)
    failing = _failing(rule_set.rules, current)
    return Status(_colour(failing), failing, changes_at, rule_set.name)


def evaluate_exhaustive(facts: PersonFacts, rule_set: RuleSet, now: datetime) -> Status:
    """Return the status that ``rule_set`` gives ``facts`` at ``now``, trying the rules at
    every candidate instant for ``changes_at`` (the definition :func:`evaluate` follows).
    """
    data = certlogic_data(facts)
    # The colour follows from the failing rules, so the status changes exactly when they do.
    current = _failing_mask(rule_set, data, now)
    changes_at = _search(facts, rule_set, data, current, _candidates(facts, rule_set, now))
    failing = _failing(rule_set.rules, current)
    return Status(_colour(failing), failing, changes_at, rule_set.name)


def restore(rule_set: RuleSet, colour: str, rule_ids: Sequence[str],
            changes_at: datetime | None, at: datetime) -> Status | None:
    """Rebuild a status that ``rule_set`` gave and that still holds at ``at``, from what
    was saved of it: its colour, the identifiers of its failing rules and ``changes_at``.

    Returns:
        the status :func:`evaluate` gave, or None when the identifiers do not name the
        rules in force exactly (one identifier for two rules, a rule no longer there) or
        do not give ``colour``.
    """
    wanted = set(rule_ids)
    failing = tuple(rule for rule in rule_set.rules if rule.identifier in wanted
                    and rule.valid_from <= at < rule.valid_to)
    if tuple(rule.identifier for rule in failing) != tuple(rule_ids) \
            or _colour(failing) != colour:
        return None
    return Status(colour, failing, changes_at, rule_set.name)
