"""The crossing policy as data: per control point and direction, CertLogic rules over the
traveller's facts that decide between quarantine-free, quarantine and refusal.

A policy document is validated when loaded (its shape, every rule's CertLogic, every fact
it names) and compiled once with the rules' compiler (``rules/compiler.py``): the same
evaluator as the health code's rule sets, never a second one. Versions are kept like rule
sets: loaded, then put in force; the packaged Hong Kong policy applies until one is.

Evaluation is a pure function of the facts, the policy and the instant:

* a rule whose ``Applies`` does not hold for the traveller is left out;
* a rule whose ``Logic`` is not ``true`` fails (a rule that cannot be decided fails too:
  it does not let anyone through); it leads to its ``Outcome``;
* any failing ``refused`` rule refuses; otherwise any failing ``quarantine`` rule sends
  the traveller to quarantine; otherwise the crossing is quarantine-free;
* the reasons are the failing rules of the outcome, or, when quarantine-free, what each
  rule that held says (its ``Met``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from borderpass.crossing import repository
from borderpass.crossing.models import CrossingPolicyVersion
from borderpass.crossing.schemas import CrossingPolicyDocument, PolicyView
from borderpass.kit.config import get_settings
from borderpass.kit.errors import Conflict, InvalidInput, NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.rules.certlogic import CertLogicError, validate
from borderpass.rules.compiler import Compiled, compile_expression
from borderpass.rules.schemas import LANGUAGES, Description
from borderpass.rules.status import instant_text

__all__ = [
    "DEFAULT_POLICY",
    "FACT_FIELDS",
    "OUTCOMES",
    "Crossing",
    "CrossingFacts",
    "CrossingPolicy",
    "CrossingRule",
    "EndorsementFacts",
    "ForeignPolicy",
    "InvalidPolicy",
    "Judgement",
    "NoCrossingPolicy",
    "PolicyExists",
    "PolicyNotFound",
    "QuarantinePlace",
    "RuleResult",
    "activate",
    "active_policy",
    "certlogic_data",
    "compile_policy",
    "default_document",
    "default_policy",
    "evaluate",
    "list_policies",
    "load",
    "parse_policy",
    "policy_view",
]

log = get_logger(__name__)

DEFAULT_POLICY = "hong_kong_crossing.json"
OUTCOMES = ("quarantine_free", "quarantine", "refused")
_LOCALE = {"zh-Hant": "zh_Hant", "zh-Hans": "zh_Hans", "en": "en"}

FACT_FIELDS = frozenset({
    "crossing.controlPoint", "crossing.direction", "crossing.jurisdiction",
    "traveller.residence", "document.kind",
    "code.result", "code.reason", "code.jurisdiction", "code.colour", "code.issuedAt",
    "code.validUntil", "code.holderMatches",
    "checkin.days", "checkin.uploadedAt",
    "vaccinations.doses", "vaccinations.lastDose",
    "quota.booked",
    "endorsement.present", "endorsement.kind", "endorsement.reason",
    "endorsement.destination", "endorsement.validFrom", "endorsement.validUntil",
    "endorsement.entriesLeft", "endorsement.stayDays", "endorsement.holderMatches",
    "tests.lastNegative",
    "foreign.present", "foreign.format", "foreign.result", "foreign.reason",
    "foreign.accepted", "foreign.kind", "foreign.holderMatches",
})
"""The facts a crossing rule may name (under ``payload.``); the clock is
``external.validationClock``. docs/crossing.md describes each."""


class InvalidPolicy(InvalidInput):
    code = "invalid_crossing_policy"
    message = _("The crossing policy is not valid: {problem}")


class PolicyExists(Conflict):
    code = "crossing_policy_exists"
    message = _("Version {version} of crossing policy {identifier} is already loaded.")


class PolicyNotFound(NotFound):
    code = "crossing_policy_not_found"
    message = _("There is no such crossing policy.")


class ForeignPolicy(InvalidInput):
    code = "foreign_crossing_policy"
    message = _("This crossing policy is for {theirs}; this platform decides crossings for "
                "{ours} (BORDERPASS_JURISDICTION).")


class NoCrossingPolicy(Conflict):
    code = "no_crossing_policy"
    message = _("The crossing policy in force has no rules for {control_point} {direction}.")


# --- the compiled policy ---------------------------------------------------------------

def _texts(items: list[Description]) -> dict[str, str]:
    return {_LOCALE[item.lang]: item.desc for item in items}


@dataclass(frozen=True)
class CrossingRule:
    """One compiled rule: when it applies, what it checks, and what it says."""

    identifier: str
    version: str
    outcome: str
    reason: str
    description: dict[str, str]
    met_reason: str
    met_description: dict[str, str]
    valid_from: datetime
    valid_to: datetime
    applies_logic: Any
    logic: Any
    applies: Compiled = field(init=False, compare=False, repr=False)
    check: Compiled = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "applies", compile_expression(self.applies_logic))
        object.__setattr__(self, "check", compile_expression(self.logic))


@dataclass(frozen=True)
class QuarantinePlace:
    code: str
    name: dict[str, str]
    control_points: frozenset[str] | None

    def serves(self, control_point: str) -> bool:
        return self.control_points is None or control_point in self.control_points


@dataclass(frozen=True)
class Crossing:
    """The rules of some control points in one direction."""

    control_points: tuple[str, ...]
    direction: str
    quarantine_days: int | None
    places: tuple[QuarantinePlace, ...]
    rules: tuple[CrossingRule, ...]

    def places_for(self, control_point: str) -> tuple[QuarantinePlace, ...]:
        """Return the quarantine places a traveller crossing here may be sent to."""
        return tuple(place for place in self.places if place.serves(control_point))


@dataclass(frozen=True)
class CrossingPolicy:
    """A validated, compiled crossing policy."""

    identifier: str
    version: str
    jurisdiction: str
    valid_from: datetime
    valid_to: datetime
    description: dict[str, str]
    crossings: tuple[Crossing, ...]
    digest: str
    _index: dict[tuple[str, str], Crossing] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {
            (point, crossing.direction): crossing
            for crossing in self.crossings for point in crossing.control_points})

    @property
    def name(self) -> str:
        return f"{self.identifier}@{self.version}"

    def crossing(self, control_point: str, direction: str) -> Crossing | None:
        """Return the rules for a control point and direction, if the policy has them."""
        return self._index.get((control_point, direction))


# --- reading and validating a document ---------------------------------------------------

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


def _check_logic(logic: Any, where: str) -> None:
    problems = validate(logic)
    if problems:
        raise InvalidPolicy(field=where, problem=f"{where}: {problems[0]}")
    paths: set[str] = set()
    _paths(logic, paths)
    for path in sorted(paths):
        if path == "external.validationClock":
            continue
        if not path.startswith("payload.") or path.removeprefix("payload.") not in FACT_FIELDS:
            raise InvalidPolicy(field=where, problem=f"{where}: unknown fact {path}")


def _check_texts(items: list[Description], where: str) -> None:
    if {item.lang for item in items} != set(LANGUAGES):
        raise InvalidPolicy(field=where,
                            problem=f"{where}: a text in zh-Hant, zh-Hans and en is needed")


def _check_crossing(document: CrossingPolicyDocument, index: int,
                    seen: set[tuple[str, str]]) -> None:
    crossing = document.crossings[index]
    where = f"Crossings.{index}"
    for point in crossing.control_points:
        if (point, crossing.direction) in seen:
            raise InvalidPolicy(field=f"{where}.ControlPoints",
                                problem=f"{where}: {point} {crossing.direction} has rules "
                                        "twice")
        seen.add((point, crossing.direction))
    identifiers: set[str] = set()
    for number, rule in enumerate(crossing.rules):
        place = f"{where}.Rules.{number}"
        if rule.identifier in identifiers:
            raise InvalidPolicy(field=f"{place}.Identifier",
                                problem=f"{place}: the identifier {rule.identifier} repeats")
        identifiers.add(rule.identifier)
        if rule.valid_to <= rule.valid_from:
            raise InvalidPolicy(field=f"{place}.ValidTo",
                                problem=f"{place}: ValidTo must be after ValidFrom")
        _check_texts(rule.description, f"{place}.Description")
        _check_texts(rule.met.description, f"{place}.Met.Description")
        _check_logic(rule.applies, f"{place}.Applies")
        _check_logic(rule.logic, f"{place}.Logic")
        for fact in rule.affected_fields:
            if fact not in FACT_FIELDS:
                raise InvalidPolicy(field=f"{place}.AffectedFields",
                                    problem=f"{place}.AffectedFields: unknown fact {fact}")
    quarantine = crossing.quarantine
    if quarantine is None:
        if any(rule.outcome == "quarantine" for rule in crossing.rules):
            raise InvalidPolicy(field=f"{where}.Quarantine",
                                problem=f"{where}: a rule leads to quarantine, so the "
                                        "Quarantine (days and places) is needed")
        return
    codes: set[str] = set()
    for number, place_document in enumerate(quarantine.places):
        place = f"{where}.Quarantine.Places.{number}"
        if place_document.code in codes:
            raise InvalidPolicy(field=f"{place}.Code",
                                problem=f"{place}: the code {place_document.code} repeats")
        codes.add(place_document.code)
        _check_texts(place_document.name, f"{place}.Name")
        outside = set(place_document.control_points or ()) - set(crossing.control_points)
        if outside:
            raise InvalidPolicy(field=f"{place}.ControlPoints",
                                problem=f"{place}: {', '.join(sorted(outside))} is not among "
                                        "the crossing's control points")
    for point in crossing.control_points:
        if not any(point in (p.control_points or crossing.control_points)
                   for p in quarantine.places):
            raise InvalidPolicy(field=f"{where}.Quarantine.Places",
                                problem=f"{where}: no quarantine place serves {point}")


def parse_policy(document: object) -> CrossingPolicyDocument:
    """Validate a crossing-policy document: its shape, every rule's CertLogic, the facts.

    Raises:
        InvalidPolicy: naming the first problem and its place.
    """
    try:
        parsed = CrossingPolicyDocument.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise InvalidPolicy(field=where, problem=f"{where}: {first['msg']}") from None
    if parsed.valid_to <= parsed.valid_from:
        raise InvalidPolicy(field="ValidTo", problem="ValidTo must be after ValidFrom")
    _check_texts(parsed.description, "Description")
    seen: set[tuple[str, str]] = set()
    for index in range(len(parsed.crossings)):
        _check_crossing(parsed, index, seen)
    return parsed


def load_json(content: bytes | str) -> object:
    """Read a policy file as JSON.

    Raises:
        InvalidPolicy: it is not JSON.
    """
    try:
        return json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidPolicy(field="document", problem=f"not JSON: {error}") from None


def compile_policy(document: CrossingPolicyDocument, digest: str = "") -> CrossingPolicy:
    """Turn a validated document into the form evaluation uses."""
    crossings = []
    for crossing in document.crossings:
        quarantine = crossing.quarantine
        crossings.append(Crossing(
            control_points=tuple(crossing.control_points), direction=crossing.direction,
            quarantine_days=quarantine.days if quarantine else None,
            places=tuple(
                QuarantinePlace(place.code, _texts(place.name),
                                frozenset(place.control_points) if place.control_points
                                else None)
                for place in (quarantine.places if quarantine else ())),
            rules=tuple(
                CrossingRule(
                    identifier=rule.identifier, version=rule.version, outcome=rule.outcome,
                    reason=rule.reason, description=_texts(rule.description),
                    met_reason=rule.met.reason, met_description=_texts(rule.met.description),
                    valid_from=rule.valid_from, valid_to=rule.valid_to,
                    applies_logic=rule.applies, logic=rule.logic)
                for rule in crossing.rules),
        ))
    return CrossingPolicy(
        identifier=document.identifier, version=document.version,
        jurisdiction=document.jurisdiction, valid_from=document.valid_from,
        valid_to=document.valid_to, description=_texts(document.description),
        crossings=tuple(crossings), digest=digest,
    )


def _canonical(document: CrossingPolicyDocument) -> str:
    return document.model_dump_json(by_alias=True)


def default_document() -> bytes:
    """Return the packaged Hong Kong crossing policy, as its file's bytes."""
    return resources.files("borderpass.crossing").joinpath("data", DEFAULT_POLICY).read_bytes()


@lru_cache(maxsize=1)
def default_policy() -> CrossingPolicy:
    """Return the packaged Hong Kong crossing policy, validated and compiled."""
    document = parse_policy(load_json(default_document()))
    text = _canonical(document)
    return compile_policy(document, hashlib.sha256(text.encode()).hexdigest())


# --- the facts and the evaluation ---------------------------------------------------------

@dataclass(frozen=True)
class EndorsementFacts:
    """What the policy sees of the endorsement presented."""

    number: str
    kind: str
    reason: str | None
    destination: str
    valid_from: datetime
    valid_until: datetime
    entries_left: int
    stay_days: int
    holder_matches: bool


@dataclass(frozen=True)
class CrossingFacts:
    """Everything the crossing rules may know about one traveller at one crossing.

    ``residence`` is where the presented document says the traveller lives: ``HK``
    (Hong Kong identity card or Home Return Permit), ``MO`` (Macau) or ``CN`` (mainland).
    ``checkin_days`` counts the last 14 Hong Kong days (before today) that the uploaded
    check-in records cover.
    """

    control_point: str
    direction: str
    jurisdiction: str
    residence: str
    document_kind: str
    code_result: str
    code_reason: str | None = None
    code_jurisdiction: str | None = None
    code_colour: str | None = None
    code_issued_at: datetime | None = None
    code_valid_until: datetime | None = None
    code_holder_matches: bool = False
    checkin_days: int = 0
    checkin_uploaded_at: datetime | None = None
    doses: int = 0
    last_dose_at: datetime | None = None
    quota_booked: bool = False
    endorsement: EndorsementFacts | None = None
    last_negative_at: datetime | None = None
    foreign_format: str | None = None
    """``dcc`` or ``shc`` when another issuer's certificate was presented instead of our code."""
    foreign_result: str | None = None
    foreign_reason: str | None = None
    foreign_accepted: bool = False
    foreign_kind: str | None = None
    foreign_holder_matches: bool | None = None


def certlogic_data(facts: CrossingFacts, now: datetime) -> dict[str, Any]:
    """Return the data context the crossing rules see: ``payload`` and ``external``."""
    endorsement = facts.endorsement
    return {
        "payload": {
            "crossing": {"controlPoint": facts.control_point, "direction": facts.direction,
                         "jurisdiction": facts.jurisdiction},
            "traveller": {"residence": facts.residence},
            "document": {"kind": facts.document_kind},
            "code": {"result": facts.code_result, "reason": facts.code_reason,
                     "jurisdiction": facts.code_jurisdiction, "colour": facts.code_colour,
                     "issuedAt": instant_text(facts.code_issued_at),
                     "validUntil": instant_text(facts.code_valid_until),
                     "holderMatches": facts.code_holder_matches},
            "checkin": {"days": facts.checkin_days,
                        "uploadedAt": instant_text(facts.checkin_uploaded_at)},
            "vaccinations": {"doses": facts.doses, "lastDose": instant_text(facts.last_dose_at)},
            "quota": {"booked": facts.quota_booked},
            "endorsement": {
                "present": endorsement is not None,
                "kind": endorsement.kind if endorsement else None,
                "reason": endorsement.reason if endorsement else None,
                "destination": endorsement.destination if endorsement else None,
                "validFrom": instant_text(endorsement.valid_from) if endorsement else None,
                "validUntil": instant_text(endorsement.valid_until) if endorsement else None,
                "entriesLeft": endorsement.entries_left if endorsement else 0,
                "stayDays": endorsement.stay_days if endorsement else 0,
                "holderMatches": endorsement.holder_matches if endorsement else False,
            },
            "tests": {"lastNegative": instant_text(facts.last_negative_at)},
            "foreign": {"present": facts.foreign_format is not None,
                        "format": facts.foreign_format, "result": facts.foreign_result,
                        "reason": facts.foreign_reason, "accepted": facts.foreign_accepted,
                        "kind": facts.foreign_kind,
                        "holderMatches": facts.foreign_holder_matches},
        },
        "external": {"validationClock": instant_text(now)},
    }


@dataclass(frozen=True)
class RuleResult:
    rule: CrossingRule
    met: bool


@dataclass(frozen=True)
class Judgement:
    """What a crossing's rules say about a traveller: the outcome and every rule applied."""

    outcome: str
    results: tuple[RuleResult, ...]
    crossing: Crossing
    policy: CrossingPolicy

    @property
    def reasons(self) -> list[tuple[str, str, dict[str, str]]]:
        """Return ``(code, rule, text by locale)`` for each reason of the outcome."""
        if self.outcome == "quarantine_free":
            return [(result.rule.met_reason, result.rule.identifier,
                     result.rule.met_description) for result in self.results]
        return [(result.rule.reason, result.rule.identifier, result.rule.description)
                for result in self.results
                if not result.met and result.rule.outcome == self.outcome]

    @property
    def reason_codes(self) -> list[str]:
        return [code for code, _rule, _text in self.reasons]


def _holds(check: Compiled, data: dict[str, Any], *, on_error: bool) -> bool:
    try:
        return check(data) is True
    except CertLogicError:
        return on_error


def evaluate(policy: CrossingPolicy, facts: CrossingFacts, now: datetime) -> Judgement:
    """Apply the policy's rules for the facts' control point and direction at ``now``.

    Args:
        policy: a validated, compiled crossing policy.
        facts: the traveller's facts at this crossing.
        now: the instant to judge at (aware).

    Returns:
        the outcome and each rule in force that applied, met or not.

    Raises:
        NoCrossingPolicy: the policy has no rules for that control point and direction.
    """
    crossing = policy.crossing(facts.control_point, facts.direction)
    if crossing is None:
        raise NoCrossingPolicy(field="control_point", control_point=facts.control_point,
                               direction=facts.direction)
    data = certlogic_data(facts, now)
    results = []
    for rule in crossing.rules:
        if not rule.valid_from <= now < rule.valid_to:
            continue
        # A rule whose applicability cannot be decided applies: doubt never lets anyone by.
        if not _holds(rule.applies, data, on_error=True):
            continue
        results.append(RuleResult(rule, _holds(rule.check, data, on_error=False)))
    failing = {result.rule.outcome for result in results if not result.met}
    outcome = ("refused" if "refused" in failing else
               "quarantine" if "quarantine" in failing else "quarantine_free")
    return Judgement(outcome, tuple(results), crossing, policy)


# --- versions ---------------------------------------------------------------------------

def view(row: CrossingPolicyVersion) -> PolicyView:
    return PolicyView(
        id=row.id, identifier=row.identifier, version=row.version,
        jurisdiction=row.jurisdiction, valid_from=row.valid_from, valid_to=row.valid_to,
        loaded_at=row.loaded_at, active=row.active, activated_at=row.activated_at,
        crossings=len(json.loads(row.document)["Crossings"]),
    )


def load(
    session: Session, content: bytes | str, *, officer: uuid.UUID | None, now: datetime,
    activate_now: bool = False,
) -> CrossingPolicyVersion:
    """Validate a crossing-policy document and keep it as a new version (inactive unless
    asked).

    Raises:
        InvalidPolicy: the document, a rule or its logic is not valid.
        PolicyExists: that identifier and version are already loaded.
    """
    document = parse_policy(load_json(content))
    if repository.find_policy(session, document.identifier, document.version) is not None:
        raise PolicyExists(field="Version", identifier=document.identifier,
                           version=document.version)
    text = _canonical(document)
    row = CrossingPolicyVersion(
        identifier=document.identifier, version=document.version,
        jurisdiction=document.jurisdiction, valid_from=document.valid_from,
        valid_to=document.valid_to, document=text,
        digest=hashlib.sha256(text.encode()).hexdigest(), loaded_at=now, loaded_by=officer,
        active=False,
    )
    repository.add(session, row)
    log.info("crossing.policy_loaded", policy=row.identifier, version=row.version,
             id=str(row.id))
    if activate_now:
        activate(session, row.id, officer=officer, now=now)
    return row


def activate(
    session: Session, policy_id: uuid.UUID, *, officer: uuid.UUID | None, now: datetime
) -> CrossingPolicyVersion:
    """Put a loaded crossing-policy version in force for its jurisdiction."""
    row = repository.get_policy(session, policy_id)
    if row is None:
        raise PolicyNotFound(field="policy_id")
    ours = get_settings().jurisdiction
    if row.jurisdiction != ours:
        raise ForeignPolicy(field="Jurisdiction", theirs=row.jurisdiction[:8], ours=ours)
    repository.deactivate_policies(session, row.jurisdiction)
    row.active = True
    row.activated_at = now
    session.flush()
    log.info("crossing.policy_activated", policy=row.identifier, version=row.version,
             officer=str(officer) if officer else None)
    return row


def list_policies(session: Session) -> list[PolicyView]:
    """List every version of every crossing policy, the latest loaded first."""
    return [view(row) for row in repository.all_policies(session)]


@lru_cache(maxsize=16)
def _compiled(digest: str, text: str) -> CrossingPolicy:
    return compile_policy(parse_policy(json.loads(text)), digest)


def active_policy(session: Session) -> CrossingPolicy:
    """Return the crossing policy in force (the packaged one if none is loaded)."""
    row = repository.active_policy(session, get_settings().jurisdiction)
    if row is None:
        return default_policy()
    return _compiled(row.digest, row.document)


def _rule_view(rule: CrossingRule, locale: str) -> dict[str, Any]:
    return {"identifier": rule.identifier, "version": rule.version, "outcome": rule.outcome,
            "reason": rule.reason, "requirement": rule.met_description.get(locale, ""),
            "failure": rule.description.get(locale, ""), "met_reason": rule.met_reason,
            "valid_from": rule.valid_from, "valid_to": rule.valid_to,
            "applies": rule.applies_logic, "logic": rule.logic}


def policy_view(policy: CrossingPolicy, *, locale: str) -> dict[str, Any]:
    """Describe a policy for officers: per crossing, its rules and quarantine, in ``locale``."""
    return {
        "name": policy.name, "identifier": policy.identifier, "version": policy.version,
        "jurisdiction": policy.jurisdiction, "description": policy.description.get(locale, ""),
        "valid_from": policy.valid_from, "valid_to": policy.valid_to, "digest": policy.digest,
        "crossings": [
            {"control_points": list(crossing.control_points), "direction": crossing.direction,
             "quarantine_days": crossing.quarantine_days,
             "places": [{"code": place.code, "name": place.name.get(locale, place.code),
                         "control_points": sorted(place.control_points)
                         if place.control_points else None}
                        for place in crossing.places],
             "rules": [_rule_view(rule, locale) for rule in crossing.rules]}
            for crossing in policy.crossings
        ],
    }
