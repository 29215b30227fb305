"""Strict readers of untrusted text: JSON, base64url and base64.

Each accepts exactly one spelling of a value and refuses everything else with
:class:`DecodeError` and a reason a person can read. Python's own readers are lenient in
ways that matter for signed data and for errors: ``json.loads`` accepts ``NaN`` and
``1e400`` (infinity), raises ``RecursionError`` on deep nesting and a bare ``ValueError``
on an integer of more than 4,300 digits; ``base64.urlsafe_b64decode`` skips characters
outside its alphabet and ignores the spare bits of the last character, so that one value
has many encodings. The domains turn a :class:`DecodeError` into their own error.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

__all__ = [
    "DecodeError",
    "b64_decode",
    "b64url_decode",
    "b64url_encode",
    "load_json",
    "without_line_end",
]

MAX_DEPTH = 32
MAX_DIGITS = 30

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class DecodeError(Exception):
    """Untrusted text could not be read; ``reason`` says why, in English."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def without_line_end(text: str) -> str:
    """Return a scanned text without the one line end (LF or CR LF) a scanner may add.

    Nothing else is taken away: a code has one text, and at most that line end after it.
    """
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


def b64url_encode(data: bytes) -> str:
    """Return unpadded base64url (RFC 4648 section 5), the one spelling ``b64url_decode`` reads."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, size: int | None = None) -> bytes:
    """Read unpadded base64url, refusing any other spelling of the same bytes.

    Args:
        size: if given, the number of bytes the text must hold.

    Raises:
        DecodeError: a character outside ``A-Z a-z 0-9 - _`` (padding included), a length
            no bytes have, non-zero spare bits in the last character, or the wrong size.
    """
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        raise DecodeError("not base64url (A-Z, a-z, 0-9, - and _, without padding)")
    if len(text) % 4 == 1:
        raise DecodeError("not base64url: no bytes have this length")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:
        raise DecodeError("not canonical base64url: the last character has spare bits set")
    if size is not None and len(data) != size:
        raise DecodeError(f"{len(data)} bytes where {size} are expected")
    return data


def b64_decode(text: str) -> bytes:
    """Read padded standard base64 (RFC 4648 section 4), refusing any other spelling.

    Raises:
        DecodeError: a character outside the alphabet, missing or misplaced padding, or
            non-zero spare bits.
    """
    if not isinstance(text, str) or len(text) % 4 or not _B64.fullmatch(text):
        raise DecodeError("not padded base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise DecodeError("not padded base64") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise DecodeError("not canonical base64: the last character has spare bits set")
    return data


def _number(text: str) -> int:
    digits = len(text) - (text[:1] == "-")
    if digits > MAX_DIGITS:
        raise DecodeError(f"a number has more than {MAX_DIGITS} digits")
    return int(text)


def _real(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DecodeError(f"the number {text[:20]} is out of range")
    return value


def _constant(name: str) -> Any:
    raise DecodeError(f"{name} is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DecodeError(f"the key {key[:40]!r} appears twice in one object")
            seen.add(key)
    return value


def _check(value: Any, max_depth: int, *, strings: bool) -> None:
    """Refuse nesting deeper than ``max_depth`` and, if ``strings``, lone surrogates."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
            if strings:
                for key in item:
                    _text(key)
        elif isinstance(item, list):
            children = item
        else:
            if strings and isinstance(item, str):
                _text(item)
            continue
        if depth > max_depth:
            raise DecodeError(f"arrays or objects nest deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def _text(value: str) -> None:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DecodeError("a string holds a lone surrogate (\\ud800-\\udfff)") from None


def load_json(content: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Read one JSON value (RFC 8259) from untrusted text.

    Besides what ``json.loads`` refuses, this refuses text that is not UTF-8, ``NaN`` and
    ``Infinity``, numbers out of a double's range or of more than 30 digits, a key that
    appears twice in one object, a string with a lone surrogate (which no UTF-8 can
    carry), and arrays and objects nested deeper than ``max_depth``.

    Raises:
        DecodeError: naming the first problem.
    """
    if isinstance(content, bytes | bytearray):
        try:
            content = bytes(content).decode("utf-8")
        except UnicodeDecodeError as error:
            raise DecodeError(f"not UTF-8 text (byte {error.start})") from None
    else:
        _text(content)
    if content.startswith("\ufeff"):
        raise DecodeError("not JSON: it starts with a byte order mark")
    try:
        value = json.loads(content, parse_int=_number, parse_float=_real,
                           parse_constant=_constant, object_pairs_hook=_object)
    except RecursionError:
        raise DecodeError(f"arrays or objects nest deeper than {max_depth} levels") from None
    except json.JSONDecodeError as error:
        raise DecodeError(f"not JSON: {error.msg} at line {error.lineno} column "
                          f"{error.colno}") from None
    except ValueError as error:  # an integer past Python's limit on digits
        raise DecodeError(f"not JSON: {error}"[:120]) from None
    # Text that was UTF-8 holds no surrogates; only a \\u escape can make one.
    _check(value, max_depth, strings="\\u" in content)
    return value
