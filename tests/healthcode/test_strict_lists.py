"""Signed lists and code texts that Python's readers choke on, or that spell one signed
object another way, are refused with ListError or CodeFormatError, never another error."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from borderpass.healthcode.codec import CodeClaims, CodeFormatError, encode, read
from borderpass.healthcode.lists import ListError, TrustStore, sign_list
from borderpass.kit.signing import SigningKey, sign_envelope
from tests.conftest import Command

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
ANCHOR, KEY = SigningKey.generate(), SigningKey.generate()
PREFIX = "BPHC1:"


def _trust(**changes: Any) -> dict[str, Any]:
    content = {
        "type": "trust-list", "version": 1, "jurisdiction": "HK", "issued_at": NOW.isoformat(),
        "max_age_seconds": 86400, "keys": [{
            "kid": KEY.kid.hex(), "jurisdiction": "HK", "alg": "ES256",
            "public_key": KEY.public.to_b64(), "valid_from": NOW.isoformat(),
            "valid_until": None}]}
    return {**content, **changes}


def _revocations(**changes: Any) -> dict[str, Any]:
    content = {
        "type": "revocations", "version": 1, "jurisdiction": "HK", "issued_at": NOW.isoformat(),
        "max_age_seconds": 86400, "poll_seconds": 30, "since": 0, "through": 1,
        "entries": [{"seq": 1, "hash": "ab" * 16,
                     "expires_at": (NOW + timedelta(hours=1)).isoformat()}]}
    return {**content, **changes}


def _store() -> TrustStore:
    return TrustStore.from_trust_list(sign_list(_trust(), ANCHOR))


def _signed_text(text: str) -> dict[str, str]:
    return sign_envelope(text.encode(), ANCHOR)


@pytest.mark.parametrize("changes", [
    {"max_age_seconds": float("inf")},
    {"max_age_seconds": 10**20},
    {"max_age_seconds": 10**9 * 86400},
    {"max_age_seconds": -1},
    {"max_age_seconds": 1.5},
    {"max_age_seconds": "86400"},
    {"max_age_seconds": True},
    {"version": 1.0},
    {"version": True},
    {"issued_at": "9999-12-31T23:59:59-23:59"},
    {"jurisdiction": ["HK"]},
    {"keys": {"a": 1}},
    {"keys": ["not a key"]},
])
def test_a_trust_list_with_a_malformed_value_is_a_list_error(changes: dict[str, Any]) -> None:
    with pytest.raises(ListError, match="bad_list"):
        TrustStore.from_trust_list(sign_list(_trust(**changes), ANCHOR))


@pytest.mark.parametrize("changes", [
    {"poll_seconds": float("inf")},
    {"max_age_seconds": float("-inf")},
    {"max_age_seconds": 10**20},
    {"poll_seconds": 10**20},
    {"since": 2**64},
    {"through": -1},
    {"through": "1"},
    {"entries": [{"seq": 1, "hash": "AB" * 16, "expires_at": NOW.isoformat()}]},
    {"entries": [{"seq": 1, "hash": 12, "expires_at": NOW.isoformat()}]},
    {"entries": [{"seq": 1, "hash": "ab" * 16, "expires_at": "0001-01-01T00:00:00+23:59"}]},
    {"entries": ["ab" * 16]},
])
def test_a_revocation_list_with_a_malformed_value_changes_nothing(
    changes: dict[str, Any]
) -> None:
    store = _store()
    store.apply_revocations(sign_list(_revocations(), ANCHOR))
    before = (dict(store.revoked), store.through, store.revocations_issued_at,
              store.revocations_max_age, store.poll_seconds)
    with pytest.raises(ListError, match="bad_list"):
        store.apply_revocations(sign_list(_revocations(**changes), ANCHOR))
    assert (store.revoked, store.through, store.revocations_issued_at,
            store.revocations_max_age, store.poll_seconds) == before


@pytest.mark.parametrize("payload", [
    "[" * 5000 + "]" * 5000,
    '{"type": "trust-list", "version": ' + "1" * 5000 + "}",
    '{"type": "trust-list", "type": "trust-list", "version": 1}',
    '{"type": "trust-list", "version": NaN}',
    b"\xff\xfe".decode("latin-1"),
])
def test_a_signed_payload_that_is_not_json_is_a_list_error(payload: str) -> None:
    with pytest.raises(ListError, match="bad_list"):
        TrustStore.from_trust_list(_signed_text(payload))


def test_bytes_after_the_zlib_stream_of_a_code_are_refused() -> None:
    from borderpass.kit.signing._base45 import b45decode, b45encode

    claims = CodeClaims("HK", b"\x01" * 16, NOW, NOW + timedelta(hours=12), "green", "CTM",
                        "A1*****(3)", "hkid")
    text = encode(claims, KEY, prefix=PREFIX)
    assert read(text, prefix=PREFIX).kid == KEY.kid
    compressed = b45decode(text[len(PREFIX):])
    assert zlib.decompress(compressed + b"junk") == zlib.decompress(compressed)
    with pytest.raises(CodeFormatError, match="bad_compression"):
        read(PREFIX + b45encode(compressed + b"junk"), prefix=PREFIX)


@pytest.mark.parametrize("content", [
    b"[" * 5000 + b"]" * 5000,
    b'{"trust_list": ' + b"1" * 5000 + b"}",
    b'{"trust_list": {"alg": "ES256", "max": 1e400}}',
    b"\xff\xfe{}",
])
def test_verify_with_an_unreadable_list_file_says_so_without_a_traceback(
    tmp_path: Path, cli: Command, content: bytes
) -> None:
    lists = tmp_path / "trust.json"
    lists.write_bytes(content)
    result = cli("verify", "BPHC1:ABC", "--trust-list", str(lists), "--json")
    assert result.exit_code == 1
    verdict = json.loads(result.stdout)
    assert (verdict["result"], verdict["error"]) == ("cannot_verify", "bad_list")
    assert "Traceback" not in result.output
