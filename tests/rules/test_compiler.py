"""The compiled form of CertLogic against the whole official suite and the interpreter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from borderpass.rules.certlogic import INVALID_EXPRESSION, CertLogicError, evaluate
from borderpass.rules.compiler import compile_expression
from tests.rules.test_certlogic import (
    _EXPRESSIONS,
    _JSON,
    _evaluator_assertions,
    _json_equal,
    _validation_cases,
)


@pytest.mark.parametrize(("expression", "data", "expected"), _evaluator_assertions())
def test_evaluator_suite_compiled(expression: Any, data: Any, expected: Any) -> None:
    result = compile_expression(expression)(data)
    assert _json_equal(result, expected), f"got {result!r}, expected {expected!r}"


@pytest.mark.parametrize(("expression", "messages"), _validation_cases())
def test_invalid_expressions_do_not_compile(expression: Any, messages: list[str]) -> None:
    if not messages:
        compile_expression(expression)
        return
    with pytest.raises(CertLogicError) as caught:
        compile_expression(expression)
    assert caught.value.reason == INVALID_EXPRESSION
    for message in messages:
        assert message in caught.value.problems


@pytest.mark.parametrize("amount", [10**20, -(10**20), 10**9, 3_000_000 * 24])
@pytest.mark.parametrize("unit", ["hour", "day", "month", "year"])
def test_shifts_out_of_range_are_evaluation_errors(amount: int, unit: str) -> None:
    expression = {"plusTime": ["2021-06-01T00:00:00Z", amount, unit]}
    with pytest.raises(CertLogicError) as compiled:
        compile_expression(expression)(None)
    with pytest.raises(CertLogicError) as interpreted:
        evaluate(expression, None)
    assert (compiled.value.reason, compiled.value.message) == (
        interpreted.value.reason, interpreted.value.message)


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        return "value", run()
    except CertLogicError as error:
        return "error", (error.reason, error.message)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=_EXPRESSIONS | _JSON, data=_JSON)
def test_compiled_and_interpreted_agree(expression: Any, data: Any) -> None:
    interpreted = _outcome(lambda: evaluate(expression, data))
    try:
        compiled = compile_expression(expression)
    except CertLogicError as error:
        assert interpreted == ("error", (error.reason, error.message))
        return
    outcome = _outcome(lambda: compiled(data))
    if interpreted[0] == "value" and outcome[0] == "value":
        assert _json_equal(outcome[1], interpreted[1]) or outcome[1] == interpreted[1]
    else:
        assert outcome == interpreted
