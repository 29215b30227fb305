"""Document number validators (`borderpass ids check` on top of them: test_cli.py)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from borderpass.identity.documents import (
    InvalidDocumentNumber,
    hkid_check_character,
    mainland_check_character,
    mask,
    normalise,
)

VALID = [
    ("hkid", "A123456(3)", "A123456(3)"),
    ("hkid", "A1234563", "A123456(3)"),
    ("hkid", "a123456(3)", "A123456(3)"),
    ("hkid", " a 123456 3 ", "A123456(3)"),
    ("hkid", "Z437626(A)", "Z437626(A)"),
    ("hkid", "z437626a", "Z437626(A)"),
    ("hkid", "C668668(E)".replace("(E)", "(" + hkid_check_character("C668668") + ")"),
     "C668668(" + hkid_check_character("C668668") + ")"),
    ("hkid", "XA000000(" + hkid_check_character("XA000000") + ")",
     "XA000000(" + hkid_check_character("XA000000") + ")"),
    ("hrp", "H12345678", "H12345678"),
    ("hrp", "m87654321", "M87654321"),
    ("hrp", "H1234567801", "H1234567801"),
    ("macau", "1234567(8)", "1234567(8)"),
    ("macau", "5215299 8", "5215299(8)"),
    ("macau", "7/123456/1", "7123456(1)"),
    ("mainland", "11010519491231002X", "11010519491231002X"),
    ("mainland", "11010519491231002x", "11010519491231002X"),
    ("mainland", "440308199001011234".replace("1234", "123" + mainland_check_character(
        "44030819900101123")), "44030819900101123" + mainland_check_character(
        "44030819900101123")),
]

INVALID = [
    ("hkid", "A123456(4)", "wrong_check_character", "expected 3"),
    ("hkid", "Z437626(0)", "wrong_check_character", "expected A"),
    ("hkid", "A12345(3)", "wrong_length", "got 7"),
    ("hkid", "ABC123456(3)", "wrong_length", "got 10"),
    ("hkid", "1123456(3)", "bad_character", "a letter"),
    ("hkid", "A12345X(3)", "bad_character", "a digit"),
    ("hkid", "A123456(B)", "bad_character", "check character"),
    ("hkid", "A123456#3", "bad_character", "position"),
    ("hkid", "", "wrong_length", "empty"),
    ("hrp", "X12345678", "bad_character", "H (Hong Kong) or M"),
    ("hrp", "H1234567", "wrong_length", "got 8"),
    ("hrp", "H123456789", "wrong_length", "got 10"),
    ("hrp", "H1234A678", "bad_character", "a digit"),
    ("macau", "3234567(8)", "bad_character", "1, 5 or 7"),
    ("macau", "123456(8)", "wrong_length", "got 7"),
    ("macau", "1234567(X)", "bad_character", "a digit"),
    ("mainland", "110105194912310021", "wrong_check_character", "expected X"),
    ("mainland", "11010519491231002", "wrong_length", "got 17"),
    ("mainland", "1101051949123100211", "wrong_length", "got 19"),
    ("mainland", "110105194902300021", "impossible_birth_date", "1949-02-30"),
    ("mainland", "110105199013010021", "impossible_birth_date", "1990-13-01"),
    ("mainland", "11010518000101002X", "impossible_birth_date", "1800-01-01"),
    ("mainland", "1101051949123100AX", "bad_character", "a digit"),
    ("mainland", "11010519491231002Y", "bad_character", "0-9 or X"),
    ("passport", "K1234567", "unknown_kind", "hkid, hrp, macau or mainland"),
]


@pytest.mark.parametrize(("kind", "number", "expected"), VALID)
def test_valid_numbers_normalise(kind: str, number: str, expected: str) -> None:
    assert normalise(kind, number) == expected


@pytest.mark.parametrize(("kind", "number", "reason", "words"), INVALID)
def test_invalid_numbers_say_why(kind: str, number: str, reason: str, words: str) -> None:
    with pytest.raises(InvalidDocumentNumber) as caught:
        normalise(kind, number)
    assert caught.value.reason == reason
    assert words in caught.value.render("en")


def test_future_birth_date_is_impossible_when_today_is_known() -> None:
    body = "11010520300101002"
    number = body + mainland_check_character(body)
    assert normalise("mainland", number) == number
    with pytest.raises(InvalidDocumentNumber) as caught:
        normalise("mainland", number, today=date(2026, 11, 26))
    assert caught.value.reason == "impossible_birth_date"


def test_messages_never_repeat_the_number() -> None:
    for kind, number, _reason, _words in INVALID:
        with pytest.raises(InvalidDocumentNumber) as caught:
            normalise(kind, number)
        digits = "".join(c for c in number if c.isalnum())
        if len(digits) >= 6:
            assert digits[:6] not in caught.value.render("en")


def test_masks() -> None:
    assert mask("hkid", "A123456(3)") == "A1*****(3)"
    assert mask("hkid", "AB987654(3)") == "AB******(3)"
    assert mask("macau", "1234567(8)") == "12*****(8)"
    assert mask("mainland", "11010519491231002X") == "11***************X"


letters = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=2)
six_digits = st.text(alphabet="0123456789", min_size=6, max_size=6)


@given(letters, six_digits)
def test_every_hkid_with_its_check_character_is_accepted(prefix: str, digits: str) -> None:
    body = prefix + digits
    check = hkid_check_character(body)
    assert normalise("hkid", body + check) == f"{body}({check})"
    for wrong in "0123456789A":
        if wrong != check:
            with pytest.raises(InvalidDocumentNumber) as caught:
                normalise("hkid", body + wrong)
            assert caught.value.reason == "wrong_check_character"
            assert f"expected {check}" in caught.value.render("en")
            break


@given(st.text(alphabet="0123456789", min_size=6, max_size=6),
       st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 1, 1)),
       st.text(alphabet="0123456789", min_size=3, max_size=3))
def test_every_mainland_number_with_its_check_character_is_accepted(
    region: str, born: date, serial: str
) -> None:
    body = region + born.strftime("%Y%m%d") + serial
    number = body + mainland_check_character(body)
    assert normalise("mainland", number.lower()) == number


@given(st.text(max_size=80), st.sampled_from(["hkid", "hrp", "macau", "mainland", "x"]))
def test_any_text_is_accepted_or_refused_with_a_reason(text: str, kind: str) -> None:
    try:
        normalise(kind, text)
    except InvalidDocumentNumber as error:
        assert error.reason in {"unknown_kind", "wrong_length", "bad_character",
                                "wrong_check_character", "impossible_birth_date"}
