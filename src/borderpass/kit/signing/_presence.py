"""Recipes for venue check-in: Ed25519 detached signatures and exposure tokens.

Venue posters and published exposure lists are signed by the platform's venue-signing
key (``venue_signer``), uploads by the phone's own device key, all with Ed25519
(RFC 8032). An exposure token is an HMAC of an hour number under a venue's secret, so
that only someone who holds the secret (who scanned the poster) can recognise the venue
in a published list.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from borderpass.kit.config import get_settings
from borderpass.kit.signing._error import SigningError

__all__ = ["DetachedSigner", "derived_secret", "exposure_token", "venue_signer",
           "verify_detached"]

_TOKEN_BYTES = 16
_TOKEN_LABEL = b"BPX1"


@dataclass(frozen=True)
class DetachedSigner:
    """An Ed25519 key, kept as its 32-byte seed, that signs texts with detached signatures."""

    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise SigningError("bad_key", "an Ed25519 seed is 32 bytes")

    @classmethod
    def generate(cls) -> DetachedSigner:
        """Make a fresh key (a phone's device key)."""
        return cls(secrets.token_bytes(32))

    @property
    def public(self) -> bytes:
        """Return the raw 32-byte public key."""
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return public.public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        """Return the short name of the public key: the first 8 hex digits of its SHA-256."""
        return hashlib.sha256(self.public).hexdigest()[:8]

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte signature of ``message``; equal messages get equal signatures."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def venue_signer() -> DetachedSigner:
    """Return the platform's venue-signing key, from the settings."""
    return DetachedSigner(get_settings().secret_bytes("venue_signing_key"))


def verify_detached(public: bytes, message: bytes, signature: bytes) -> None:
    """Check a detached Ed25519 signature made with the raw public key ``public``.

    Raises:
        SigningError: ``bad_signature`` when the key is malformed or it does not verify.
    """
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError) as exc:
        raise SigningError("bad_signature", "the signature does not verify") from exc


def exposure_token(secret: bytes, hour: int) -> bytes:
    """Return the token of a venue for one hour: HMAC-SHA-256(secret, "BPX1" ‖ hour), 16 bytes.

    Args:
        secret: the venue's secret (or a derived one, see ``derived_secret``).
        hour: whole hours since 1970-01-01T00:00Z.
    """
    message = _TOKEN_LABEL + hour.to_bytes(8, "big", signed=False)
    return hmac.new(secret, message, hashlib.sha256).digest()[:_TOKEN_BYTES]


def derived_secret(label: str, public_id: str) -> bytes:
    """Return the stand-in secret of a place that has none: SHA-256(label ‖ NUL ‖ id), 16 bytes.

    Used for legacy venues (their id is printed on the poster) and taxis (their plate):
    anyone who knows the id can compute it, so it hides nothing from them.
    """
    return hashlib.sha256(label.encode() + b"\x00" + public_id.encode()).digest()[:16]
