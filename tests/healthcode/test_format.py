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
    decode_claims,
    encode,
    read,
)
from borderpass.healthcode.lists import TrustStore, sign_list
from borderpass.healthcode.verifier import verify
from borderpass.kit.signing import SigningKey, verify_code

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
    key = SigningKey.from_pem(pem.encode())
    assert key.kid.hex() in DOC
    text = encode(claims, key, prefix=PREFIX, deterministic=True)
    assert text == _block("text").strip()
    message = read(text, prefix=PREFIX)
    assert message.payload.hex() == _block("hex").strip()
    assert decode_claims(verify_code(message, key.public)) == claims


def test_worked_example_verifies_with_cwt_library() -> None:
    _claims, pem = _example()
    message = zlib.decompress(base45.b45decode(_block("text").strip()[len(PREFIX):]))
    key = SigningKey.from_pem(pem.encode())
    public = cwt.COSEKey.from_pem(key.public.to_pem(), alg="ES256", kid=key.kid)
    assert cwt.COSE.new().decode(message, public) == read(_block("text").strip(),
                                                          prefix=PREFIX).payload


def _store(*keys: SigningKey, now: datetime = NOW) -> TrustStore:
    anchor = SigningKey.generate()
    trust = sign_list({"type": "trust-list", "version": 1, "jurisdiction": "HK",
                       "issued_at": now.isoformat(), "max_age_seconds": 86400, "keys": [
                           {"kid": key.kid.hex(), "jurisdiction": "HK", "alg": "ES256",
                            "public_key": key.public.to_b64(), "valid_from": now.isoformat(),
                            "valid_until": None} for key in keys]}, anchor)
    revocations = sign_list({"type": "revocations", "version": 1, "jurisdiction": "HK",
                             "issued_at": now.isoformat(), "max_age_seconds": 3600, "since": 0,
                             "through": 0, "entries": []}, anchor)
    return TrustStore.from_bundle(json.loads(json.dumps(
        {"trust_list": trust, "revocations": revocations})))


KEY = SigningKey.generate()
CLAIMS = CodeClaims("HK", b"\x07" * 16, NOW, NOW + timedelta(hours=10), "green", "CTM",
                    "A1*****(3)", "hkid")
TEXT = encode(CLAIMS, KEY, prefix=PREFIX)
STORE = _store(KEY)


def test_reason_codes() -> None:
    assert verify(TEXT, STORE, now=NOW).valid
    assert verify("HC1:" + TEXT[6:], STORE, now=NOW).reason == "bad_prefix"
    assert verify(TEXT[:-4], STORE, now=NOW).reason in ("bad_base45", "bad_compression")
    assert verify(TEXT, _store(SigningKey.generate()), now=NOW).reason == "unknown_issuer"
    other = encode(CLAIMS, SigningKey.generate(), prefix=PREFIX)
    assert verify(other, _store(KEY), now=NOW).result == "cannot_verify"
    assert verify(TEXT, STORE, now=NOW + timedelta(hours=11)).reason == "expired"
    assert verify(TEXT, STORE, now=NOW + timedelta(days=2)).reason == "trust_list_stale"
    assert verify(TEXT, STORE, now=NOW + timedelta(hours=2)).reason == "revocation_list_stale"
    message = zlib.decompress(base45.b45decode(TEXT[6:]))
    tampered = message.replace(b"green", b"amber")
    assert verify(PREFIX + base45.b45encode(zlib.compress(tampered)).decode(), STORE,
                  now=NOW).reason == "bad_signature"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_verdict(text: str) -> None:
    verdict = verify(text, STORE, now=NOW)
    assert verdict.result in ("invalid", "cannot_verify") and verdict.reason


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_compressed_bytes_give_a_verdict(data: bytes) -> None:
    for body in (data, zlib.compress(data)):
        verdict = verify(PREFIX + base45.b45encode(body).decode(), STORE, now=NOW)
        assert not verdict.valid and verdict.reason


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(TEXT) - 1), st.characters(min_codepoint=32,
                                                                         max_codepoint=126))
def test_one_changed_character_never_verifies(position: int, char: str) -> None:
    changed = TEXT[:position] + char + TEXT[position + 1:]
    verdict = verify(changed, STORE, now=NOW)
    assert verdict.valid == (changed == TEXT)


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.binary(max_size=70),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from([1, 4, 6, 7, -65537, "v", "c", "n", "d", "k"]) | st.integers(),
        inner, max_size=6),
    max_leaves=20)


@given(_VALUES)
def test_claims_decoder_only_raises_its_error(claims: object) -> None:
    try:
        decode_claims(claims)
    except CodeFormatError as error:
        assert error.reason
