"""Rule sets as data: reading and validating a document, and the compiled form evaluation uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from borderpass.kit.decoding import DecodeError
from borderpass.kit.decoding import load_json as strict_json
from borderpass.kit.errors import InvalidInput
from borderpass.kit.i18n import _
from borderpass.rules.certlogic import MAX_DEPTH, validate
from borderpass.rules.changes import ClockPlan, clock_plan, in_utc
from borderpass.rules.codegen import FailingRules, compile_failing
from borderpass.rules.compiler import Compiled, compile_expression
from borderpass.rules.schemas import LANGUAGES, RuleSetDocument

__all__ = [
    "DEFAULT_RULE_SET",
    "FACT_FIELDS",
    "InvalidRuleSet",
    "Rule",
    "RuleSet",
    "compile_rule_set",
    "default_rule_set",
    "parse_rule_set",
]

DEFAULT_RULE_SET = "hong_kong.json"

FACT_FIELDS = frozenset({
    "tests.lastNegative", "tests.lastPositive", "flags.since", "flags.until", "flags.kinds",
    "testingOrder.issuedAt", "testingOrder.reference", "highRiskVisit.at",
    "highRiskVisit.region", "exposure.at", "exposure.venue", "tests.lastNegativePcr",
    "tests.lastNegativeRat", "vaccinations.doses", "vaccinations.lastDose",
})
"""The facts a rule may name (under ``payload.``); the clock is ``external.validationClock``."""


class InvalidRuleSet(InvalidInput):
    code = "invalid_rule_set"
    message = _("The rule set is not valid: {problem}")


@dataclass(frozen=True)
class Rule:
    identifier: str
    version: str
    colour: str
    description: dict[str, str]
    valid_from: datetime
    valid_to: datetime
    logic: Any
    check: Compiled = field(init=False, compare=False, repr=False)
    """The logic compiled once (see :mod:`borderpass.rules.compiler`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "check", compile_expression(self.logic))

    def __reduce__(self) -> tuple[Any, ...]:
        # Closures do not pickle: a copy compiles its logic again.
        return (Rule, (self.identifier, self.version, self.colour, self.description,
                       self.valid_from, self.valid_to, self.logic))


@dataclass(frozen=True)
class RuleSet:
    """A validated rule set ready to evaluate."""

    identifier: str
    version: str
    jurisdiction: str
    valid_from: datetime
    valid_to: datetime
    rules: tuple[Rule, ...]
    offsets: tuple[tuple[int, str], ...]
    """Every ``plusTime`` amount and unit in the logic: where the status may change."""
    edges: tuple[datetime, ...] = field(init=False, compare=False, repr=False)
    """Where a rule comes into or goes out of force."""
    checks: tuple[tuple[int, datetime, datetime, Compiled], ...] = field(
        init=False, compare=False, repr=False)
    """Each rule's bit, validity (in UTC) and compiled logic."""
    failing: FailingRules = field(init=False, compare=False, repr=False)
    """Every rule as one function written out as Python source (:mod:`codegen`): which of
    the rules asked for fail at an instant; what walking ``checks`` gives, in less time."""
    everyone: int = field(init=False, compare=False, repr=False)
    """The bits of all the rules."""
    clock: ClockPlan | None = field(init=False, compare=False, repr=False)
    """Where each rule may change as the clock moves (None: try every candidate instant)."""
    deltas: tuple[timedelta, ...] = field(init=False, compare=False, repr=False)
    """The ``plusTime`` offsets in hours and days as durations, shortest first."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "edges", tuple(sorted(
            {in_utc(edge) for rule in self.rules for edge in (rule.valid_from, rule.valid_to)})))
        object.__setattr__(self, "checks", tuple(
            (1 << index, in_utc(rule.valid_from), in_utc(rule.valid_to), rule.check)
            for index, rule in enumerate(self.rules)))
        object.__setattr__(self, "failing", compile_failing(
            [(bit, valid_from, valid_to, rule.logic) for (bit, valid_from, valid_to, _check), rule
             in zip(self.checks, self.rules, strict=True)]))
        object.__setattr__(self, "everyone", (1 << len(self.rules)) - 1)
        object.__setattr__(self, "clock", clock_plan(self.rules))
        object.__setattr__(self, "deltas", _durations(self.offsets))

    def __reduce__(self) -> tuple[Any, ...]:
        # Closures do not pickle: a copy compiles its rules again.
        return (RuleSet, (self.identifier, self.version, self.jurisdiction, self.valid_from,
                          self.valid_to, self.rules, self.offsets))

    @property
    def name(self) -> str:
        return f"{self.identifier}@{self.version}"


def _durations(offsets: tuple[tuple[int, str], ...]) -> tuple[timedelta, ...]:
    found = set()
    for amount, unit in offsets:
        try:
            if unit in ("hour", "day"):
                found.add(timedelta(hours=amount) if unit == "hour" else timedelta(days=amount))
        except OverflowError:
            continue  # no instant survives such a shift: it is never a candidate
    return tuple(sorted(found))


def _paths(logic: Any, found: set[str]) -> None:
    if isinstance(logic, dict):
        for operator, operands in logic.items():
            if operator == "var" and isinstance(operands, str):
                found.add(operands)
            else:
                _paths(operands, found)
    elif isinstance(logic, list):
        for item in logic:
            _paths(item, found)


def _offsets(logic: Any, found: set[tuple[int, str]]) -> None:
    if isinstance(logic, dict):
        for operator, operands in logic.items():
            if operator == "plusTime" and isinstance(operands, list) and len(operands) == 3:
                found.add((int(operands[1]), str(operands[2])))
            _offsets(operands, found)
    elif isinstance(logic, list):
        for item in logic:
            _offsets(item, found)


def parse_rule_set(document: object) -> RuleSetDocument:
    """Validate a rule-set document: its shape, every rule's CertLogic, and the fields it names.

    Raises:
        InvalidRuleSet: naming the first problem and its place.
    """
    try:
        parsed = RuleSetDocument.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise InvalidRuleSet(field=where, problem=f"{where}: {first['msg']}") from None
    if parsed.valid_to <= parsed.valid_from:
        raise InvalidRuleSet(field="ValidTo", problem="ValidTo must be after ValidFrom")
    seen: set[str] = set()
    for index, rule in enumerate(parsed.rules):
        where = f"Rules.{index}"
        if rule.identifier in seen:
            raise InvalidRuleSet(field=f"{where}.Identifier",
                                 problem=f"{where}: the identifier {rule.identifier} repeats")
        seen.add(rule.identifier)
        if {d.lang for d in rule.description} != set(LANGUAGES):
            raise InvalidRuleSet(field=f"{where}.Description",
                                 problem=f"{where}: a description in zh-Hant, zh-Hans and en "
                                         "is needed")
        if rule.valid_to <= rule.valid_from:
            raise InvalidRuleSet(field=f"{where}.ValidTo",
                                 problem=f"{where}: ValidTo must be after ValidFrom")
        problems = validate(rule.logic)
        if problems:
            raise InvalidRuleSet(field=f"{where}.Logic",
                                 problem=f"{where}.Logic: {problems[0]}")
        paths: set[str] = set()
        _paths(rule.logic, paths)
        for path in sorted(paths):
            if path == "external.validationClock":
                continue
            fact = path.removeprefix("payload.")
            if not path.startswith("payload.") or fact not in FACT_FIELDS:
                raise InvalidRuleSet(field=f"{where}.Logic",
                                     problem=f"{where}.Logic: unknown fact {path}")
        for fact in rule.affected_fields:
            if fact not in FACT_FIELDS:
                raise InvalidRuleSet(field=f"{where}.AffectedFields",
                                     problem=f"{where}.AffectedFields: unknown fact {fact}")
    return parsed


def compile_rule_set(document: RuleSetDocument) -> RuleSet:
    """Turn a validated document into the form evaluation uses."""
    offsets: set[tuple[int, str]] = {(0, "hour")}
    rules = []
    for rule in document.rules:
        _offsets(rule.logic, offsets)
        rules.append(Rule(
            identifier=rule.identifier, version=rule.version, colour=rule.colour,
            description={d.lang: d.desc for d in rule.description},
            valid_from=rule.valid_from, valid_to=rule.valid_to, logic=rule.logic,
        ))
    return RuleSet(
        identifier=document.identifier, version=document.version,
        jurisdiction=document.jurisdiction, valid_from=document.valid_from,
        valid_to=document.valid_to, rules=tuple(rules),
        offsets=tuple(sorted(offsets)),
    )


# A rule's logic may nest MAX_DEPTH expressions, each an object and its list of operands,
# inside the document's own few levels.
_MAX_JSON_DEPTH = 2 * MAX_DEPTH + 8


def load_json(content: bytes | str) -> object:
    """Read a rule-set file as JSON.

    Raises:
        InvalidRuleSet: it is not JSON (or is JSON no rule set can be: see
            :func:`borderpass.kit.decoding.load_json`).
    """
    try:
        return strict_json(content, max_depth=_MAX_JSON_DEPTH)
    except DecodeError as error:
        raise InvalidRuleSet(field="document", problem=error.reason) from None


def default_document() -> bytes:
    """Return the packaged Hong Kong rule set, as its file's bytes."""
    return resources.files("borderpass.rules").joinpath("data", DEFAULT_RULE_SET).read_bytes()


@lru_cache(maxsize=1)
def default_rule_set() -> RuleSet:
    """Return the packaged Hong Kong rule set, validated and compiled."""
    return compile_rule_set(parse_rule_set(load_json(default_document())))
