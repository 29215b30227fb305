"""EU Digital COVID Certificates judged by business rules in the EU's rule format.

A rule set (``data/eu_dcc.json`` by default) holds acceptance rules, each for one
certificate type (``Vaccination``, ``Test``, ``Recovery``) or all (``General``), whose
``Logic`` is CertLogic over ``worldcodes.facts.certlogic_data``: the DCC as ``payload``
and the clock, value sets and country as ``external``. The rules are validated and
compiled once with the project's compiler, the same evaluator as the health code's.

A certificate is accepted when every rule that applies to its type and is in force
holds; a rule whose logic is not ``true`` (false, or it cannot be decided) fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from borderpass.kit.decoding import DecodeError, load_json
from borderpass.kit.errors import InvalidInput
from borderpass.kit.i18n import _
from borderpass.rules.certlogic import CertLogicError, validate
from borderpass.rules.compiler import Compiled, compile_expression
from borderpass.rules.schemas import LANGUAGES
from borderpass.worldcodes.facts import NotJudgeable, certificate_type, certlogic_data
from borderpass.worldcodes.result import Result

__all__ = [
    "CERTIFICATE_TYPES",
    "DEFAULT_EU_RULE_SET",
    "EuJudgement",
    "EuRule",
    "EuRuleSet",
    "InvalidEuRuleSet",
    "default_eu_rule_set",
    "judge_dcc",
    "parse_eu_rule_set",
]

DEFAULT_EU_RULE_SET = "eu_dcc.json"
CERTIFICATE_TYPES = ("General", "Vaccination", "Test", "Recovery")


class InvalidEuRuleSet(InvalidInput):
    code = "invalid_eu_rule_set"
    message = _("The rule set for EU certificates is not valid: {problem}")


@dataclass(frozen=True)
class EuRule:
    """One acceptance rule: what it says in each language and its compiled logic."""

    identifier: str
    certificate_type: str
    description: dict[str, str]
    valid_from: datetime
    valid_to: datetime
    logic: Any
    check: Compiled = field(compare=False, repr=False)


@dataclass(frozen=True)
class EuRuleSet:
    identifier: str
    version: str
    rules: tuple[EuRule, ...]


@dataclass(frozen=True)
class EuJudgement:
    """Whether a DCC is accepted: ``failing`` names the rules that did not hold (empty when
    it is), ``checked`` every rule that applied; ``reason`` is set when no rule could be
    applied because the certificate itself is not valid."""

    accepted: bool
    certificate_type: str | None
    checked: tuple[EuRule, ...] = ()
    failing: tuple[EuRule, ...] = ()
    reason: str | None = None


def _problem(problem: str) -> InvalidEuRuleSet:
    return InvalidEuRuleSet(problem=problem, field="rule_set")


def _instant(value: Any, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _problem(f"{where} is not an ISO-8601 instant with an offset")
    return parsed


def _rule(raw: Any, index: int) -> EuRule:
    where = f"Rules[{index}]"
    if not isinstance(raw, dict):
        raise _problem(f"{where} is not an object")
    identifier = raw.get("Identifier")
    if not isinstance(identifier, str) or not identifier:
        raise _problem(f"{where}.Identifier is missing")
    if raw.get("Type") != "Acceptance" or raw.get("Engine") != "CERTLOGIC":
        raise _problem(f"{identifier}: only CertLogic acceptance rules are read")
    kind = raw.get("CertificateType")
    if kind not in CERTIFICATE_TYPES:
        raise _problem(f"{identifier}: CertificateType is not one of {CERTIFICATE_TYPES}")
    texts = {item.get("lang"): item.get("desc") for item in raw.get("Description") or ()
             if isinstance(item, dict)}
    if any(not isinstance(texts.get(lang), str) or not texts[lang] for lang in LANGUAGES):
        raise _problem(f"{identifier}: a description in each of {LANGUAGES} is needed")
    problems = validate(raw.get("Logic"))
    if problems:
        raise _problem(f"{identifier}: {problems[0]}")
    return EuRule(identifier, kind, {lang: str(texts[lang]) for lang in LANGUAGES},
                  _instant(raw.get("ValidFrom"), f"{identifier}.ValidFrom"),
                  _instant(raw.get("ValidTo"), f"{identifier}.ValidTo"), raw["Logic"],
                  compile_expression(raw["Logic"]))


def parse_eu_rule_set(content: bytes | str) -> EuRuleSet:
    """Read and validate a rule set for EU certificates, compiling every rule once.

    Raises:
        InvalidEuRuleSet: the document is not JSON, or a rule is not a valid CertLogic
            acceptance rule for a known certificate type with its three descriptions.
    """
    try:
        document = load_json(content)
    except DecodeError as error:
        raise _problem(error.reason) from None
    if not isinstance(document, dict) or not isinstance(document.get("Rules"), list):
        raise _problem("a rule set is an object with Rules")
    rules = tuple(_rule(raw, index) for index, raw in enumerate(document["Rules"]))
    if len({rule.identifier for rule in rules}) != len(rules):
        raise _problem("two rules have the same Identifier")
    return EuRuleSet(str(document.get("Identifier", "")), str(document.get("Version", "")),
                     rules)


@cache
def default_eu_rule_set() -> EuRuleSet:
    """Return the packaged rule set for EU certificates."""
    content = resources.files("borderpass.rules").joinpath("data", DEFAULT_EU_RULE_SET)
    return parse_eu_rule_set(content.read_bytes())


def judge_dcc(result: Result, rule_set: EuRuleSet, *, now: datetime,
              country: str) -> EuJudgement:
    """Judge a verified DCC by the rules in force at ``now`` for its certificate type.

    Returns:
        a judgement; not accepted, with the verification's reason, when the result is
        not a valid DCC.
    """
    try:
        kind = certificate_type(result)
        data = certlogic_data(result, now=now, country=country)
    except NotJudgeable as error:
        return EuJudgement(False, None, reason=str(error))
    applying = tuple(rule for rule in rule_set.rules
                     if rule.certificate_type in ("General", kind)
                     and rule.valid_from <= now <= rule.valid_to)
    failing = []
    for rule in applying:
        try:
            holds = rule.check(data) is True
        except CertLogicError:  # a rule that cannot be decided lets no one through
            holds = False
        if not holds:
            failing.append(rule)
    return EuJudgement(not failing, kind, applying, tuple(failing))
