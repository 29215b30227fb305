"""Recipes for venue check-in: Ed25519 detached signatures and exposure tokens.

Venue posters and published exposure lists are signed by the platform, uploads by the
phone's own device key, all with Ed25519 (RFC 8032). An exposure token is an HMAC of
an hour number under a venue's secret, so that only someone who holds the secret (who
scanned the poster) can recognise the venue in a published list.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "TOKEN_BYTES",
    "SignatureInvalid",
    "derived_secret",
    "ed25519_public",
    "ed25519_sign",
    "ed25519_verify",
    "exposure_token",
    "ed25519_key_id",
    "new_seed",
    "new_venue_secret",
]

TOKEN_BYTES = 16
_TOKEN_LABEL = b"BPX1"


class SignatureInvalid(Exception):
    """A signature does not verify: wrong key, or the signed bytes were altered."""


def new_seed() -> bytes:
    """Return a fresh 32-byte Ed25519 private key seed."""
    return secrets.token_bytes(32)


def new_venue_secret() -> bytes:
    """Return a fresh 16-byte venue secret."""
    return secrets.token_bytes(16)


def ed25519_public(seed: bytes) -> bytes:
    """Return the raw 32-byte public key of a 32-byte private key seed."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def ed25519_key_id(public: bytes) -> str:
    """Return the short name of a public key: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(public).hexdigest()[:8]


def ed25519_sign(seed: bytes, message: bytes) -> bytes:
    """Sign ``message`` with the private key of ``seed``; return the 64-byte signature.

    Ed25519 signatures are deterministic: the same key and message give the same bytes.
    """
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> None:
    """Check a detached Ed25519 signature.

    Raises:
        SignatureInvalid: the key is malformed, or the signature does not verify.
    """
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError) as exc:
        raise SignatureInvalid("signature does not verify") from exc


def exposure_token(secret: bytes, hour: int) -> bytes:
    """Return the token of a venue for one hour: HMAC-SHA-256(secret, "BPX1" ‖ hour), 16 bytes.

    Args:
        secret: the venue's secret (or a derived one, see ``derived_secret``).
        hour: whole hours since 1970-01-01T00:00Z.
    """
    message = _TOKEN_LABEL + hour.to_bytes(8, "big", signed=False)
    return hmac.new(secret, message, hashlib.sha256).digest()[:TOKEN_BYTES]


def derived_secret(label: str, public_id: str) -> bytes:
    """Return the stand-in secret of a place that has none: SHA-256(label ‖ NUL ‖ id), 16 bytes.

    Used for legacy venues (their id is printed on the poster) and taxis (their plate):
    anyone who knows the id can compute it, so it hides nothing from them.
    """
    return hashlib.sha256(label.encode() + b"\x00" + public_id.encode()).digest()[:16]
