"""The worked example of docs/formats/health-code.md, byte for byte; bad input."""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import base45
import cwt
from hypothesis import given, settings
from hypothesis import strategies as st

from borderpass.healthcode.codec import (
    CodeClaims,
    CodeFormatError,
    b45decode,
    b45encode,
    decode_claims,
    encode,
    read,
)
from borderpass.healthcode.lists import TrustStore, sign_list
from borderpass.healthcode.verifier import verify
from borderpass.kit.signing import generate_private_key, load_private_key, public_key_b64

DOC = (Path(__file__).resolve().parents[2] / "docs" / "formats" / "health-code.md").read_text()
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
PREFIX = "BPHC1:"


def _block(kind: str) -> str:
    match = re.search(rf"```{kind}\n(.*?)```", DOC, re.S)
    assert match is not None
    return match.group(1)


def _example() -> tuple[CodeClaims, str]:
    claims = CodeClaims("HK", bytes(range(16)), NOW, datetime(2026, 11, 26, 15, 59, 59, tzinfo=UTC),
                        "green", "CTM", "A1*****(3)", "hkid")
    return claims, _block("pem")


def test_worked_example_byte_for_byte() -> None:
    claims, pem = _example()
    key = load_private_key(pem.encode())
    assert key.kid.hex() in DOC
    text = encode(claims, key, prefix=PREFIX, deterministic=True)
    assert text == _block("text").strip()
    message = read(text, prefix=PREFIX)
    assert message.payload.hex() == _block("hex").strip()
    assert decode_claims(message.payload) == claims


def test_worked_example_verifies_with_cwt_library() -> None:
    _claims, pem = _example()
    message = zlib.decompress(base45.b45decode(_block("text").strip()[len(PREFIX):]))
    public = cwt.COSEKey.from_pem(load_private_key(pem.encode()).public_pem(), alg="ES256",
                                  kid=load_private_key(pem.encode()).kid)
    assert cwt.COSE.new().decode(message, public) == read(_block("text").strip(),
                                                          prefix=PREFIX).payload


def _store(*keys: object, now: datetime = NOW) -> TrustStore:
    anchor = generate_private_key()
    trust = sign_list({"type": "trust-list", "version": 1, "jurisdiction": "HK",
                       "issued_at": now.isoformat(), "max_age_seconds": 86400, "keys": [
                           {"kid": key.kid.hex(), "jurisdiction": "HK", "alg": "ES256",  # type: ignore[attr-defined]
                            "public_key": public_key_b64(key), "valid_from": now.isoformat(),  # type: ignore[arg-type]
                            "valid_until": None} for key in keys]}, anchor)
    revocations = sign_list({"type": "revocations", "version": 1, "jurisdiction": "HK",
                             "issued_at": now.isoformat(), "max_age_seconds": 3600, "since": 0,
                             "through": 0, "entries": []}, anchor)
    return TrustStore.from_bundle(json.loads(json.dumps(
        {"trust_list": trust, "revocations": revocations})))


KEY = generate_private_key()
CLAIMS = CodeClaims("HK", b"\x07" * 16, NOW, NOW + timedelta(hours=10), "green", "CTM",
                    "A1*****(3)", "hkid")
TEXT = encode(CLAIMS, KEY, prefix=PREFIX)
STORE = _store(KEY)


def test_reason_codes() -> None:
    assert verify(TEXT, STORE, now=NOW).valid
    assert verify("HC1:" + TEXT[6:], STORE, now=NOW).reason == "bad_prefix"
    assert verify(TEXT[:-4], STORE, now=NOW).reason in ("bad_base45", "bad_compression")
    assert verify(TEXT, _store(generate_private_key()), now=NOW).reason == "unknown_issuer"
    other = encode(CLAIMS, generate_private_key(), prefix=PREFIX)
    assert verify(other, _store(KEY), now=NOW).result == "cannot_verify"
    assert verify(TEXT, STORE, now=NOW + timedelta(hours=11)).reason == "expired"
    assert verify(TEXT, STORE, now=NOW + timedelta(days=2)).reason == "trust_list_stale"
    assert verify(TEXT, STORE, now=NOW + timedelta(hours=2)).reason == "revocation_list_stale"
    message = zlib.decompress(b45decode(TEXT[6:]))
    tampered = message.replace(b"green", b"amber")
    assert verify(PREFIX + b45encode(zlib.compress(tampered)), STORE, now=NOW).reason == \
        "bad_signature"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_verdict(text: str) -> None:
    verdict = verify(text, STORE, now=NOW)
    assert verdict.result in ("invalid", "cannot_verify") and verdict.reason


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_compressed_bytes_give_a_verdict(data: bytes) -> None:
    for body in (data, zlib.compress(data)):
        verdict = verify(PREFIX + b45encode(body), STORE, now=NOW)
        assert not verdict.valid and verdict.reason


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(TEXT) - 1), st.characters(min_codepoint=32,
                                                                         max_codepoint=126))
def test_one_changed_character_never_verifies(position: int, char: str) -> None:
    changed = TEXT[:position] + char + TEXT[position + 1:]
    verdict = verify(changed, STORE, now=NOW)
    assert verdict.valid == (changed == TEXT)


@given(st.binary(max_size=200))
def test_base45_round_trip_matches_reference(data: bytes) -> None:
    assert b45encode(data) == base45.b45encode(data).decode()
    assert b45decode(b45encode(data)) == data


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=60)
       | st.sampled_from([":::", "GGW", "ZZ", "0", ":::00", "FGW", "FGV"]))
def test_base45_decoder_agrees_with_reference_on_any_text(text: str) -> None:
    try:
        expected: bytes | None = base45.b45decode(text)
    except ValueError:
        expected = None
    try:
        ours: bytes | None = b45decode(text)
    except CodeFormatError as error:
        assert error.reason == "bad_base45"
        ours = None
    assert ours == expected


@given(st.binary(max_size=300))
def test_claims_decoder_only_raises_its_error(data: bytes) -> None:
    try:
        decode_claims(data)
    except CodeFormatError as error:
        assert error.reason
