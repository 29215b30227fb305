"""Validators for the four kinds of document number the platform accepts.

Each validator normalises a valid number and raises ``InvalidDocumentNumber`` with a
reason code and a plain explanation for an invalid one. Messages never repeat the
number itself, so they are safe to log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from borderpass.kit.errors import InvalidFragment
from borderpass.kit.i18n import _

__all__ = [
    "DocumentKind",
    "InvalidDocumentNumber",
    "hkid_check_character",
    "mainland_check_character",
    "mask",
    "normalise",
    "normalise_field",
]


class DocumentKind(StrEnum):
    HKID = "hkid"
    HRP = "hrp"
    MACAU = "macau"
    MAINLAND = "mainland"


class InvalidDocumentNumber(InvalidFragment):
    code = "invalid_document_number"
    message = _("The document number is not valid.")

    def __init__(self, reason: str, message: str, *, field: str | None = None, **params: Any):
        self.reason = reason
        super().__init__(message, field=field, details={"reason": reason}, **params)


@dataclass(frozen=True)
class _Chars:
    length: str = _("wrong length: expected {expected}, got {got} characters")
    character: str = _("bad character at position {position}: {expected}")


_MSG = _Chars()


def _clean(number: str) -> str:
    return re.sub(r"[\s\-/]", "", number).upper()


# --- Hong Kong identity card -------------------------------------------------------

def _hkid_value(char: str) -> int:
    if char == " ":
        return 36
    if char.isdigit():
        return int(char)
    return ord(char) - ord("A") + 10


def hkid_check_character(body: str) -> str:
    """Return the check character for an HKID body of 1-2 letters and 6 digits."""
    padded = body.rjust(8)
    weights = range(9, 1, -1)
    total = sum(_hkid_value(char) * weight for char, weight in zip(padded, weights, strict=True))
    remainder = total % 11
    if remainder == 0:
        return "0"
    if remainder == 1:
        return "A"
    return str(11 - remainder)


def _normalise_hkid(number: str) -> str:
    text = _clean(number)
    bracketed = re.fullmatch(r"([A-Z0-9]*)\(([A-Z0-9])\)", text)
    if bracketed:
        text = bracketed.group(1) + bracketed.group(2)
    elif "(" in text or ")" in text:
        raise InvalidDocumentNumber(
            "bad_character", _("brackets must hold only the check character")
        )
    if not re.fullmatch(r"[A-Z0-9]*", text):
        position = next(i for i, c in enumerate(text, 1) if not c.isalnum() or not c.isascii())
        raise InvalidDocumentNumber(
            "bad_character", _MSG.character, position=position, expected=_("a letter or digit")
        )
    if len(text) not in (8, 9):
        raise InvalidDocumentNumber(
            "wrong_length",
            _("wrong length: expected 1 or 2 letters, 6 digits and a check character (8 or 9), "
              "got {got} characters"),
            got=len(text),
        )
    letters = 2 if len(text) == 9 else 1
    for position, char in enumerate(text[:letters], 1):
        if not char.isalpha():
            raise InvalidDocumentNumber(
                "bad_character", _MSG.character, position=position, expected=_("a letter")
            )
    for position, char in enumerate(text[letters : letters + 6], letters + 1):
        if not char.isdigit():
            raise InvalidDocumentNumber(
                "bad_character", _MSG.character, position=position, expected=_("a digit")
            )
    check = text[-1]
    if not (check.isdigit() or check == "A"):
        raise InvalidDocumentNumber(
            "bad_character", _MSG.character, position=len(text),
            expected=_("a check character 0-9 or A"),
        )
    body = text[:-1]
    expected = hkid_check_character(body)
    if check != expected:
        raise InvalidDocumentNumber(
            "wrong_check_character",
            _("wrong check character: expected {expected}, got {got}"),
            expected=expected, got=check,
        )
    return f"{body}({check})"


# --- Home Return Permit --------------------------------------------------------------

def _normalise_hrp(number: str) -> str:
    text = _clean(number)
    if not text:
        raise InvalidDocumentNumber("wrong_length", _("the number is empty"))
    if text[0] not in "HM":
        raise InvalidDocumentNumber(
            "bad_character", _MSG.character, position=1, expected=_("H (Hong Kong) or M (Macau)")
        )
    for position, char in enumerate(text[1:], 2):
        if not char.isdigit() or not char.isascii():
            raise InvalidDocumentNumber(
                "bad_character", _MSG.character, position=position, expected=_("a digit")
            )
    if len(text) not in (9, 11):
        raise InvalidDocumentNumber(
            "wrong_length",
            _("wrong length: expected H or M and 8 digits (or 10 in the older form), "
              "got {got} characters"),
            got=len(text),
        )
    return text


# --- Macau resident identity card ----------------------------------------------------

def _normalise_macau(number: str) -> str:
    text = _clean(number)
    bracketed = re.fullmatch(r"(\d*)\((\d)\)", text)
    if bracketed:
        text = bracketed.group(1) + bracketed.group(2)
    for position, char in enumerate(text, 1):
        if not char.isdigit() or not char.isascii():
            raise InvalidDocumentNumber(
                "bad_character", _MSG.character, position=position, expected=_("a digit")
            )
    if len(text) != 8:
        raise InvalidDocumentNumber(
            "wrong_length",
            _("wrong length: expected 7 digits and a check digit (8), got {got} characters"),
            got=len(text),
        )
    if text[0] not in "157":
        raise InvalidDocumentNumber(
            "bad_character", _MSG.character, position=1, expected=_("1, 5 or 7")
        )
    return f"{text[:7]}({text[7]})"


# --- Mainland resident identity card -------------------------------------------------

_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK = "10X98765432"


def mainland_check_character(body: str) -> str:
    """Return the GB 11643 (ISO 7064 MOD 11-2) check character for 17 digits."""
    total = sum(int(char) * weight for char, weight in zip(body, _GB11643_WEIGHTS, strict=True))
    return _GB11643_CHECK[total % 11]


def _normalise_mainland(number: str, today: date | None) -> str:
    text = _clean(number)
    for position, char in enumerate(text[:17], 1):
        if not char.isdigit() or not char.isascii():
            raise InvalidDocumentNumber(
                "bad_character", _MSG.character, position=position, expected=_("a digit")
            )
    if len(text) != 18:
        raise InvalidDocumentNumber(
            "wrong_length",
            _("wrong length: expected 17 digits and a check character (18), got {got} characters"),
            got=len(text),
        )
    check = text[17]
    if not (check.isdigit() or check == "X"):
        raise InvalidDocumentNumber(
            "bad_character", _MSG.character, position=18, expected=_("a check character 0-9 or X")
        )
    year, month, day = int(text[6:10]), int(text[10:12]), int(text[12:14])
    try:
        born = date(year, month, day)
    except ValueError:
        raise InvalidDocumentNumber(
            "impossible_birth_date",
            _("impossible birth date {date} in positions 7-14"),
            date=f"{text[6:10]}-{text[10:12]}-{text[12:14]}",
        ) from None
    if year < 1850 or (today is not None and born > today):
        raise InvalidDocumentNumber(
            "impossible_birth_date",
            _("impossible birth date {date} in positions 7-14"),
            date=born.isoformat(),
        )
    expected = mainland_check_character(text[:17])
    if check != expected:
        raise InvalidDocumentNumber(
            "wrong_check_character",
            _("wrong check character: expected {expected}, got {got}"),
            expected=expected, got=check,
        )
    return text


def normalise(kind: str | DocumentKind, number: str, *, today: date | None = None) -> str:
    """Validate a document number and return it in its normal form.

    Args:
        kind: one of ``hkid``, ``hrp``, ``macau``, ``mainland``.
        number: the number as typed.
        today: when given, a mainland birth date after it is impossible.

    Returns:
        The normal form, e.g. ``A123456(3)`` for an HKID.

    Raises:
        InvalidDocumentNumber: with ``reason`` one of ``unknown_kind``, ``wrong_length``,
            ``bad_character``, ``wrong_check_character``, ``impossible_birth_date``.
    """
    if not isinstance(number, str):
        raise InvalidDocumentNumber("wrong_length", _("the number must be text"))
    try:
        doc_kind = DocumentKind(str(kind).lower())
    except ValueError:
        raise InvalidDocumentNumber(
            "unknown_kind",
            _("unknown document kind {kind}: use hkid, hrp, macau or mainland"),
            kind=str(kind)[:20],
        ) from None
    if not number.strip():
        raise InvalidDocumentNumber("wrong_length", _("the number is empty"))
    if len(number) > 64:
        raise InvalidDocumentNumber(
            "wrong_length", _("wrong length: {got} characters is far too long"), got=len(number)
        )
    if doc_kind is DocumentKind.HKID:
        return _normalise_hkid(number)
    if doc_kind is DocumentKind.HRP:
        return _normalise_hrp(number)
    if doc_kind is DocumentKind.MACAU:
        return _normalise_macau(number)
    return _normalise_mainland(number, today)


def normalise_field(
    kind: str | DocumentKind, number: str, field: str = "document_number", *,
    today: date | None = None,
) -> str:
    """Normalise like ``normalise``; an error names ``field`` (or ``document_kind``)."""
    try:
        return normalise(kind, number, today=today)
    except InvalidDocumentNumber as error:
        error.field = "document_kind" if error.reason == "unknown_kind" else field
        raise


def mask(kind: str | DocumentKind, normalised: str) -> str:
    """Return a number with all but its first two and its check character hidden."""
    if DocumentKind(kind) in (DocumentKind.HKID, DocumentKind.MACAU):
        body, check = normalised[:-3], normalised[-3:]
        return body[:2] + "*" * (len(body) - 2) + check
    return normalised[:2] + "*" * (len(normalised) - 3) + normalised[-1]
