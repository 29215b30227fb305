"""Signed JSON envelopes: ``{"alg": "ES256", "kid", "key", "payload", "signature"}``.

``payload`` is the base64url of the signed bytes and ``signature`` the base64url of the
ES256 ``r || s`` over them; ``key`` is the signer's SubjectPublicKeyInfo in base64, so a
reader pins the signer by key id (the trust and revocation lists, health-code.md).
"""

from __future__ import annotations

import base64

from borderpass.kit.signing._cose import SigningKey, VerifyKey, es256_sign, es256_verify
from borderpass.kit.signing._error import SigningError

__all__ = ["open_envelope", "sign_envelope"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_envelope(payload: bytes, key: SigningKey) -> dict[str, str]:
    """Sign bytes with ``key`` and return the envelope that carries them."""
    return {
        "alg": "ES256",
        "kid": key.kid.hex(),
        "key": key.public.to_b64(),
        "payload": _b64url(payload),
        "signature": _b64url(es256_sign(key, payload)),
    }


def open_envelope(envelope: object, *, anchor: str | None = None) -> tuple[bytes, str]:
    """Check an envelope's signature; return the signed bytes and the signer's hex key id.

    Args:
        anchor: if given, the hex key id the signer must have (a pinned anchor).

    Raises:
        SigningError: ``bad_envelope`` (unreadable), ``wrong_anchor`` or ``bad_signature``.
    """
    try:
        if not isinstance(envelope, dict) or envelope.get("alg") != "ES256":
            raise SigningError("bad_envelope")
        key = VerifyKey.from_b64(str(envelope["key"]))
        if key.kid.hex() != envelope.get("kid"):
            raise SigningError("bad_envelope")
        payload = _unb64url(str(envelope["payload"]))
        signature = _unb64url(str(envelope["signature"]))
    except (KeyError, ValueError, SigningError):
        raise SigningError("bad_envelope") from None
    if anchor is not None and key.kid.hex() != anchor.lower():
        raise SigningError("wrong_anchor")
    if not es256_verify(key, payload, signature):
        raise SigningError("bad_signature")
    return payload, key.kid.hex()
