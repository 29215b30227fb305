"""The strict readers of untrusted text: one spelling per value, one error for the rest."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from borderpass.kit.decoding import (
    DecodeError,
    b64_decode,
    b64url_decode,
    b64url_encode,
    load_json,
    without_line_end,
)


@given(st.binary(max_size=200))
def test_base64url_round_trips(data: bytes) -> None:
    assert b64url_decode(b64url_encode(data)) == data


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .\n",
               max_size=40))
def test_base64url_accepts_only_the_one_spelling_of_some_bytes(text: str) -> None:
    try:
        data = b64url_decode(text)
    except DecodeError:
        return
    assert b64url_encode(data) == text


@pytest.mark.parametrize("text", ["AB", "AQ==", "AQ=", "A", "AQ\n", " AQ", "AQ.", "AR", "+w",
                                  "/w", "AQ\u00e9", "\uff21Q"])
def test_base64url_refuses_other_spellings(text: str) -> None:
    # "AQ" is the one spelling of b"\x01"; "AR" differs from it in the spare bits only.
    assert b64url_decode("AQ") == b"\x01"
    with pytest.raises(DecodeError):
        b64url_decode(text)


def test_base64url_checks_the_size() -> None:
    assert b64url_decode(b64url_encode(bytes(16)), size=16) == bytes(16)
    with pytest.raises(DecodeError, match="15 bytes where 16"):
        b64url_decode(b64url_encode(bytes(15)), size=16)


@given(st.binary(max_size=120))
def test_padded_base64_round_trips_and_refuses_spare_bits(data: bytes) -> None:
    text = base64.b64encode(data).decode()
    assert b64_decode(text) == data
    body = text.rstrip("=")
    if body and len(text) != len(body):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        other = body[:-1] + alphabet[alphabet.index(body[-1]) ^ 1] + text[len(body):]
        with pytest.raises(DecodeError, match="spare bits"):
            b64_decode(other)
    for wrong in (body if body != text else text + "=", " " + text, text + "\n",
                  text.replace("+", "-")):
        if wrong != text:
            with pytest.raises(DecodeError):
                b64_decode(wrong)


@pytest.mark.parametrize(("text", "reason"), [
    ("[" * 5000 + "]" * 5000, "nest deeper than 32"),
    ("[" * 33 + "]" * 33, "nest deeper than 32"),
    ('{"a":' * 40 + "1" + "}" * 40, "nest deeper than 32"),
    ("1" * 5000, "more than 30 digits"),
    ("-" + "1" * 31, "more than 30 digits"),
    ("1e400", "out of range"),
    ("[-1e400]", "out of range"),
    ("NaN", "NaN is not JSON"),
    ("[Infinity]", "Infinity is not JSON"),
    ('{"a": 1, "a": 1}', "appears twice"),
    ('["\\ud800"]', "lone surrogate"),
    ('{"\\udfff": 1}', "lone surrogate"),
    ("\ufeff{}", "byte order mark"),
    ("{", "not JSON"),
    ("[1,]", "not JSON"),
])
def test_json_python_would_take_or_choke_on_is_refused(text: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        load_json(text)
    with pytest.raises(DecodeError, match=reason):
        load_json(text.encode("utf-8", "surrogatepass"))


def test_json_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(DecodeError, match="not UTF-8"):
        load_json('{"a": "é"}'.encode("latin-1"))
    with pytest.raises(DecodeError, match="not UTF-8"):
        load_json('{"a": 1}'.encode("utf-16"))
    with pytest.raises(DecodeError, match="lone surrogate"):
        load_json('["\ud800"]')


def test_json_within_the_bounds_reads_as_json_loads_reads_it() -> None:
    document: Any = {"a": [1, -2, 3.5, 1e300, "é\u202e", None, True, {"b": "\\u0041"}],
                     "n": 10**29, "deep": [[[[[[[[[[]]]]]]]]]]}
    text = json.dumps(document, ensure_ascii=False)
    assert load_json(text) == json.loads(text) == document
    assert load_json(json.dumps(document).encode()) == document
    assert load_json("[" * 31 + "]" * 31, max_depth=31) is not None
    assert load_json('["\\ud83d\\ude00"]') == ["\U0001f600"]


@given(st.text(max_size=60))
def test_any_text_gives_json_or_a_decode_error(text: str) -> None:
    try:
        load_json(text)
    except DecodeError:
        pass


def test_only_one_line_end_is_taken_away() -> None:
    assert without_line_end("ABC\n") == without_line_end("ABC\r\n") == "ABC"
    assert without_line_end("ABC\n\n") == "ABC\n"
    assert without_line_end("ABC\r") == "ABC\r"
    assert without_line_end(" ABC ") == " ABC "
