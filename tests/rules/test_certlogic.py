"""Run the official CertLogic test suites, plus property tests, against our evaluator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderpass.rules.certlogic import (
    EVALUATION_ERROR,
    INVALID_DATE_TIME,
    INVALID_EXPRESSION,
    MAX_DEPTH,
    CertLogicError,
    evaluate,
    is_valid,
    validate,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "certlogic"


def _load(folder: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.stem, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((VECTORS / folder).glob("*.json"))
    ]


def _evaluator_assertions() -> list[Any]:
    params = []
    for stem, suite in _load("testSuite"):
        seen: dict[str, int] = {}
        for case in suite["cases"]:
            name = case["name"]
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name} ({seen[name]})"
            for index, assertion in enumerate(case["assertions"]):
                skip = "skip" in (
                    suite.get("directive"),
                    case.get("directive"),
                    assertion.get("directive"),
                )
                expression = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                marks = [pytest.mark.skip(reason='directive "skip" in the suite')] if skip else []
                params.append(
                    pytest.param(
                        expression,
                        assertion["data"],
                        assertion["expected"],
                        id=f"{stem}::{name}::{index}",
                        marks=marks,
                    )
                )
    return params


def _validation_cases() -> list[Any]:
    params = []
    for stem, suite in _load("validation-testSuite"):
        for index, case in enumerate(suite["cases"]):
            skip = "skip" in (suite.get("directive"), case.get("directive"))
            params.append(
                pytest.param(
                    case["certLogicExpression"],
                    [issue["message"] for issue in case["issues"]],
                    id=f"{stem}::{index}",
                    marks=[pytest.mark.skip(reason='directive "skip"')] if skip else [],
                )
            )
    return params


def _json_equal(actual: Any, expected: Any) -> bool:
    """Compare as JSON values: 1 equals 1.0, but true is not 1 and 0 is not false."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, int | float):
        return isinstance(actual, int | float) and actual == expected
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_json_equal(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(_json_equal(actual[key], expected[key]) for key in expected)
        )
    return False


def test_the_suites_are_all_there() -> None:
    assert len(_load("testSuite")) == 14
    assert len(_evaluator_assertions()) > 200
    assert len(_validation_cases()) >= 20


@pytest.mark.parametrize(("expression", "data", "expected"), _evaluator_assertions())
def test_evaluator_suite(expression: Any, data: Any, expected: Any) -> None:
    result = evaluate(expression, data)
    assert _json_equal(result, expected), f"got {result!r}, expected {expected!r}"


@pytest.mark.parametrize(("expression", "messages"), _validation_cases())
def test_validation_suite(expression: Any, messages: list[str]) -> None:
    problems = validate(expression)
    assert is_valid(expression) is (not messages)
    assert bool(problems) is bool(messages)
    for message in messages:  # our messages at the top level are the suite's own
        assert message in problems
    if messages:
        with pytest.raises(CertLogicError) as caught:
            evaluate(expression, {})
        assert caught.value.reason == INVALID_EXPRESSION


# --------------------------------------------------------------------------- spot checks


def _at(text: str) -> datetime:
    return evaluate({"plusTime": [text, 0, "day"]}, None)  # type: ignore[no-any-return]


def test_date_times_are_aware_utc_with_milliseconds() -> None:
    value = _at("2021-06-01T12:34:56.789999+02:30")
    assert value == datetime(2021, 6, 1, 10, 4, 56, 789000, tzinfo=UTC)
    assert value.utcoffset() is not None and value.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2021", "2021-12-31T00:00:00"),
        ("2021-02", "2021-02-28T00:00:00"),
        ("2020-02", "2020-02-29T00:00:00"),
        ("2021-06-01", "2021-06-01T00:00:00"),
        ("2021-06-01T10:00:00", "2021-06-01T10:00:00"),
        ("2021-06-01T10:00:00Z", "2021-06-01T10:00:00"),
        ("2021-06-01T10:00:00+2", "2021-06-01T08:00:00"),
        ("2021-06-01T10:00:00-02", "2021-06-01T12:00:00"),
        ("2021-06-01T10:00:00+230", "2021-06-01T07:30:00"),
        ("2021-06-01T10:00:00+0230", "2021-06-01T07:30:00"),
        ("2021-06-01T10:00:00+2:30", "2021-06-01T07:30:00"),
        ("2021-06-01T10:00:00-02:30", "2021-06-01T12:30:00"),
        ("2021-06-01T10:00:00.5", "2021-06-01T10:00:00.500"),
        ("2021-06-01T10:00:00.123456789Z", "2021-06-01T10:00:00.123"),
        ("2021-06-01T10:00:00.9999+01", "2021-06-01T09:00:00.999"),
    ],
)
def test_allowed_date_time_formats(text: str, utc: str) -> None:
    assert _at(text) == datetime.fromisoformat(utc).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "21",
        "2021-6-01",
        "2021-13",
        "2021-09-99",
        "2021-02-29",
        "0000-01-01",
        "2021-06-01T10:00",
        "2021-06-01T24:00:00",
        "2021-06-01T10:00:60",
        "2021-06-01 10:00:00",
        "2021-06-01Z",
        "2021-06-01T10:00:00+",
        "2021-06-01T10:00:00+12:3",
        "2021-06-01T10:00:00+12345",
        "2021-06-01T10:00:00+24:00",
        "2021-06-01T10:00:00+01:60",
        "2021-06-01T10:00:00.",
        "2021-06-01T10:00:00\n",
        "２０２１-06-01",
    ],
)
def test_invalid_date_times_raise(text: str) -> None:
    with pytest.raises(CertLogicError) as caught:
        _at(text)
    assert caught.value.reason == INVALID_DATE_TIME


@pytest.mark.parametrize(
    ("start", "amount", "unit", "result"),
    [
        ("2020-02-29", 1, "day", "2020-03-01"),
        ("2020-02-29", 1, "month", "2020-03-29"),
        ("2020-02-29", 1, "year", "2021-03-01"),
        ("2020-02-29", 4, "year", "2024-02-29"),
        ("2021-01-31", 1, "month", "2021-03-03"),
        ("2021-03-31", -1, "month", "2021-03-03"),
        ("2021-01-15", -13, "month", "2019-12-15"),
        ("2021-01-01T00:00:00+01:00", 1, "month", "2021-01-31T23:00:00"),
        ("2021-03-28T00:30:00Z", 2, "hour", "2021-03-28T02:30:00"),
        ("2021-12-31T23:00:00Z", 1, "hour", "2022-01-01T00:00:00"),
    ],
)
def test_plus_time_offsets(start: str, amount: int, unit: str, result: str) -> None:
    value = evaluate({"plusTime": [start, amount, unit]}, None)
    assert value == datetime.fromisoformat(result).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "unit"), [(10**30, "hour"), (-(10**9), "day"), (10**6, "year"), (-(10**5), "month")]
)
def test_plus_time_out_of_range_raises(amount: int, unit: str) -> None:
    with pytest.raises(CertLogicError) as caught:
        evaluate({"plusTime": ["2021-01-01", amount, unit]}, None)
    assert caught.value.reason == EVALUATION_ERROR


@pytest.mark.parametrize(
    ("expression", "data"),
    [
        ({"!": [{"var": ""}]}, 1.5),
        ({"and": [{"var": ""}, True]}, 0.5),
        ({"!": [{"plusTime": ["2021", 0, "day"]}]}, None),
        ({"<": [{"var": ""}, 1]}, None),
        ({"<": [{"var": ""}, 1]}, True),
        ({"<": [{"var": ""}, 1]}, "0"),
        ({"after": [{"var": ""}, {"plusTime": ["2021", 0, "day"]}]}, "2022"),
        ({"before": [1, 2]}, None),
        ({"+": [{"var": ""}, 1]}, None),
        ({"+": [{"var": ""}, 1]}, True),
        ({"in": ["a", {"var": ""}]}, None),
        ({"in": ["a", {"var": ""}]}, "abc"),
        ({"===": [{"var": "0"}, {"var": "1"}]}, [[1], [1]]),
        ({"===": [{"var": "0"}, {"var": "1"}]}, [{}, {}]),
        ({"reduce": [{"var": ""}, 0, 0]}, "abc"),
        ({"extractFromUVCI": [{"var": ""}, 0]}, 42),
        ({"plusTime": [{"var": ""}, 0, "day"]}, None),
        ({"plusTime": [{"plusTime": ["2021", 0, "day"]}, 0, "day"]}, None),
        ({"dccDateOfBirth": [{"var": ""}]}, None),
        ({"dccDateOfBirth": [{"var": ""}]}, "2021-06-01T00:00:00Z"),
    ],
)
def test_type_mismatches_raise(expression: Any, data: Any) -> None:
    with pytest.raises(CertLogicError):
        evaluate(expression, data)


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        ({"===": [{"var": ""}, 1]}, True, False),
        ({"===": [{"var": ""}, 1]}, 1.0, True),
        ({"===": [{"var": "0"}, {"var": "1"}]}, [None, None], True),
        ({"===": [{"var": ""}, "a"]}, ["a"], False),
        ({"in": [{"var": ""}, [1, "1", True]]}, 1.0, True),
        ({"in": [True, [1, "true"]]}, None, False),
        ({"in": ["a", {"var": ""}]}, [["a"], {"a": 1}, "a"], True),
        ({"<": [{"var": "0"}, {"var": "1"}]}, [1.0, 2], True),
        ({"+": [{"var": ""}, 1]}, 2.0, 3),
        ({"if": [{"var": ""}, 1, 2]}, 0.5, 2),
        ({"var": "a.1"}, {"a": "xyz"}, None),
        ({"var": "a.01"}, {"a": [0, 1]}, 1),
        ({"var": "a.-1"}, {"a": [0, 1]}, None),
        ({"var": "a.0"}, {"a": {"0": "zero"}}, "zero"),
        ({"var": "1"}, [0, 1, 2], 1),
        ({"reduce": [{"var": "x"}, {"+": [{"var": "accumulator"}, 1]}, 0]}, {"x": [5, 6]}, 2),
        ({"extractFromUVCI": ["urn:uvci:01:NL:187", 0]}, None, "urn"),
        ({"extractFromUVCI": ["URN:UVCI:01:NL:187", 0]}, None, "01"),
        (17.0, None, 17),
    ],
)
def test_judgement_calls(expression: Any, data: Any, expected: Any) -> None:
    assert _json_equal(evaluate(expression, data), expected)


def test_date_of_birth_is_last_consistent_date() -> None:
    assert evaluate({"dccDateOfBirth": ["1964"]}, None) == datetime(1964, 12, 31, tzinfo=UTC)
    assert evaluate({"dccDateOfBirth": ["1964-02"]}, None) == datetime(1964, 2, 29, tzinfo=UTC)
    assert evaluate({"dccDateOfBirth": ["1964-02-03"]}, None) == datetime(1964, 2, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression",
    [
        {"var": "x..y"},
        {"var": ".x"},
        {"var": ["x"]},
        {"if": [True, 1]},
        {"and": [True]},
        {"!": []},
        {"!": [True, False]},
        {"===": [1, 1, 1]},
        {"in": [1]},
        {"+": [1, 2, 3]},
        {"<": [1]},
        {"<": [1, 2, 3, 4]},
        {"after": [1]},
        {"plusTime": ["2021", 1, "week"]},
        {"plusTime": ["2021", "1", "day"]},
        {"plusTime": ["2021", True, "day"]},
        {"plusTime": ["2021", {"var": "n"}, "day"]},
        {"plusTime": ["2021", 1.5, "day"]},
        {"extractFromUVCI": ["x", "0"]},
        {"dccDateOfBirth": []},
        {"reduce": [[], 0]},
        {"!==": [1, 2]},
        {"or": [True, False]},
        {"var": "x", "if": []},
        [1, None],
        {"and": [True, 3.5]},
        {1: [2]},
        (1, 2),
        {"if": [True, [{"!": []}], 0]},
    ],
)
def test_invalid_expressions(expression: Any) -> None:
    assert validate(expression)
    with pytest.raises(CertLogicError) as caught:
        evaluate(expression, {"x": 1})
    assert caught.value.reason == INVALID_EXPRESSION


def test_nested_problems_say_where() -> None:
    assert validate({"and": [True, {"!": []}]}) == [
        'an "!" operation must have exactly 1 operands, not 0 (at $.and[1])'
    ]


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    deep: Any = True
    for _ in range(10_000):
        deep = {"!": [deep]}
    assert validate(deep)
    with pytest.raises(CertLogicError):
        evaluate(deep, None)
    nested: Any = []
    for _ in range(10_000):
        nested = [nested]
    assert validate(nested)
    shallow: Any = True
    for _ in range(MAX_DEPTH - 1):
        shallow = {"!": [shallow]}
    assert evaluate(shallow, None) is ((MAX_DEPTH - 1) % 2 == 0)


def test_deep_data_is_fine() -> None:
    data: Any = 1
    for _ in range(10_000):
        data = {"a": data}
    assert evaluate({"var": "a.a.a"}, data) is data["a"]["a"]["a"]
    assert evaluate({"!": [{"var": ""}]}, data) is False


# --------------------------------------------------------------------------- properties

_OPERATORS = [
    "var", "if", "===", "and", "<", ">", "<=", ">=", "in", "+", "!", "after", "before",
    "not-after", "not-before", "plusTime", "reduce", "extractFromUVCI", "dccDateOfBirth",
    "!==", "or", "all",
]  # fmt: skip
_DATE_STRINGS = st.sampled_from(
    ["2021", "2020-02", "2020-02-29", "2021-06-01T10:00:00+02", "2021-13", "2021-06-01T25:00:00"]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | _DATE_STRINGS
    | st.sampled_from(["year", "month", "day", "hour", "x", "x.0", "current", "accumulator"])
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["x", "y", "0", "current", "a"]), inner, max_size=4)
    ),
    max_leaves=20,
)


def _operations(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    any_operation = st.builds(
        lambda op, args: {op: args}, st.sampled_from(_OPERATORS), st.lists(inner, max_size=4)
    )
    var = st.builds(lambda path: {"var": path}, _SCALARS | st.sampled_from(["", "x.y", "0.x"]))
    # well-formed shapes, so that evaluation gets past validation often
    plus_time = st.builds(
        lambda a, n, u: {"plusTime": [a, n, u]},
        inner | _DATE_STRINGS,
        st.integers(-(10**6), 10**6) | st.sampled_from([10**20, 1.0, 1.5, True]),
        st.sampled_from(["year", "month", "day", "hour", "week"]),
    )
    fixed = (
        st.builds(
            lambda op, args: {op: args},
            st.sampled_from(["if", "reduce"]),
            st.lists(inner, min_size=3, max_size=3),
        )
        | st.builds(
            lambda op, args: {op: args},
            st.sampled_from(["===", "in", "+", "and", "<", "after", "not-before", ">="]),
            st.lists(inner, min_size=2, max_size=3),
        )
        | st.builds(lambda op, arg: {op: [arg]}, st.sampled_from(["!", "dccDateOfBirth"]), inner)
        | st.builds(lambda arg, n: {"extractFromUVCI": [arg, n]}, inner, st.integers(-2, 6))
    )
    return any_operation | var | plus_time | fixed


_EXPRESSIONS = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | _operations(inner), max_leaves=25
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=_EXPRESSIONS | _JSON, data=_JSON)
def test_evaluate_raises_only_certlogic_errors(expression: Any, data: Any) -> None:
    problems = validate(expression)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
    try:
        evaluate(expression, data)
    except CertLogicError as error:
        assert error.reason in (INVALID_EXPRESSION, EVALUATION_ERROR, INVALID_DATE_TIME)
        assert (error.reason == INVALID_EXPRESSION) is bool(problems)
    else:
        assert not problems


@settings(max_examples=200, deadline=None)
@given(expression=st.from_type(object) | _JSON)
def test_validate_never_raises(expression: Any) -> None:
    problems = validate(expression)
    assert isinstance(problems, list)
    assert is_valid(expression) is (not problems)
