"""CertLogic compiled to Python closures, once per rule set, for evaluating millions of people.

:func:`compile_expression` turns a validated expression into a function of the data
context that gives exactly what :func:`borderpass.rules.certlogic.evaluate` gives, and
raises the same :class:`~borderpass.rules.certlogic.CertLogicError` where it raises: the
operations are the interpreter's own helpers, only the walk over the expression tree is
done once instead of on every evaluation. The whole CertLogic test suite runs against
both (``tests/rules/test_compiler.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from borderpass.rules.certlogic import (
    _ARRAY_INDEX,
    _DATE_TIME_COMPARISONS,
    _INTEGER_COMPARISONS,
    _OPERATIONS,
    _ORDERINGS,
    EVALUATION_ERROR,
    INVALID_EXPRESSION,
    CertLogicError,
    _DateTime,
    _describe,
    _is_integer,
    _offset,
    _parse_date_time,
    _truthiness,
    validate,
)

__all__ = ["Compiled", "compile_expression"]

Compiled = Callable[[Any], Any]
"""A compiled expression: the data context in, the value out."""


def compile_expression(expression: object) -> Compiled:
    """Compile a CertLogic expression into a function of the data context.

    Args:
        expression: a CertLogic expression, as :func:`json.loads` gives it.

    Returns:
        a function that evaluates the expression on a data context exactly as
        :func:`~borderpass.rules.certlogic.evaluate` does.

    Raises:
        CertLogicError: ``invalid_expression`` when the expression is not valid CertLogic.
    """
    problems = validate(expression)
    if problems:
        shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
        raise CertLogicError(
            INVALID_EXPRESSION, f"invalid CertLogic expression: {shown}", tuple(problems)
        )
    inner = _compile(expression)

    def run(data: Any) -> Any:
        try:
            return inner(data)
        except RecursionError as error:  # a safety net: validation already bounds the depth
            raise CertLogicError(EVALUATION_ERROR, "evaluation nested too deeply") from error

    return run


def _constant(value: Any) -> Compiled:
    return lambda _data: value


def _compile(expression: Any) -> Compiled:
    if isinstance(expression, bool | str):
        return _constant(expression)
    if isinstance(expression, int | float):
        return _constant(int(expression))
    if isinstance(expression, list):
        items = tuple(_compile(item) for item in expression)
        return lambda data: [item(data) for item in items]
    ((operator, operands),) = expression.items()
    if operator == "var":
        return _var(operands)
    special = _COMPILERS.get(operator)
    if special is not None:
        return special(operator, operands)
    # Operations without a compiled form of their own run the interpreter's helper.
    helper = _OPERATIONS[operator]
    return lambda data: helper(operator, operands, data)


def _var(path: str) -> Compiled:
    if path == "":
        return lambda data: data
    fragments = tuple(
        (fragment, int(fragment) if _ARRAY_INDEX.fullmatch(fragment) else None)
        for fragment in path.split(".")
    )

    if len(fragments) == 2 and all(index is None for _, index in fragments):
        (head, _), (tail, _) = fragments
        walk = _walk(fragments)

        def access_two(data: Any) -> Any:
            # ``external.validationClock``: read by nearly every rule, at every instant tried.
            if type(data) is dict:
                middle = data.get(head)
                if type(middle) is dict:
                    return middle.get(tail)
            return walk(data)

        return access_two

    if len(fragments) == 3 and all(index is None for _, index in fragments):
        (first, _), (second, _), (third, _) = fragments
        generic = _walk(fragments)

        def access_three(data: Any) -> Any:
            # The data context is plain dicts: walk them directly, else as the interpreter does.
            if type(data) is dict:
                middle = data.get(first)
                if type(middle) is dict:
                    last = middle.get(second)
                    if type(last) is dict:
                        return last.get(third)
            return generic(data)

        return access_three
    return _walk(fragments)


def _walk(fragments: tuple[tuple[str, int | None], ...]) -> Compiled:
    def access(data: Any) -> Any:
        current = data
        for fragment, index in fragments:
            if type(current) is dict or isinstance(current, Mapping):
                current = current.get(fragment)
            elif index is not None and isinstance(current, list | tuple):
                current = current[index] if index < len(current) else None
            else:
                return None
            if current is None:
                return None
        return current

    return access


def _truthy(value: Any) -> bool | None:
    # The common cases first; everything else as the interpreter decides it.
    if value is None or value is False:
        return False
    if value is True:
        return True
    if type(value) is str:
        return value != ""
    return _truthiness(value)


def _if(_operator: str, operands: list[Any]) -> Compiled:
    guard, then, otherwise = (_compile(operand) for operand in operands)
    return lambda data: then(data) if _truthy(guard(data)) is True else otherwise(data)


def _and(_operator: str, operands: list[Any]) -> Compiled:
    compiled = tuple(_compile(operand) for operand in operands)

    def conjunction(data: Any) -> Any:
        value: Any = None
        for operand in compiled:
            value = operand(data)
            truthy = _truthy(value)
            if truthy is None:
                raise CertLogicError(
                    EVALUATION_ERROR,
                    f'"and" operand is neither truthy nor falsy: {_describe(value)}',
                )
            if not truthy:
                return value
        return value

    return conjunction


def _not(_operator: str, operands: list[Any]) -> Compiled:
    operand = _compile(operands[0])

    def negation(data: Any) -> bool:
        value = operand(data)
        truthy = _truthy(value)
        if truthy is None:
            raise CertLogicError(
                EVALUATION_ERROR, f'"!" operand is neither truthy nor falsy: {_describe(value)}'
            )
        return not truthy

    return negation


def _compare(operator: str, operands: list[Any]) -> Compiled:
    compiled = tuple(_compile(operand) for operand in operands)
    holds = _ORDERINGS[operator]
    integers = operator in _INTEGER_COMPARISONS

    def check(value: Any) -> Any:
        if integers:
            if not _is_integer(value):
                raise CertLogicError(
                    EVALUATION_ERROR,
                    f'operands of "{operator}" must be integers, not {_describe(value)}',
                )
            return int(value)
        if not isinstance(value, _DateTime):
            raise CertLogicError(
                EVALUATION_ERROR,
                f'operands of "{operator}" must be date-times, not {_describe(value)}',
            )
        return value

    if len(compiled) == 2:
        left, right = compiled

        def pair(data: Any) -> bool:
            # Both operands are evaluated and checked before comparing, as the interpreter does.
            a, b = left(data), right(data)
            return bool(holds(check(a), check(b)))

        return pair

    def chain(data: Any) -> bool:
        keys = [check(value) for value in [operand(data) for operand in compiled]]
        return all(holds(a, b) for a, b in zip(keys, keys[1:], strict=False))

    return chain


def _plus_time(_operator: str, operands: list[Any]) -> Compiled:
    operand = _compile(operands[0])
    shift = shifter(int(operands[1]), operands[2])
    return lambda data: shift(operand(data))


def shifter(amount: int, unit: str) -> Callable[[Any], _DateTime]:
    """Return ``plusTime`` of an evaluated operand by ``amount`` ``unit``s: its text read as
    a date-time and shifted, as the interpreter does it."""
    def parse(text: Any) -> _DateTime:
        if not isinstance(text, str):
            raise CertLogicError(
                EVALUATION_ERROR, f'"plusTime" needs a date(-time) string, not {_describe(text)}'
            )
        return _parse_date_time(text)

    if amount == 0:
        # A parsed date-time is already UTC with whole milliseconds: adding nothing keeps it.
        return parse
    delta = _whole_delta(amount, unit)
    if delta is not None:

        def shift(text: Any) -> _DateTime:
            value = parse(text)
            try:
                # A whole number of hours keeps UTC and milliseconds, and the type.
                return value + delta
            except OverflowError:
                return _offset(value, amount, unit)  # raises the interpreter's error

        return shift
    return lambda text: _offset(parse(text), amount, unit)


def _whole_delta(amount: int, unit: str) -> timedelta | None:
    """Return a shift in hours or days as a timedelta, or None for months, years and
    amounts no date-time survives (the interpreter's own path reports those)."""
    try:
        if unit == "hour":
            return timedelta(hours=amount)
        if unit == "day":
            return timedelta(days=amount)
    except OverflowError:
        pass
    return None


def _reduce(_operator: str, operands: list[Any]) -> Compiled:
    collection_of, body, initial = (_compile(operand) for operand in operands)

    def fold(data: Any) -> Any:
        collection = collection_of(data)
        accumulator = initial(data)
        if collection is None:
            return accumulator
        if not isinstance(collection, list | tuple):
            raise CertLogicError(
                EVALUATION_ERROR, f'"reduce" needs an array, not {_describe(collection)}'
            )
        for current in collection:
            accumulator = body({"current": current, "accumulator": accumulator})
        return accumulator

    return fold


_COMPILERS: dict[str, Callable[[str, list[Any]], Compiled]] = {
    "if": _if,
    "and": _and,
    "!": _not,
    "plusTime": _plus_time,
    "reduce": _reduce,
    **{operator: _compare for operator in _INTEGER_COMPARISONS | _DATE_TIME_COMPARISONS},
}
