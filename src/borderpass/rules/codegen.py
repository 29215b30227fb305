"""A rule set's CertLogic written out as one Python function, compiled once per rule set.

The closures of :mod:`borderpass.rules.compiler` still cost a Python call for every node
of every rule, every time a rule is tried, and a status tries the rules at ``now`` and at
the instants where they may change: for a population that is most of the time spent on
the rules. Here the expressions become Python source instead, compiled with
:func:`compile` into one function per rule set that reads each fact once and runs every
rule inline: ``if``, ``and``, ``!``, lists, literals and ``var`` as Python expressions,
comparisons and ``plusTime`` as one call each, to helpers that do what the closures do.
The operations with no form of their own here (``===``, ``in``, ``+``, ``reduce``,
``extractFromUVCI``, ``dccDateOfBirth``, chains of comparisons), subtrees nested deeper
than :data:`_MAX_NESTING` and long ``and`` run their compiled closure, so any valid expression
gives exactly what :func:`borderpass.rules.certlogic.evaluate` gives and raises the same
:class:`~borderpass.rules.certlogic.CertLogicError` where it raises
(``tests/rules/test_codegen.py`` checks both against the official suite, random
expressions and the rule sets, with random facts).

Only constants of the program's own (identifiers it numbers) reach the source: every
literal of a rule, string or number, is passed in the function's namespace, never
written into the text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from borderpass.rules.certlogic import (
    _ARRAY_INDEX,
    _DATE_TIME_COMPARISONS,
    _INTEGER_COMPARISONS,
    _ORDERINGS,
    EVALUATION_ERROR,
    INVALID_EXPRESSION,
    CertLogicError,
    _DateTime,
    _describe,
    _is_integer,
    validate,
)
from borderpass.rules.compiler import Compiled, _compile, _truthy, _var, shifter

__all__ = ["FailingRules", "compile_failing", "compile_source"]

FailingRules = Callable[[Any, datetime, int], int]
"""A rule set's rules as one function: ``(data, at, bits)`` gives, as a bit mask, those
of the rules in ``bits`` that are in force at ``at`` and fail on ``data`` (a rule fails
when its logic gives anything but ``true`` or raises ``CertLogicError``)."""

_MAX_NESTING = 24
"""Deeper subtrees run their closure: Python's parser limits how deeply parentheses nest."""

_MAX_CONJUNCTION = 8
"""An ``and`` of more operands runs its closure: each operand nests its source deeper."""

_MISSING = object()
"""Stands for "not a dict" while a fact's path is walked: the closure then decides."""


def _and_truth(value: Any) -> bool:
    """The truth of an ``and`` operand, which must be truthy or falsy."""
    if value is True:
        return True
    if value is None or value is False:
        return False
    truthy = _truthy(value)
    if truthy is None:
        raise CertLogicError(
            EVALUATION_ERROR, f'"and" operand is neither truthy nor falsy: {_describe(value)}')
    return truthy


def _and_last(value: Any) -> Any:
    """The last operand of an ``and``: checked as the others, and the result."""
    _and_truth(value)
    return value


def _negate(value: Any) -> bool:
    truthy = _truthy(value)
    if truthy is None:
        raise CertLogicError(
            EVALUATION_ERROR, f'"!" operand is neither truthy nor falsy: {_describe(value)}')
    return not truthy


def _is_true(value: Any) -> bool:
    return value is True or (value is not None and value is not False
                             and _truthy(value) is True)


def _comparison(operator: str) -> Callable[[Any, Any], bool]:
    """Compare two evaluated operands as the compiled ``_compare`` does."""
    holds = _ORDERINGS[operator]

    if operator in _INTEGER_COMPARISONS:
        def integers(a: Any, b: Any) -> bool:
            if type(a) is int and type(b) is int:
                return bool(holds(a, b))
            for value in (a, b):
                if not _is_integer(value):
                    raise CertLogicError(
                        EVALUATION_ERROR,
                        f'operands of "{operator}" must be integers, not {_describe(value)}')
            return bool(holds(int(a), int(b)))

        return integers

    def date_times(a: Any, b: Any) -> bool:
        if type(a) is _DateTime and type(b) is _DateTime:
            return bool(holds(a, b))
        for value in (a, b):
            if not isinstance(value, _DateTime):
                raise CertLogicError(
                    EVALUATION_ERROR,
                    f'operands of "{operator}" must be date-times, not {_describe(value)}')
        return bool(holds(a, b))

    return date_times


_HELPERS: dict[str, Any] = {
    "CertLogicError": CertLogicError, "RecursionError": RecursionError,
    "_and_truth": _and_truth, "_and_last": _and_last, "_negate": _negate,
    "_is_true": _is_true, "_MISSING": _MISSING, "dict": dict, "type": type,
}


class _Writer:
    """Writes expressions as Python source, with the values they need in ``names``."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = dict(_HELPERS)
        self.paths: dict[str, str] = {}
        self.count = 0

    def name(self, prefix: str, value: Any = None, *, bind: bool = True) -> str:
        self.count += 1
        identifier = f"{prefix}{self.count}"
        if bind:
            self.names[identifier] = value
        return identifier

    def closure(self, expression: Any) -> str:
        return f"{self.name('_c', _compile(expression))}(data)"

    def expression(self, expression: Any, depth: int = 0) -> str:
        if isinstance(expression, bool | str):
            return self.name("_k", expression)
        if isinstance(expression, int | float):
            return self.name("_k", int(expression))
        if depth >= _MAX_NESTING:
            return self.closure(expression)
        inner = depth + 1
        if isinstance(expression, list):
            return "[" + "".join(f"{self.expression(item, inner)}, "
                                 for item in expression) + "]"
        ((operator, operands),) = expression.items()
        if operator == "var":
            return self.var(operands)
        if operator == "if":
            guard, then, otherwise = (self.expression(operand, inner) for operand in operands)
            return f"({then} if _is_true({guard}) else {otherwise})"
        if operator == "and" and len(operands) <= _MAX_CONJUNCTION:
            return self.conjunction([self.expression(operand, inner) for operand in operands])
        if operator == "!":
            return f"_negate({self.expression(operands[0], inner)})"
        if operator in _INTEGER_COMPARISONS | _DATE_TIME_COMPARISONS and len(operands) == 2:
            left, right = (self.expression(operand, inner) for operand in operands)
            return f"{self.name('_o', _comparison(operator))}({left}, {right})"
        if operator == "plusTime":
            shift = self.name("_p", shifter(int(operands[1]), operands[2]))
            return f"{shift}({self.expression(operands[0], inner)})"
        return self.closure(expression)

    def conjunction(self, operands: list[str]) -> str:
        if not operands:
            return "None"
        if len(operands) == 1:
            return f"_and_last({operands[0]})"
        value = self.name("_v", bind=False)
        rest = self.conjunction(operands[1:])
        return f"({value} if not _and_truth({value} := {operands[0]}) else {rest})"

    def var(self, path: str) -> str:
        found = self.paths.get(path)
        if found is None:
            found = self.paths[path] = self.name("v", bind=False)
        return found

    def prologue(self) -> list[str]:
        """Read every fact the expressions name once, walking plain dicts directly."""
        lines: list[str] = []
        levels: dict[tuple[str, ...], str] = {(): "data"}
        for path, local in self.paths.items():
            generic = self.name("_g", _var(path))
            fragments = tuple(path.split(".")) if path else ()
            if len(fragments) < 2 or any(_ARRAY_INDEX.fullmatch(part) for part in fragments):
                lines.append(f"{local} = {generic}(data)")
                continue
            for end in range(1, len(fragments)):
                prefix = fragments[:end]
                if prefix not in levels:
                    parent = levels[prefix[:-1]]
                    level = levels[prefix] = self.name("_d", bind=False)
                    key = self.name("_k", prefix[-1])
                    lines.append(f"{level} = {parent}.get({key}) if type({parent}) is dict "
                                 "else _MISSING")
            parent = levels[fragments[:-1]]
            key = self.name("_k", fragments[-1])
            lines.append(f"{local} = {parent}.get({key}) if type({parent}) is dict "
                         f"else {generic}(data)")
        return lines


def _build(source: str, names: dict[str, Any], function: str) -> Any:
    namespace = dict(names)
    exec(compile(source, f"<certlogic {function}>", "exec"), namespace)  # noqa: S102 - our own source
    return namespace[function]


def compile_source(expression: object) -> Compiled:
    """Compile a CertLogic expression to a Python function of the data context, by way of
    Python source.

    Raises:
        CertLogicError: ``invalid_expression`` when the expression is not valid CertLogic.
    """
    problems = validate(expression)
    if problems:
        shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
        raise CertLogicError(
            INVALID_EXPRESSION, f"invalid CertLogic expression: {shown}", tuple(problems))
    writer = _Writer()
    body = writer.expression(expression)
    lines = ["def run(data):", "    try:",
             *(f"        {line}" for line in writer.prologue()),
             f"        return {body}",
             "    except RecursionError as error:",
             "        raise CertLogicError(_EVALUATION_ERROR, "
             "'evaluation nested too deeply') from error"]
    writer.names["_EVALUATION_ERROR"] = EVALUATION_ERROR
    function: Compiled = _build("\n".join(lines) + "\n", writer.names, "run")
    return function


def compile_failing(rules: Sequence[tuple[int, datetime, datetime, Any]]) -> FailingRules:
    """Compile rules (each its bit, its validity and its validated logic) into one function
    that gives those failing, as :data:`FailingRules` says."""
    try:
        return _failing_source(rules)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        # Python could not compile the source (a rule set of a size no parser takes):
        # the closures give the same.
        return _failing_closures(rules)


def _failing_closures(rules: Sequence[tuple[int, datetime, datetime, Any]]) -> FailingRules:
    checks = tuple((bit, valid_from, valid_to, _compile(logic))
                   for bit, valid_from, valid_to, logic in rules)

    def failing(data: Any, at: datetime, bits: int) -> int:
        mask = 0
        for bit, valid_from, valid_to, check in checks:
            if bits & bit and valid_from <= at < valid_to:
                try:
                    if check(data) is not True:
                        mask |= bit
                except (CertLogicError, RecursionError):
                    mask |= bit
        return mask

    return failing


def _failing_source(rules: Sequence[tuple[int, datetime, datetime, Any]]) -> FailingRules:
    writer = _Writer()
    tests: list[str] = []
    for bit, valid_from, valid_to, logic in rules:
        body = writer.expression(logic)
        flag = writer.name("_b", bit)
        start = writer.name("_f", valid_from)
        end = writer.name("_t", valid_to)
        tests += [f"    if bits & {flag} and {start} <= at < {end}:",
                  "        try:",
                  f"            if ({body}) is not True:",
                  f"                mask |= {flag}",
                  "        except (CertLogicError, RecursionError):",
                  f"            mask |= {flag}"]
    lines = ["def failing(data, at, bits):",
             *(f"    {line}" for line in writer.prologue()),
             "    mask = 0", *tests, "    return mask"]
    function: FailingRules = _build("\n".join(lines) + "\n", writer.names, "failing")
    return function
