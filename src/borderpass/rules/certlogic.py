"""CertLogic: validate and evaluate EU DCC business-rule expressions (specification 1.3.3).

CertLogic is a restricted subset of JsonLogic with a few operations of its own for
date-times and certificate identifiers. This module is written from the specification
(``tests/vectors/certlogic/SPECIFICATION.md``) and checked against its official test suites.

Values are plain JSON values as :func:`json.loads` gives them (``None``, ``bool``, ``int``,
``float``, ``str``, ``list``, ``dict``) plus date-times, which only ``plusTime`` and
``dccDateOfBirth`` make: timezone-aware :class:`~datetime.datetime` objects in UTC with
millisecond precision.

Evaluation never has undefined behaviour: whatever goes wrong (an invalid expression, a type
mismatch, an unparseable date) raises :class:`CertLogicError` and nothing else.

Points the specification leaves open, and how they are settled here:

* A JSON number is an *integer* when its value is integral, so ``1.0`` counts as ``1`` (as in
  JavaScript); any other number is neither truthy nor falsy, and an error where an integer
  is needed. An integral number literal evaluates to an ``int``.
* ``===`` compares without coercion: values of different types are unequal (``true`` is not
  ``1``); two arrays, two objects or two date-times cannot be compared reliably, so comparing
  them is an error. ``in`` is membership under the same equality.
* ``if`` takes the ``else`` branch for any guard that is not truthy, as the specification says;
  ``and`` and ``!`` raise on a value that is neither truthy nor falsy.
* ``plusTime`` and ``dccDateOfBirth`` need a string: ``null`` or a date-time is an error, and so is
  a string that is not a valid date(-time) of the allowed formats (the specification leaves
  that undefined). Results outside the years 1 to 9999 are an error.
* ``reduce`` over ``null`` gives the initial value; over any other non-array it is an error.
  The lambda sees only ``current`` and ``accumulator`` (no ``data``).
* ``var`` drills only into objects and arrays; anything else gives ``null``.
* Expressions may nest at most :data:`MAX_DEPTH` levels.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from operator import ge, gt, le, lt
from typing import Any, Final

__all__ = [
    "EVALUATION_ERROR",
    "INVALID_DATE_TIME",
    "INVALID_EXPRESSION",
    "MAX_DEPTH",
    "SPECIFICATION_VERSION",
    "CertLogicError",
    "evaluate",
    "evaluate_valid",
    "is_valid",
    "validate",
]

SPECIFICATION_VERSION: Final = "1.3.3"
"""The version of the CertLogic specification this evaluator follows."""

MAX_DEPTH: Final = 100
"""How deeply an expression may nest arrays and operations."""

INVALID_EXPRESSION: Final = "invalid_expression"
EVALUATION_ERROR: Final = "evaluation_error"
INVALID_DATE_TIME: Final = "invalid_date_time"


class CertLogicError(Exception):
    """Any failure to validate or evaluate a CertLogic expression.

    Attributes:
        reason: a short machine code: ``"invalid_expression"``, ``"evaluation_error"`` or
            ``"invalid_date_time"``.
        problems: for an invalid expression, every problem :func:`validate` found.
    """

    def __init__(self, reason: str, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.problems = problems


class _DateTime(datetime):
    """A CertLogic date-time: UTC, millisecond precision, made only by our own operations."""

    __slots__ = ()


_TIME_UNITS: Final = ("year", "month", "day", "hour")
_INTEGER_COMPARISONS: Final = frozenset({"<", ">", "<=", ">="})
_DATE_TIME_COMPARISONS: Final = frozenset({"after", "before", "not-after", "not-before"})
_BINARY_OPERATORS: Final = frozenset({"===", "in", "+"})
_OPERATORS: Final = (
    frozenset({"if", "and", "!", "plusTime", "reduce", "extractFromUVCI", "dccDateOfBirth"})
    | _BINARY_OPERATORS
    | _INTEGER_COMPARISONS
    | _DATE_TIME_COMPARISONS
)

_ORDERINGS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": lt,
    "before": lt,
    ">": gt,
    "after": gt,
    "<=": le,
    "not-after": le,
    ">=": ge,
    "not-before": ge,
}
_ARRAY_INDEX = re.compile(r"[0-9]{1,18}")
_UCI_SEPARATORS = re.compile(r"[/#:]")
_UCI_PREFIX: Final = "URN:UVCI:"
_DATE_OF_BIRTH = re.compile(r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?)?")
_DATE_TIME = re.compile(
    r"(?P<year>[0-9]{4})"
    r"(?:-(?P<month>[0-9]{2})"
    r"(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?"
    r"(?:(?P<zulu>Z)|(?P<sign>[+-])(?P<offset_hours>[0-9]{1,2})(?::?(?P<offset_minutes>[0-9]{2}))?)?"
    r")?)?)?"
)


# --------------------------------------------------------------------------- values


def _is_integer(value: object) -> bool:
    """Tell whether a value is a JSON integer (an integral number, but not a boolean)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _kind(value: object) -> str:
    """Name the CertLogic type of a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, _DateTime):
        return "date-time"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "non-JSON value"


def _describe(value: object) -> str:
    """Describe a value briefly for an error message."""
    kind = _kind(value)
    if kind not in ("null", "boolean", "number", "string"):
        return kind
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        text = "(too long to show)"
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}"


def _truthiness(value: object) -> bool | None:
    """Return True for a truthy value, False for a falsy one, and None for neither."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 if _is_integer(value) else None
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) > 0
    return None


def _strictly_equal(left: object, right: object) -> bool:
    """Compare two values as ``===`` does: no coercion, errors where unreliable."""
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind == "null":
        return True
    if kind in ("boolean", "number", "string"):
        return left == right
    raise CertLogicError(EVALUATION_ERROR, f"=== cannot compare two values of type {kind}")


# --------------------------------------------------------------------------- validation


def validate(expression: object) -> list[str]:
    """List the problems that make an expression invalid CertLogic.

    Args:
        expression: a JSON value, as :func:`json.loads` gives it.

    Returns:
        One message per problem found; an empty list means the expression is valid. Problems
        inside the expression name where they are, e.g. ``(at $.and[1])``.

    Raises:
        Nothing: any input gives a list.
    """
    problems: list[str] = []
    _validate(expression, "$", 0, problems)
    return problems


def is_valid(expression: object) -> bool:
    """Tell whether an expression is valid CertLogic."""
    return not validate(expression)


def _validate(expression: object, where: str, depth: int, problems: list[str]) -> None:
    """Check one expression, appending its problems."""

    def problem(message: str) -> None:
        problems.append(message if where == "$" else f"{message} (at {where})")

    if depth > MAX_DEPTH:
        problem(f"expression nests deeper than {MAX_DEPTH} levels")
    elif isinstance(expression, bool | int | str):
        pass
    elif isinstance(expression, float):
        if not _is_integer(expression):
            problem(f"{expression} is a non-integer number")
    elif isinstance(expression, list):
        for index, item in enumerate(expression):
            _validate(item, f"{where}[{index}]", depth + 1, problems)
    elif isinstance(expression, dict):
        _validate_operation(expression, where, depth, problem, problems)
    else:
        problem("invalid CertLogic expression")


def _validate_operation(
    expression: dict[Any, Any],
    where: str,
    depth: int,
    problem: Callable[[str], None],
    problems: list[str],
) -> None:
    """Check an expression object: ``var`` or an operation with its operands."""
    if len(expression) != 1:
        problem(f"expression object must have exactly one key, but it has {len(expression)}")
        return
    ((operator, operands),) = expression.items()
    if operator == "var":
        if not isinstance(operands, str):
            problem('not of the form { "var": "<path>" }')
        elif operands != "" and "" in operands.split("."):
            shown = operands if len(operands) <= 60 else operands[:57] + "..."
            problem(f"data access path doesn't have a valid format: {shown}")
        return
    if not isinstance(operands, list):
        problem('operation not of the form { "<operator>": [ <values...> ] }')
        return
    if operator not in _OPERATORS:
        shown = operator if isinstance(operator, str) else repr(operator)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        problem(f'unrecognised operator: "{shown}"')
        return

    count = len(operands)
    expressions: list[int] = list(range(count))  # indices of operands that are expressions
    if operator == "and":
        if count < 2:
            problem(f'an "and" operation must have at least 2 operands, not {count}')
            return
    elif operator in _INTEGER_COMPARISONS or operator in _DATE_TIME_COMPARISONS:
        if count not in (2, 3):
            problem(f'an "{operator}" operation must have 2 or 3 operands, not {count}')
            return
    else:
        arity = {"if": 3, "!": 1, "plusTime": 3, "reduce": 3, "extractFromUVCI": 2}.get(
            operator, 1 if operator == "dccDateOfBirth" else 2
        )
        if count != arity:
            problem(f'an "{operator}" operation must have exactly {arity} operands, not {count}')
            return
        if operator == "plusTime":
            expressions = [0]
            if not _is_integer(operands[1]):
                problem('the amount of a "plusTime" operation must be an integer literal')
            if operands[2] not in _TIME_UNITS:
                problem(
                    'the time unit of a "plusTime" operation must be one of '
                    + ", ".join(f'"{unit}"' for unit in _TIME_UNITS)
                )
        elif operator == "extractFromUVCI":
            expressions = [0]
            if not _is_integer(operands[1]):
                problem('the index of an "extractFromUVCI" operation must be an integer literal')
    for index in expressions:
        _validate(operands[index], f"{where}.{operator}[{index}]", depth + 1, problems)


# --------------------------------------------------------------------------- evaluation


def evaluate(expression: object, data: object) -> Any:
    """Evaluate a CertLogic expression on a data context.

    The whole expression is validated before anything is evaluated.

    Args:
        expression: a CertLogic expression, as :func:`json.loads` gives it.
        data: the data context, a JSON value.

    Returns:
        A JSON value, or an aware UTC :class:`~datetime.datetime` (possibly inside an array)
        for a date-time made by ``plusTime`` or ``dccDateOfBirth``.

    Raises:
        CertLogicError: with reason ``"invalid_expression"`` if the expression is invalid,
            ``"invalid_date_time"`` for a date(-time) string that cannot be parsed, and
            ``"evaluation_error"`` for a type mismatch or any other failure while evaluating.
    """
    problems = validate(expression)
    if problems:
        shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
        raise CertLogicError(
            INVALID_EXPRESSION, f"invalid CertLogic expression: {shown}", tuple(problems)
        )
    try:
        return _evaluate(expression, data)
    except RecursionError as error:  # a safety net: validation already bounds the depth
        raise CertLogicError(EVALUATION_ERROR, "evaluation nested too deeply") from error


def evaluate_valid(expression: object, data: object) -> Any:
    """Evaluate an expression that :func:`validate` already passed, without validating again.

    Rule sets are validated once when loaded and then evaluated millions of times.

    Raises:
        CertLogicError: as :func:`evaluate` does while evaluating.
    """
    try:
        return _evaluate(expression, data)
    except RecursionError as error:
        raise CertLogicError(EVALUATION_ERROR, "evaluation nested too deeply") from error


def _evaluate(expression: object, data: object) -> Any:
    """Evaluate a validated expression."""
    if isinstance(expression, bool | str):
        return expression
    if isinstance(expression, int | float):
        return int(expression)
    if isinstance(expression, list):
        return [_evaluate(item, data) for item in expression]
    if isinstance(expression, dict):
        ((operator, operands),) = expression.items()
        if operator == "var":
            return _access(data, operands)
        return _OPERATIONS[operator](operator, operands, data)
    raise CertLogicError(INVALID_EXPRESSION, "invalid CertLogic expression")  # pragma: no cover


def _access(data: object, path: str) -> object:
    """Drill into the data context along a path of period-separated fragments."""
    if path == "":
        return data
    current = data
    for fragment in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(fragment)
        elif isinstance(current, list | tuple) and _ARRAY_INDEX.fullmatch(fragment):
            index = int(fragment)
            current = current[index] if index < len(current) else None
        else:
            return None
        if current is None:
            return None
    return current


def _if(_: str, operands: list[Any], data: object) -> Any:
    guard = _evaluate(operands[0], data)
    return _evaluate(operands[1] if _truthiness(guard) is True else operands[2], data)


def _and(_: str, operands: list[Any], data: object) -> Any:
    value: Any = None
    for operand in operands:
        value = _evaluate(operand, data)
        truthy = _truthiness(value)
        if truthy is None:
            raise CertLogicError(
                EVALUATION_ERROR, f'"and" operand is neither truthy nor falsy: {_describe(value)}'
            )
        if not truthy:
            return value
    return value


def _not(_: str, operands: list[Any], data: object) -> bool:
    value = _evaluate(operands[0], data)
    truthy = _truthiness(value)
    if truthy is None:
        raise CertLogicError(
            EVALUATION_ERROR, f'"!" operand is neither truthy nor falsy: {_describe(value)}'
        )
    return not truthy


def _equal(_: str, operands: list[Any], data: object) -> bool:
    return _strictly_equal(_evaluate(operands[0], data), _evaluate(operands[1], data))


def _in(_: str, operands: list[Any], data: object) -> bool:
    item = _evaluate(operands[0], data)
    collection = _evaluate(operands[1], data)
    if not isinstance(collection, list | tuple):
        raise CertLogicError(
            EVALUATION_ERROR,
            f'right-hand side of "in" must be an array, not {_describe(collection)}',
        )
    return any(_strictly_equal(item, member) for member in collection)


def _plus(_: str, operands: list[Any], data: object) -> int:
    left = _evaluate(operands[0], data)
    right = _evaluate(operands[1], data)
    if not (_is_integer(left) and _is_integer(right)):
        raise CertLogicError(
            EVALUATION_ERROR,
            f'operands of "+" must be integers, not {_describe(left)} and {_describe(right)}',
        )
    return int(left) + int(right)


def _compare(operator: str, operands: list[Any], data: object) -> bool:
    values = [_evaluate(operand, data) for operand in operands]
    if operator in _INTEGER_COMPARISONS:
        for value in values:
            if not _is_integer(value):
                raise CertLogicError(
                    EVALUATION_ERROR,
                    f'operands of "{operator}" must be integers, not {_describe(value)}',
                )
        keys: list[Any] = [int(value) for value in values]
    else:
        for value in values:
            if not isinstance(value, _DateTime):
                raise CertLogicError(
                    EVALUATION_ERROR,
                    f'operands of "{operator}" must be date-times, not {_describe(value)}',
                )
        keys = values
    holds = _ORDERINGS[operator]
    return all(holds(a, b) for a, b in zip(keys, keys[1:], strict=False))


def _plus_time(_: str, operands: list[Any], data: object) -> datetime:
    text = _evaluate(operands[0], data)
    if not isinstance(text, str):
        raise CertLogicError(
            EVALUATION_ERROR, f'"plusTime" needs a date(-time) string, not {_describe(text)}'
        )
    return _offset(_parse_date_time(text), int(operands[1]), operands[2])


def _date_of_birth(_: str, operands: list[Any], data: object) -> datetime:
    text = _evaluate(operands[0], data)
    if not isinstance(text, str):
        raise CertLogicError(
            EVALUATION_ERROR, f'"dccDateOfBirth" needs a date string, not {_describe(text)}'
        )
    match = _DATE_OF_BIRTH.fullmatch(text)
    if match is None:
        raise CertLogicError(
            INVALID_DATE_TIME, f"not a date of birth (YYYY[-MM[-DD]]): {_describe(text)}"
        )
    return _last_date(match["year"], match["month"], match["day"])


def _reduce(_: str, operands: list[Any], data: object) -> Any:
    collection = _evaluate(operands[0], data)
    accumulator = _evaluate(operands[2], data)
    if collection is None:
        return accumulator
    if not isinstance(collection, list | tuple):
        raise CertLogicError(
            EVALUATION_ERROR, f'"reduce" needs an array, not {_describe(collection)}'
        )
    for current in collection:
        accumulator = _evaluate(operands[1], {"current": current, "accumulator": accumulator})
    return accumulator


def _extract_from_uci(_: str, operands: list[Any], data: object) -> str | None:
    uci = _evaluate(operands[0], data)
    if uci is None:
        return None
    if not isinstance(uci, str):
        raise CertLogicError(
            EVALUATION_ERROR, f'"extractFromUVCI" needs a string or null, not {_describe(uci)}'
        )
    fragments = _UCI_SEPARATORS.split(uci)
    if uci.startswith(_UCI_PREFIX):
        fragments = fragments[2:]
    index = int(operands[1])
    return fragments[index] if 0 <= index < len(fragments) else None


_OPERATIONS: Final[dict[str, Any]] = {
    "if": _if,
    "and": _and,
    "!": _not,
    "===": _equal,
    "in": _in,
    "+": _plus,
    "plusTime": _plus_time,
    "dccDateOfBirth": _date_of_birth,
    "reduce": _reduce,
    "extractFromUVCI": _extract_from_uci,
    **{operator: _compare for operator in _INTEGER_COMPARISONS | _DATE_TIME_COMPARISONS},
}


# --------------------------------------------------------------------------- date-times


def _date_time(value: datetime) -> _DateTime:
    """Make a CertLogic date-time from an aware datetime: UTC, whole milliseconds."""
    utc = value.astimezone(UTC)
    return _DateTime(
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        utc.microsecond // 1000 * 1000,
        tzinfo=UTC,
    )


def _last_date(year: str, month: str | None, day: str | None) -> _DateTime:
    """Give midnight UTC of the last day consistent with a possibly partial date."""
    try:
        year_number = int(year)
        month_number = 12 if month is None else int(month)
        if not 1 <= month_number <= 12:
            raise ValueError("month out of range")
        if day is None:
            day_number = calendar.monthrange(year_number, month_number)[1]
        else:
            day_number = int(day)
        return _date_time(datetime(year_number, month_number, day_number, tzinfo=UTC))
    except (ValueError, OverflowError) as error:
        shown = "-".join(part for part in (year, month, day) if part is not None)
        raise CertLogicError(INVALID_DATE_TIME, f"not a valid date: {shown}") from error


@lru_cache(maxsize=4096)
def _parse_date_time(text: str) -> _DateTime:
    """Parse a date(-time) string of one of the formats the specification allows."""
    if len(text) == 24 and text[23] == "Z" and text[19] == "." and text[10] == "T" \
            and text[4] == text[7] == "-" and text[13] == text[16] == ":":
        # UTC to the millisecond, as the facts are written (``status.instant_text``): read
        # by position what the pattern below would find; anything out of range is left to
        # it, to be reported as it reports it.
        digits = text[0:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] \
            + text[17:19] + text[20:23]
        if digits.isascii() and digits.isdigit():
            try:
                return _DateTime(int(text[0:4]), int(text[5:7]), int(text[8:10]),
                                 int(text[11:13]), int(text[14:16]), int(text[17:19]),
                                 int(text[20:23]) * 1000, tzinfo=UTC)
            except ValueError:
                pass
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise CertLogicError(INVALID_DATE_TIME, f"not a date(-time): {_describe(text)}")
    if match["hour"] is None:
        return _last_date(match["year"], match["month"], match["day"])
    try:
        offset = timedelta(0)
        if match["sign"] is not None:
            offset = timedelta(
                hours=int(match["offset_hours"]), minutes=int(match["offset_minutes"] or 0)
            )
            if int(match["offset_minutes"] or 0) > 59:
                raise ValueError("offset minutes out of range")
            if match["sign"] == "-":
                offset = -offset
        fraction = (match["fraction"] or "")[:3].ljust(3, "0")
        value = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            int(fraction) * 1000,
            tzinfo=timezone(offset),
        )
        return _date_time(value)
    except (ValueError, OverflowError) as error:
        raise CertLogicError(
            INVALID_DATE_TIME, f"not a valid date(-time): {_describe(text)}"
        ) from error


def _offset(value: _DateTime, amount: int, unit: str) -> _DateTime:
    """Add an amount of a time unit the way JavaScript's ``Date.setUTC...`` methods do."""
    try:
        if unit == "hour":
            return _date_time(value + timedelta(hours=amount))
        if unit == "day":
            return _date_time(value + timedelta(days=amount))
        months = value.year * 12 + value.month - 1 + (amount if unit == "month" else 12 * amount)
        year, month_index = divmod(months, 12)
        if not 1 <= year <= 9999:
            raise OverflowError("year out of range")
        # Keep the day of the month, letting it overflow into the next month (2020-02-29 plus
        # one year is 2021-03-01), as setUTCMonth and setUTCFullYear do.
        first = value.replace(year=year, month=month_index + 1, day=1)
        return _date_time(first + timedelta(days=value.day - 1))
    except (ValueError, OverflowError) as error:
        raise CertLogicError(
            EVALUATION_ERROR, f'date-time out of range after "plusTime" in {unit}s'
        ) from error
