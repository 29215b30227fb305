"""Reading batches of evidence: CSV or JSON in, validated rows and row problems out.

Each row is checked on its own and every problem is reported with its line (CSV) or
position (JSON, counted from 1); nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from borderpass.identity.documents import InvalidDocumentNumber, normalise
from borderpass.kit.clock import hk_date
from borderpass.kit.config import get_settings
from borderpass.kit.decoding import DecodeError, load_json
from borderpass.kit.signing import blind_index
from borderpass.kit.types import FIRST_DAY, LAST_DAY

__all__ = [
    "TEST_FIELDS",
    "VACCINATION_FIELDS",
    "BatchFormatError",
    "Problem",
    "read_rows",
    "test_row",
    "vaccination_row",
]

TEST_FIELDS = ("specimen_id", "document_kind", "document_number", "collected_at",
               "reported_at", "method", "result", "lab")
# Columns a batch may leave out. A result's laboratory is the source its API key names;
# a batch that names one anyway must name that one.
OPTIONAL_FIELDS = frozenset({"lab"})
VACCINATION_FIELDS = ("document_kind", "document_number", "dose_number", "product",
                      "vaccinated_on", "provider")

_SPECIMEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/\-]{0,63}")
_METHODS = {"pcr": "PCR", "rat": "RAT"}
_RESULTS = {"negative", "positive", "inconclusive"}
_CLOCK_SKEW = timedelta(minutes=5)
_DOSE = re.compile(r"[0-9]{1,2}")
# C0 and C1 control characters, NUL among them, which no field holds (and PostgreSQL's
# text refuses NUL).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class BatchFormatError(ValueError):
    """The batch as a whole cannot be read (not CSV/JSON, missing columns, too many rows)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@dataclass(frozen=True)
class Problem:
    field: str | None
    reason: str


class _RowError(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        self.problem = Problem(field, reason)


def read_rows(
    content: bytes, media: str, fields: tuple[str, ...], items_key: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, row)`` from a CSV or JSON batch.

    Raises:
        BatchFormatError: the batch cannot be read at all.
    """
    limit = get_settings().ingest_max_rows
    if media == "json":
        try:
            document = load_json(content.removeprefix(codecs.BOM_UTF8))
        except DecodeError as error:
            raise BatchFormatError(f"not valid JSON: {error.reason}") from None
        items = document.get(items_key) if isinstance(document, dict) else document
        if not isinstance(items, list):
            raise BatchFormatError(f"expected a list, or an object with a list under {items_key!r}")
        if len(items) > limit:
            raise BatchFormatError(f"too many rows: at most {limit} in one batch")
        for position, item in enumerate(items, 1):
            yield position, item if isinstance(item, dict) else {"__not_object__": item}
        return
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BatchFormatError("the CSV is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from _csv_rows(reader, fields, limit)
    except csv.Error as error:  # a field longer than the csv module's limit
        raise BatchFormatError(f"line {reader.line_num}: {error}") from None


def _csv_rows(
    reader: Any, fields: tuple[str, ...], limit: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    header = next(reader, None)
    if header is None:
        raise BatchFormatError("the CSV is empty: a header line is needed")
    names = [name.strip().lower() for name in header]
    missing = [name for name in fields if name not in names and name not in OPTIONAL_FIELDS]
    if missing:
        raise BatchFormatError(f"the header lacks the column(s): {', '.join(missing)}",
                               field=missing[0])
    fields = tuple(name for name in fields if name in names)
    positions = [names.index(name) for name in fields]
    width = len(names)
    for count, values in enumerate(reader, 1):
        if count > limit:
            raise BatchFormatError(f"too many rows: at most {limit} in one batch")
        line = reader.line_num
        if not values:
            continue
        if len(values) != width:
            yield line, {"__width__": f"expected {width} fields, got {len(values)}"}
            continue
        yield line, {name: values[pos] for name, pos in zip(fields, positions, strict=True)}


def _text(row: dict[str, Any], name: str, *, limit: int) -> str:
    value = row.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _RowError(name, f"{name} is missing")
    if not isinstance(value, str | int):
        raise _RowError(name, f"{name} must be text")
    result = str(value).strip()
    if len(result) > limit:
        raise _RowError(name, f"{name} is longer than {limit} characters")
    if _CONTROL.search(result):
        raise _RowError(name, f"{name} holds a control character")
    return result


def _instant(row: dict[str, Any], name: str) -> datetime:
    raw = _text(row, name, limit=40)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise _RowError(name, f"{name} is not an ISO-8601 date-time") from None
    if value.tzinfo is None:
        from borderpass.kit.clock import HONG_KONG

        value = value.replace(tzinfo=HONG_KONG)
    try:
        year = value.astimezone(UTC).year
    except OverflowError:  # a time in the year 1 or 9999 that UTC puts out of range
        year = 0
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise _RowError(name, f"{name} must be between the years {FIRST_DAY.year} and "
                        f"{LAST_DAY.year}")
    return value


def _common(
    row: dict[str, Any], indexer: Callable[[str, str], str], today: date
) -> tuple[str, str]:
    if "__not_object__" in row:
        raise _RowError(None, "each row must be an object")
    if "__width__" in row:
        raise _RowError(None, str(row["__width__"]))
    kind = _text(row, "document_kind", limit=16).lower()
    number = _text(row, "document_number", limit=64)
    try:
        normalised = normalise(kind, number, today=today)
    except InvalidDocumentNumber as error:
        field = "document_kind" if error.reason == "unknown_kind" else "document_number"
        raise _RowError(field, error.fragment("en")) from None
    return kind, indexer(kind, normalised)


def make_indexer() -> Callable[[str, str], str]:
    """Return the function giving document blind indexes."""
    return blind_index


def test_row(
    row: dict[str, Any], indexer: Callable[[str, str], str], now: datetime, *, laboratory: str
) -> tuple[Any, ...] | Problem:
    """Validate one test result from ``laboratory`` (the name of the source whose key sent
    it); return the staged tuple (without line) or a problem."""
    try:
        kind, index = _common(row, indexer, hk_date(now))
        specimen = _text(row, "specimen_id", limit=64)
        if not _SPECIMEN.fullmatch(specimen):
            raise _RowError("specimen_id", "specimen_id may hold letters, digits and . _ / -")
        collected = _instant(row, "collected_at")
        reported = _instant(row, "reported_at")
        if collected > now + _CLOCK_SKEW:
            raise _RowError("collected_at", "collected_at is in the future")
        if reported < collected:
            raise _RowError("reported_at", "reported_at is before collected_at")
        if reported > now + _CLOCK_SKEW:
            raise _RowError("reported_at", "reported_at is in the future")
        method = _METHODS.get(_text(row, "method", limit=8).lower())
        if method is None:
            raise _RowError("method", "method must be PCR or RAT")
        result = _text(row, "result", limit=16).lower()
        if result not in _RESULTS:
            raise _RowError("result", "result must be negative, positive or inconclusive")
        _same_laboratory(row, laboratory)
    except _RowError as error:
        return error.problem
    return (specimen, kind, index, collected, reported, method, result, laboratory)


def _same_laboratory(row: dict[str, Any], laboratory: str) -> None:
    """Refuse a row naming a laboratory other than the key's (case and spacing aside)."""
    named = row.get("lab")
    if named is None or (isinstance(named, str) and not named.strip()):
        return
    given = _text(row, "lab", limit=128)
    if " ".join(given.split()).casefold() != " ".join(laboratory.split()).casefold():
        raise _RowError("lab", f"lab names {given!r}, but this API key is {laboratory!r}'s: "
                        "a laboratory sends only its own results (leave lab empty or give "
                        "its own name)")


def vaccination_row(
    row: dict[str, Any], indexer: Callable[[str, str], str], now: datetime
) -> tuple[Any, ...] | Problem:
    """Validate one vaccination record; return the staged tuple (without line) or a problem."""
    try:
        kind, index = _common(row, indexer, hk_date(now))
        dose_text = _text(row, "dose_number", limit=2)
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
        if not _DOSE.fullmatch(dose_text) or not 1 <= int(dose_text) <= 10:
            raise _RowError("dose_number", "dose_number must be a whole number from 1 to 10")
        product = _text(row, "product", limit=64)
        raw_day = _text(row, "vaccinated_on", limit=10)
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            raise _RowError("vaccinated_on", "vaccinated_on is not a date YYYY-MM-DD") from None
        if day > hk_date(now):
            raise _RowError("vaccinated_on", "vaccinated_on is in the future")
        if day < date(2020, 1, 1):
            raise _RowError("vaccinated_on", "vaccinated_on is before any COVID-19 vaccine")
        provider = _text(row, "provider", limit=128)
    except _RowError as error:
        return error.problem
    return (kind, index, int(dose_text), product, day, provider)
