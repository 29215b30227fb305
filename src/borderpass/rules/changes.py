"""Where a rule's verdict can change as the clock moves, read from its logic once.

A rule sees the clock only through ``external.validationClock``. When every use of the
clock is a date-time comparison (``before``, ``after``, ``not-before``, ``not-after``)
with ``plusTime(clock, k, "hour" | "day")`` as one operand and expressions that do not
read the clock as the others, the rule is a function of the facts and of the outcomes of
those comparisons alone. Each comparison flips exactly once, at an instant that follows
from the value of its other operand, so a rule can only change at those instants, where
the shift of the clock leaves the years 1 to 9999, or where the rule comes into or goes
out of force.

:func:`clock_plan` finds those comparisons in every rule of a rule set; it gives None
when some rule uses the clock in any other way (a ``===`` on the clock text, a
``plusTime`` of the clock in months, two clocks in one comparison ...), and evaluation
then tries every candidate instant instead (:func:`borderpass.rules.status.evaluate`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from borderpass.rules.certlogic import (
    _DATE_TIME_COMPARISONS,
    CertLogicError,
    _DateTime,
    _parse_date_time,
)
from borderpass.rules.compiler import Compiled, _var, compile_expression

if TYPE_CHECKING:
    from borderpass.rules.ruleset import Rule

__all__ = ["CLOCK", "ClockPlan", "ClockTest", "clock_plan", "in_utc"]

CLOCK = "external.validationClock"
_MS = timedelta(milliseconds=1)
_US = timedelta(microseconds=1)
_LATEST = datetime.max.replace(tzinfo=UTC)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
# Before the year 1000 the clock's text is no longer four digits of year (strftime): the
# clock would stop parsing there, so the instant counts as a change for every rule.
_FOUR_DIGIT_YEARS = datetime(1000, 1, 1, tzinfo=UTC)
# Which side of the comparison the clock is on, and the operator, tell whether the
# comparison flips when the clock reaches the other operand (0) or a millisecond later (1):
# the clock is read at whole milliseconds, so ``clock > V`` first holds at ``V + 1 ms``.
_LATER_BY = {
    ("left", "before"): 0, ("left", "not-before"): 0, ("left", "after"): 1,
    ("left", "not-after"): 1, ("right", "before"): 1, ("right", "not-before"): 1,
    ("right", "after"): 0, ("right", "not-after"): 0,
}


def in_utc(value: datetime) -> datetime:
    """Return the same instant in UTC (as it is when UTC cannot hold it). The instants a
    status is judged at are in UTC, and two datetimes of one time zone compare much faster
    than two of different zones, which are both asked for their offsets."""
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return value


class _Opaque(Exception):
    """A rule reads the clock in a way whose changes cannot be read from its logic."""


@dataclass(frozen=True)
class ClockTest:
    """A comparison of the shifted clock with values that do not depend on the clock.

    ``parts`` holds, per operand, either the clock's shift (and None) or None (and the
    operand compiled). ``texts`` holds, for an operand ``plusTime(var, ...)``, the ``var``
    compiled: when it is not a string, the operand raises, and that is known without
    raising.
    """

    bit: int
    operator: str
    parts: tuple[tuple[timedelta | None, Compiled | None], ...]
    texts: tuple[Compiled | None, ...]
    operands: tuple[Any, ...]

    def flips(self, data: Any) -> list[datetime]:
        """Return the instants at which this comparison's outcome changes, for ``data``.

        An operand that raises or is not a date-time makes the comparison raise at
        every instant: it never changes then.
        """
        if len(self.parts) == 2:
            # The common case, a clock and one value, without the general bookkeeping.
            (first_shift, first), (second_shift, second) = self.parts
            text = self.texts[0] or self.texts[1]
            if text is not None and not isinstance(text(data), str):
                return []
            if first is None:
                shift, compiled, side = first_shift, second, "left"
            else:
                shift, compiled, side = second_shift, first, "right"
            assert shift is not None and compiled is not None  # noqa: S101 - a clock, a value
            try:
                value = compiled(data)
            except CertLogicError:
                return []
            if not isinstance(value, _DateTime):
                return []
            found: list[datetime] = []
            _flip(found, value, shift, _LATER_BY[(side, self.operator)])
            return found
        return self._flips(data)

    def _flips(self, data: Any) -> list[datetime]:
        values: list[tuple[timedelta, bool] | datetime] = []
        for (shift, compiled), text in zip(self.parts, self.texts, strict=True):
            if compiled is None:
                assert shift is not None  # noqa: S101 - a part is the clock or an operand
                values.append((shift, True))
                continue
            if text is not None and not isinstance(text(data), str):
                return []  # plusTime of anything but a string raises
            try:
                value = compiled(data)
            except CertLogicError:
                return []
            if not isinstance(value, _DateTime):
                return []
            values.append(value)
        found: list[datetime] = []
        for left, right in zip(values, values[1:], strict=False):
            if isinstance(left, tuple) and isinstance(right, datetime):
                _flip(found, right, left[0], _LATER_BY[("left", self.operator)])
            elif isinstance(right, tuple) and isinstance(left, datetime):
                _flip(found, left, right[0], _LATER_BY[("right", self.operator)])
        return found


def _flip(found: list[datetime], value: datetime, shift: timedelta, later_by: int) -> None:
    """Add where ``clock + shift`` meets ``value`` (read at whole milliseconds)."""
    try:
        meets = value - shift
        if meets.microsecond % 1000:  # not a CertLogic date-time: both sides, to be safe
            found.append(meets - timedelta(microseconds=meets.microsecond % 1000))
            found.append(found[-1] + _MS)
            found.append(found[-1] + _MS)
            return
        found.append(meets + _MS if later_by else meets)
    except OverflowError:
        return  # the clock never gets there (or got there before the year 1)


@dataclass(frozen=True)
class ClockPlan:
    """Every clock comparison of a rule set, and the fixed instants where rules change."""

    tests: tuple[ClockTest, ...]
    edges: tuple[tuple[datetime, int], ...]
    """Instants where rules come into or go out of force, or their clock shift leaves the
    years 1 to 9999, with the bits of those rules; in order."""
    simple: tuple[tuple[Compiled, Compiled, timedelta | None, timedelta, int, int], ...] = \
        field(init=False, compare=False, repr=False)
    """The tests of a clock and one ``plusTime(var, k, unit)``: the var, the operand, ``k``
    as a duration (None for months and years), the clock's shift, the millisecond to add
    and the rule's bit (``changes`` walks them without the general bookkeeping, which the
    other tests keep)."""
    general: tuple[ClockTest, ...] = field(init=False, compare=False, repr=False)
    times: tuple[datetime, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        simple, general = [], []
        for test in self.tests:
            text = test.texts[0] or test.texts[1]
            if len(test.parts) != 2 or text is None:
                general.append(test)
                continue
            (first_shift, first), (second_shift, second) = test.parts
            if first is None:
                shift, compiled, side, operand = first_shift, second, "left", test.operands[1]
            else:
                shift, compiled, side, operand = second_shift, first, "right", test.operands[0]
            assert shift is not None and compiled is not None  # noqa: S101 - a clock, a value
            simple.append((text, compiled, _duration(operand), shift,
                           _LATER_BY[(side, test.operator)], test.bit))
        object.__setattr__(self, "simple", tuple(simple))
        object.__setattr__(self, "general", tuple(general))
        object.__setattr__(self, "times", tuple(at for at, _bit in self.edges))

    def changes(self, data: Any, now: datetime) -> list[tuple[datetime, int]]:
        """Return every instant after ``now`` at which a rule may change, for ``data``,
        with the bits of the rules that may change there, in order (repeats allowed)."""
        found = list(self.edges[bisect_right(self.times, now):])
        for text, compiled, duration, shift, later_by, bit in self.simple:
            written = text(data)
            if not isinstance(written, str):
                continue  # plusTime of anything but a string raises: no flip
            try:
                if duration is None:
                    value = compiled(data)
                else:
                    # What the compiled operand does, without reading the fact again.
                    value = _parse_date_time(written)
                    if duration:
                        value = value + duration
            except (CertLogicError, OverflowError):
                continue
            if not isinstance(value, _DateTime):
                continue
            flips: list[datetime] = []
            _flip(flips, value, shift, later_by)
            for at in flips:
                if at > now:
                    found.append((at, bit))
        for test in self.general:
            for at in test.flips(data):
                if at > now:
                    found.append((at, test.bit))
        if len(found) > 1:
            found.sort(key=_instant)
        return found


def _instant(item: tuple[datetime, int]) -> datetime:
    return item[0]


def _reads_clock(path: Any) -> bool:
    # Only ``payload.`` facts and the clock pass validation; anything that could reach the
    # clock (the whole context, ``external``) counts as reading it.
    return not isinstance(path, str) or path == "" or path.split(".")[0] == "external"


def _mentions_clock(expression: Any) -> bool:
    if isinstance(expression, list):
        return any(_mentions_clock(item) for item in expression)
    if isinstance(expression, dict):
        ((operator, operands),) = expression.items()
        if operator == "var":
            return _reads_clock(operands)
        return _mentions_clock(operands)
    return False


def _clock_shift(expression: Any) -> timedelta | None:
    """Return ``k`` when the expression is ``plusTime(clock, k, unit)``, else None."""
    if not (isinstance(expression, dict) and len(expression) == 1 and "plusTime" in expression):
        return None
    operands = expression["plusTime"]
    if not (isinstance(operands, list) and len(operands) == 3 and operands[0] == {"var": CLOCK}):
        return None
    amount, unit = int(operands[1]), operands[2]
    try:
        if amount == 0:
            return timedelta(0)
        if unit == "hour":
            return timedelta(hours=amount)
        if unit == "day":
            return timedelta(days=amount)
    except OverflowError:
        raise _Opaque() from None
    raise _Opaque()  # months and years are not a fixed length: no single flip instant


def _duration(operand: Any) -> timedelta | None:
    """Return ``k`` of an operand ``plusTime(var, k, "hour" | "day")`` as a duration (zero
    for any unit when ``k`` is 0), None for months and years."""
    _var, amount, unit = operand["plusTime"]
    try:
        if int(amount) == 0:
            return timedelta(0)
        if unit == "hour":
            return timedelta(hours=int(amount))
        if unit == "day":
            return timedelta(days=int(amount))
    except OverflowError:
        pass  # no date-time survives it: the compiled operand says so
    return None


def _text_of(operand: Any) -> Compiled | None:
    """Compile the ``var`` of an operand ``plusTime(var, k, unit)`` (None for any other)."""
    if isinstance(operand, dict) and len(operand) == 1 and "plusTime" in operand:
        inner = operand["plusTime"][0]
        if isinstance(inner, dict) and len(inner) == 1 and "var" in inner:
            compile_expression(inner)  # validates it
            return _var(inner["var"])  # a read, which cannot raise: no wrapper needed
    return None


def _walk(expression: Any, bit: int, found: list[ClockTest]) -> None:
    if isinstance(expression, list):
        for item in expression:
            _walk(item, bit, found)
        return
    if not isinstance(expression, dict):
        return
    ((operator, operands),) = expression.items()
    if operator == "var":
        if _reads_clock(operands):
            raise _Opaque()  # the clock outside a comparison this module understands
        return
    if operator in _DATE_TIME_COMPARISONS:
        shifts = [_clock_shift(operand) for operand in operands]
        clocks = [index for index, shift in enumerate(shifts) if shift is not None]
        if clocks:
            others = [operand for index, operand in enumerate(operands) if index not in clocks]
            if len(clocks) > 1 or any(_mentions_clock(operand) for operand in others):
                raise _Opaque()
            found.append(ClockTest(bit, operator, tuple(
                (shift, None) if shift is not None else (None, compile_expression(operand))
                for shift, operand in zip(shifts, operands, strict=True)),
                tuple(None if shift is not None else _text_of(operand)
                      for shift, operand in zip(shifts, operands, strict=True)),
                tuple(operands)))
            return
    if operator == "reduce":
        # The lambda sees only ``current`` and ``accumulator``, never the data context.
        _walk(operands[0], bit, found)
        _walk(operands[2], bit, found)
        return
    if operator in ("plusTime", "extractFromUVCI"):
        _walk(operands[0], bit, found)  # the other operands are literals
        return
    _walk(operands, bit, found)


def _range_edges(expression: Any, found: set[datetime]) -> None:
    """Add where a shifted clock leaves the years 1 to 9999 (it raises from there on)."""
    if isinstance(expression, list):
        for item in expression:
            _range_edges(item, found)
    elif isinstance(expression, dict):
        shift = _clock_shift(expression)
        if shift is not None:
            try:
                if shift > timedelta(0):
                    found.add(_LATEST - shift + _US)
                elif shift < timedelta(0):
                    found.add(_EARLIEST - shift)
            except OverflowError:
                found.add(_EARLIEST)  # out of range at every instant: nothing changes
            return
        ((_operator, operands),) = expression.items()
        _range_edges(operands, found)


def clock_plan(rules: Sequence[Rule]) -> ClockPlan | None:
    """Read where each rule may change from its logic; None if some rule hides it."""
    tests: list[ClockTest] = []
    edges: dict[datetime, int] = {}
    for index, rule in enumerate(rules):
        bit = 1 << index
        instants = {in_utc(rule.valid_from), in_utc(rule.valid_to), _FOUR_DIGIT_YEARS}
        try:
            _walk(rule.logic, bit, tests)
            _range_edges(rule.logic, instants)
        except _Opaque:
            return None
        for instant in instants:
            edges[instant] = edges.get(instant, 0) | bit
    return ClockPlan(tuple(tests), tuple(sorted(edges.items(), key=_instant)))
