"""Verifications per second: the offline verifier's library function against a bare ES256 check.

Prints one line: both rates and their ratio (target ≤ 1.5).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from borderpass.healthcode.codec import CodeClaims, encode
from borderpass.healthcode.lists import TrustStore, sign_list
from borderpass.healthcode.verifier import verify
from borderpass.kit.signing import SigningKey

# The bare baseline is, deliberately, the private ES256 primitive under the recipes: the
# same check of an r || s signature with cryptography, without the code around it.
from borderpass.kit.signing._cose import es256_sign, es256_verify

SECONDS = 3.0


def _rates(first: Callable[[], object], second: Callable[[], object]) -> tuple[float, float]:
    # Alternate short rounds of each, so that load from elsewhere on the machine falls on both.
    spent = [0.0, 0.0]
    count = 0
    deadline = time.perf_counter() + 2 * SECONDS
    while time.perf_counter() < deadline:
        for index, action in enumerate((first, second)):
            started = time.perf_counter()
            for _ in range(100):
                action()
            spent[index] += time.perf_counter() - started
        count += 100
    return count / spent[0], count / spent[1]


def main() -> None:
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    key, anchor = SigningKey.generate(), SigningKey.generate()
    claims = CodeClaims("HK", b"\x01" * 16, now, now + timedelta(hours=12), "green", "CTM",
                        "A1*****(3)", "hkid")
    text = encode(claims, key, prefix="BPHC1:")
    trust = sign_list({"type": "trust-list", "version": 1, "jurisdiction": "HK",
                       "issued_at": now.isoformat(), "max_age_seconds": 86400, "keys": [
                           {"kid": key.kid.hex(), "jurisdiction": "HK", "alg": "ES256",
                            "public_key": key.public.to_b64(), "valid_from": now.isoformat(),
                            "valid_until": None}]}, anchor)
    revocations = sign_list({"type": "revocations", "version": 1, "jurisdiction": "HK",
                             "issued_at": now.isoformat(), "max_age_seconds": 86400, "since": 0,
                             "through": 1000, "entries": [
                                 {"seq": n, "hash": f"{n:032x}",
                                  "expires_at": (now + timedelta(hours=1)).isoformat()}
                                 for n in range(1000)]}, anchor)
    store = TrustStore.from_bundle({"trust_list": trust, "revocations": revocations})
    assert verify(text, store, now=now).valid  # noqa: S101 - the benchmark checks what it times
    message, public = b"x" * 120, key.public
    signature = es256_sign(key, message)
    library, bare = _rates(lambda: verify(text, store, now=now),
                           lambda: es256_verify(public, message, signature))
    print(f"verify: {library:,.0f}/s library, {bare:,.0f}/s bare ES256 (cryptography), "
          f"ratio {bare / library:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
