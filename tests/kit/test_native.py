"""The C module (kit/signing/_native.c) held to its references: the plain CBOR decoder
decodes what cbor2 decodes, the same, and leaves to cbor2 everything else (other forms,
malformed bytes, bytes after the item); the inflater inflates what Python's zlib module
inflates as one whole stream within the limit, and refuses the rest.

(Base45 and the DER signature are held to their references in test_signing.py.)
"""

from __future__ import annotations

import base64
import json
import random
import zlib
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from borderpass.kit.signing import SigningError
from borderpass.kit.signing._base45 import b45decode
from borderpass.kit.signing._cose import _decoded, cbor_decode
from borderpass.kit.signing._deflate import inflate_whole
from borderpass.kit.signing._foreign import read_foreign_sign1
from borderpass.kit.signing._native import cbor_plain

CASES = Path(__file__).resolve().parents[1] / "vectors" / "dcc" / "testdata"


def _same(left: Any, right: Any) -> bool:
    """Equal and of the same types throughout (``1 == True`` and ``1 == 1.0`` are not)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return (list(left) == list(right) and all(map(_same, left, right))
                and all(_same(left[key], right[key]) for key in left))
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right)


def _cbor2(data: bytes) -> tuple[bool, Any]:
    """Return whether cbor2 reads the bytes as exactly one item, and the item."""
    try:
        return True, _decoded(data)
    except SigningError:
        return False, None


def _agrees(data: bytes) -> bool:
    """The C decoder declines, or gives what cbor2 gives; it never reads what cbor2 refuses."""
    ours = cbor_plain(data)
    if ours is NotImplemented:
        return True
    read, theirs = _cbor2(data)
    return read and _same(ours, theirs)


_KEYS = st.integers(-2**70, 2**70) | st.text(max_size=8)
_LEAVES = (st.integers(-2**70, 2**70) | st.text(max_size=20) | st.binary(max_size=20)
           | st.booleans() | st.none() | st.floats(allow_nan=False)
           | st.datetimes().map(lambda moment: cbor2.CBORTag(1, int(moment.timestamp()))))
_VALUES = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=5)
                       | st.dictionaries(_KEYS | st.booleans() | st.binary(max_size=4), inner,
                                         max_size=5), max_leaves=30)


@settings(max_examples=400)
@given(_VALUES)
def test_any_encoded_value_is_decoded_as_cbor2_decodes_it_or_left_to_it(value: Any) -> None:
    assert _agrees(cbor2.dumps(value))


@settings(max_examples=400)
@given(_VALUES, st.data())
def test_changed_bytes_are_never_read_otherwise_than_by_cbor2(value: Any,
                                                             data: st.DataObject) -> None:
    encoded = bytearray(cbor2.dumps(value))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(encoded)))
        change = data.draw(st.sampled_from(("set", "insert", "delete", "cut")))
        if change == "set" and at < len(encoded):
            encoded[at] = data.draw(st.integers(0, 255))
        elif change == "insert":
            encoded[at:at] = bytes([data.draw(st.integers(0, 255))])
        elif change == "delete":
            del encoded[at:at + 1]
        else:
            del encoded[at:]
    assert _agrees(bytes(encoded))


@given(st.binary(max_size=64))
def test_random_bytes_are_never_read_otherwise_than_by_cbor2(data: bytes) -> None:
    assert _agrees(data)


@pytest.mark.parametrize(("hex_text", "expected"), [
    ("00", 0), ("17", 23), ("1818", 24), ("1b" + "ff" * 8, 2**64 - 1),
    ("3b7fffffffffffffff", -2**63), ("20", -1),
    ("1800", 0), ("190001", 1),  # heads longer than they need be, as cbor2 reads them
    ("60", ""), ("40", b""), ("64f09f9880", "\U0001f600"),
    ("a2010101 02", {1: 2}),  # a later equal key wins
    ("83 f4 f5 f6", [False, True, None]),
    ("a2 6161 01 21 82 4100 60", {"a": 1, -2: [b"\x00", ""]}),
])
def test_plain_items_read_as_cbor2_reads_them(hex_text: str, expected: Any) -> None:
    data = bytes.fromhex(hex_text.replace(" ", ""))
    read, theirs = _cbor2(data)
    assert read and _same(theirs, expected)
    assert _same(cbor_plain(data), expected)
    assert _same(cbor_decode(data), expected)


@pytest.mark.parametrize("hex_text", [
    "3bffffffffffffffff",  # below -2**63: cbor2's big integer
    "c11a5f5e1000",  # a tag
    "f93c00", "fa3fc00000", "fb3ff8000000000000",  # floats
    "f7", "e0", "f820",  # undefined and other simple values
    "f814", "f815", "f816",  # false, true and null in a two-byte head (not well-formed)
    "f8f4", "f8f5", "f8f6", "82f8f40b",  # simple values 244 to 246, not false, true, null
    "5f4100ff", "9f01ff", "bf6161 01ff", "7f6161ff",  # indefinite lengths
    "1c", "3d", "5e", "7f", "9e", "be", "fc",  # reserved heads
    "a1f401", "a1f601", "a14101", "a1820102 01",  # keys that are not integers or text
    "6261", "62c328", "818201",  # cut short, bad UTF-8, an array of arrays cut short
    "0000", "a0 00",  # bytes after the item
    "9b" + "ff" * 8, "bb" + "ff" * 8, "5b" + "ff" * 8,  # lengths past the bytes
    "",
    "81" * 40 + "00",  # nested deeper than the plain form goes
])
def test_other_bytes_are_left_to_cbor2(hex_text: str) -> None:
    data = bytes.fromhex(hex_text.replace(" ", ""))
    assert cbor_plain(data) is NotImplemented
    read, theirs = _cbor2(data)
    try:
        ours = cbor_decode(data)
    except SigningError as error:
        assert not read and error.reason == "bad_cbor"
    else:
        assert read and _same(ours, theirs)


def test_a_huge_count_is_declined_without_allocating_it() -> None:
    for head in ("9b", "bb"):
        assert cbor_plain(bytes.fromhex(head + "00000000ffffffff") + b"\x00" * 8) \
            is NotImplemented


def test_every_official_dcc_payload_is_plain_and_read_as_cbor2_reads_it() -> None:
    read = 0
    for path in sorted(CASES.glob("*/2DCode/*/*.json")):
        case = json.loads(path.read_text())
        try:
            raw = zlib.decompress(b45decode(case["PREFIX"][4:]))
            payload = read_foreign_sign1(raw).payload
        except (SigningError, zlib.error, KeyError):
            continue
        if not _cbor2(payload)[0]:
            continue
        ours = cbor_plain(payload)
        if ours is NotImplemented:  # a case written with tags or floats: cbor2's to read
            continue
        assert _same(ours, _cbor2(payload)[1]), path
        read += 1
    assert read >= 50


def test_plain_decoding_holds_on_random_dcc_like_payloads() -> None:
    rng = random.Random(20261201)  # noqa: S311 - test data, not secrets
    for _ in range(300):
        name = base64.b32encode(rng.randbytes(6)).decode()
        value = {1: rng.choice(["AT", "DE", ""]), 4: rng.randrange(2**40), 6: -rng.randrange(99),
                 -260: {1: {"ver": "1.3.0", "nam": {"fn": name},
                            "v": [{"dn": rng.randrange(9), "sd": rng.randrange(9)}]}}}
        assert _same(cbor_plain(cbor2.dumps(value)), value)


# ------------------------------------------------------------------------ inflating


def _reference_inflate(compressed: bytes, limit: int, wbits: int) -> bytes | None:
    """What Python's zlib inflates as exactly one whole stream within the limit, or None."""
    try:
        inflater = zlib.decompressobj(wbits)
        inflated = inflater.decompress(compressed, limit)
    except zlib.error:
        return None
    if inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
        return None
    return inflated


def _ours(compressed: bytes, limit: int, wbits: int) -> bytes | None:
    try:
        return inflate_whole(compressed, limit, raw=wbits < 0)
    except SigningError as error:
        assert error.reason == "bad_compression"
        return None


def _deflated(data: bytes, level: int, wbits: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


@given(st.binary(max_size=3000) | st.text(max_size=500).map(str.encode),
       st.integers(0, 9), st.sampled_from([15, -15]))
def test_a_whole_stream_inflates_as_zlib_inflates_it_up_to_the_limit(
        data: bytes, level: int, wbits: int) -> None:
    compressed = _deflated(data, level, wbits)
    assert _ours(compressed, len(data), wbits) == data
    assert _ours(compressed, len(data) + 100, wbits) == data
    if data:
        assert _ours(compressed, len(data) - 1, wbits) is None  # one byte past the limit
    # Read as the other kind of stream: as zlib reads it (refused, nearly always).
    assert _ours(compressed, len(data), -wbits) == _reference_inflate(compressed, len(data),
                                                                      -wbits)


@settings(max_examples=300)
@given(st.binary(min_size=1, max_size=400), st.sampled_from([15, -15]), st.data())
def test_changed_streams_are_refused_or_inflated_as_zlib_does(
        data: bytes, wbits: int, draw: st.DataObject) -> None:
    stream = bytearray(_deflated(data, 6, wbits))
    for _ in range(draw.draw(st.integers(1, 3))):
        at = draw.draw(st.integers(0, len(stream)))
        change = draw.draw(st.sampled_from(("set", "insert", "cut")))
        if change == "set" and at < len(stream):
            stream[at] ^= 1 << draw.draw(st.integers(0, 7))
        elif change == "insert":
            stream[at:at] = bytes([draw.draw(st.integers(0, 255))])
        else:
            del stream[at:]
    limit = draw.draw(st.sampled_from([len(data), 8192]))
    assert _ours(bytes(stream), limit, wbits) == _reference_inflate(bytes(stream), limit, wbits)


def test_what_is_not_one_whole_stream_is_refused() -> None:
    data = b"health certificate " * 50
    whole = zlib.compress(data)
    with_dictionary = zlib.compressobj(zdict=b"health certificate")
    refused = [whole[:-1], whole + b"\x00", whole + whole, b"", b"\x78", b"not zlib",
               with_dictionary.compress(data) + with_dictionary.flush(),
               zlib.compress(b"x" * 70_000)]  # past the limit below
    for stream in refused:
        assert _reference_inflate(stream, 65536, 15) is None
        assert _ours(stream, 65536, 15) is None
    assert _ours(zlib.compress(b""), 0, 15) == b""
    assert _ours(zlib.compress(b"x" * 65536), 65536, 15) == b"x" * 65536
