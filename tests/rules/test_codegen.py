"""Rules written out as Python source give what the CertLogic interpreter gives: the whole
official suite, random expressions on random data, and whole rule sets (the packaged one,
those other tests use, and one of CertLogic's other operations) on many fact sets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bench.evaluate import synthetic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderpass.evidence.schemas import PersonFacts
from borderpass.rules import codegen
from borderpass.rules.certlogic import INVALID_EXPRESSION, CertLogicError, evaluate
from borderpass.rules.codegen import _MAX_NESTING, compile_failing, compile_source
from borderpass.rules.ruleset import RuleSet, default_rule_set
from borderpass.rules.status import certlogic_data, instant_text
from tests.rules.test_certlogic import (
    _EXPRESSIONS,
    _JSON,
    _evaluator_assertions,
    _json_equal,
    _validation_cases,
)
from tests.rules.test_changes import MONTHS, VARIED, _facts, _rule, _rule_set
from tests.rules.test_other_rule_sets import OTHER

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
CLOCK = {"plusTime": [{"var": "external.validationClock"}, 0, "hour"]}


@pytest.mark.parametrize(("expression", "data", "expected"), _evaluator_assertions())
def test_evaluator_suite_from_source(expression: Any, data: Any, expected: Any) -> None:
    result = compile_source(expression)(data)
    assert _json_equal(result, expected), f"got {result!r}, expected {expected!r}"


@pytest.mark.parametrize(("expression", "messages"), _validation_cases())
def test_invalid_expressions_are_not_written(expression: Any, messages: list[str]) -> None:
    if not messages:
        compile_source(expression)
        return
    with pytest.raises(CertLogicError) as caught:
        compile_source(expression)
    assert caught.value.reason == INVALID_EXPRESSION


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        return "value", run()
    except CertLogicError as error:
        return "error", (error.reason, error.message)


def _same(expression: Any, data: Any) -> None:
    interpreted = _outcome(lambda: evaluate(expression, data))
    try:
        written = compile_source(expression)
    except CertLogicError as error:
        assert interpreted == ("error", (error.reason, error.message))
        return
    outcome = _outcome(lambda: written(data))
    if interpreted[0] == "value" and outcome[0] == "value":
        assert _json_equal(outcome[1], interpreted[1]) or outcome[1] == interpreted[1]
    else:
        assert outcome == interpreted  # the same error, reason and message


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=_EXPRESSIONS | _JSON, data=_JSON)
def test_source_and_interpreter_agree(expression: Any, data: Any) -> None:
    _same(expression, data)


def test_deep_expressions_run_their_closures_past_the_nesting_limit() -> None:
    expression: Any = {"var": "payload.tests.lastNegative"}
    for _ in range(3 * _MAX_NESTING):
        expression = {"!": [{"!": [expression]}]}
    for value in (None, "x", "", 0, 3, [1]):
        _same(expression, {"payload": {"tests": {"lastNegative": value}}})
    _same({"and": [{"var": "a"}] * 40 + [{"var": "b.c"}]}, {"a": 1, "b": {"c": "x"}})


def test_facts_are_read_as_the_interpreter_reads_them() -> None:
    # Plain dicts, anything else on the way, arrays by index, and the whole context.
    for path in ("a.b.c", "a.b", "a.0", "a", "", "a.b.c.d"):
        expression = {"var": path}
        for data in ({"a": {"b": {"c": 5}}}, {"a": {"b": [1]}}, {"a": [{"b": 2}]},
                     {"a": "text"}, None, [1, 2], {"a": {"b": None}}, {"a": {"b": {"c": {
                         "d": True}}}}):
            _same(expression, data)


# CertLogic's operations that the status rules seldom use, on the facts a rule may read.
OTHER_OPERATIONS = _rule_set("OPERATIONS", [
    _rule("O-REGION", "red", {"in": [{"var": "payload.highRiskVisit.region"},
                                      ["CN-GD", "TW", "MO"]]}),
    _rule("O-REFERENCE", "amber", {"!": [{"===": [{"var": "payload.testingOrder.reference"},
                                                  "ORDER"]}]}),
    _rule("O-DOSES", "amber", {"and": [{"<": [0, {"var": "payload.vaccinations.doses"}, 4]},
                                       {"+": [{"var": "payload.vaccinations.doses"}, 1]}]}),
    _rule("O-KINDS", "red", {"reduce": [{"var": "payload.flags.kinds"}, {"+": [1, 2]}, True]}),
    _rule("O-CHAIN", "red", {"if": [{"var": "payload.tests.lastNegative"},
                                    {"not-after": [{"plusTime": [
                                        {"var": "payload.tests.lastNegative"}, -1, "year"]},
                                        CLOCK, {"plusTime": [
                                            {"var": "payload.tests.lastNegative"}, 2, "month"]}]},
                                    {"after": [CLOCK, {"plusTime": ["2026-11-26", 1, "day"]}]}]},
          valid_from="2026-11-25T00:00:00+08:00", valid_to="2026-11-29T12:00:00-05:00"),
])

RULE_SETS: dict[str, RuleSet] = {
    "default": default_rule_set(), "varied": VARIED, "months": MONTHS,
    "other": _rule_set("OTHER", OTHER["Rules"]), "operations": OTHER_OPERATIONS,
}


def _interpreted(rule_set: RuleSet, data: dict[str, Any], at: datetime, bits: int) -> int:
    mask = 0
    for index, rule in enumerate(rule_set.rules):
        bit = 1 << index
        if not bits & bit or not rule.valid_from <= at < rule.valid_to:
            continue
        try:
            passed = evaluate(rule.logic, data) is True
        except CertLogicError:
            passed = False
        if not passed:
            mask |= bit
    return mask


def _interpreted_rules(rules: list[tuple[int, datetime, datetime, Any]], data: Any,
                       at: datetime, bits: int) -> int:
    mask = 0
    for bit, valid_from, valid_to, logic in rules:
        if bits & bit and valid_from <= at < valid_to:
            try:
                mask |= 0 if evaluate(logic, data) is True else bit
            except CertLogicError:
                mask |= bit
    return mask


def _agree(rule_set: RuleSet, facts: PersonFacts, at: datetime, bits: int) -> None:
    data = certlogic_data(facts)
    data["external"]["validationClock"] = instant_text(at)
    assert rule_set.failing(data, at, bits) == _interpreted(rule_set, data, at, bits)


_at = st.builds(lambda us: NOW + timedelta(microseconds=us),
                st.integers(min_value=-5 * 86_400_000_000, max_value=5 * 86_400_000_000))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=_facts(), at=_at, name=st.sampled_from(sorted(RULE_SETS)),
       bits=st.integers(min_value=0, max_value=255))
def test_rule_sets_from_source_agree_with_the_interpreter(facts: PersonFacts, at: datetime,
                                                          name: str, bits: int) -> None:
    _agree(RULE_SETS[name], facts, at, bits)


def test_a_synthetic_population_fails_the_rules_the_interpreter_fails() -> None:
    rng = random.Random(11)  # noqa: S311 - a repeatable synthetic population, not a secret
    for _ in range(1000):
        facts = synthetic(rng, NOW)
        for rule_set in RULE_SETS.values():
            _agree(rule_set, facts, NOW + timedelta(hours=rng.uniform(-72, 72)), -1)


def test_rules_out_of_force_neither_pass_nor_fail() -> None:
    # O-CHAIN is in force from 2026-11-24T16:00Z to 2026-11-29T17:00Z only.
    rule_set = OTHER_OPERATIONS
    chain = 1 << 4
    facts = synthetic(random.Random(3), NOW)  # noqa: S311 - a fixed example
    data = certlogic_data(facts)
    for at in (datetime(2026, 11, 24, 15, 59, 59, tzinfo=UTC),
               datetime(2026, 11, 29, 17, 0, tzinfo=UTC)):
        data["external"]["validationClock"] = instant_text(at)
        assert rule_set.failing(data, at, chain) == 0
    at = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    data["external"]["validationClock"] = instant_text(at)
    assert rule_set.failing(data, at, chain) == _interpreted(rule_set, data, at, chain)


def test_rules_python_cannot_parse_run_as_closures(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the limits, an ``and`` of 300 operands nests its source past what Python's
    # parser takes: the closures decide instead.
    monkeypatch.setattr(codegen, "_MAX_NESTING", 10_000)
    monkeypatch.setattr(codegen, "_MAX_CONJUNCTION", 10_000)
    long = {"and": [{"var": "payload.vaccinations.doses"}] * 300}
    rules = [(1, NOW - timedelta(days=1), NOW + timedelta(days=1), long),
             (2, NOW - timedelta(days=1), NOW + timedelta(days=1), {"!": [True]})]
    with pytest.raises((SyntaxError, RecursionError, MemoryError)):
        codegen._failing_source(rules)
    failing = compile_failing(rules)
    for doses in (0, 2):
        data = {"payload": {"vaccinations": {"doses": doses}}}
        assert failing(data, NOW, 3) == _interpreted_rules(rules, data, NOW, 3)
