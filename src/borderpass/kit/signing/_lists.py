"""Signed JSON envelopes: ``{"alg": "ES256", "kid", "key", "payload", "signature"}``.

``payload`` is the unpadded base64url of the signed bytes and ``signature`` that of the
ES256 ``r || s`` over them; ``key`` is the signer's SubjectPublicKeyInfo in base64, so a
reader pins the signer by key id (the trust and revocation lists, health-code.md). An
envelope has these five fields and no others, each written in its one canonical way.
"""

from __future__ import annotations

from borderpass.kit.decoding import DecodeError, b64url_decode, b64url_encode
from borderpass.kit.signing._cose import SigningKey, VerifyKey, es256_sign, es256_verify
from borderpass.kit.signing._error import SigningError

__all__ = ["open_envelope", "sign_envelope"]

_FIELDS = {"alg", "kid", "key", "payload", "signature"}


def sign_envelope(payload: bytes, key: SigningKey) -> dict[str, str]:
    """Sign bytes with ``key`` and return the envelope that carries them."""
    return {
        "alg": "ES256",
        "kid": key.kid.hex(),
        "key": key.public.to_b64(),
        "payload": b64url_encode(payload),
        "signature": b64url_encode(es256_sign(key, payload)),
    }


def open_envelope(envelope: object, *, anchor: str | None = None) -> tuple[bytes, str]:
    """Check an envelope's signature; return the signed bytes and the signer's hex key id.

    Args:
        anchor: if given, the hex key id the signer must have (a pinned anchor).

    Raises:
        SigningError: ``bad_envelope`` (unreadable), ``wrong_anchor`` or ``bad_signature``.
    """
    if not isinstance(envelope, dict) or envelope.keys() != _FIELDS:
        raise SigningError("bad_envelope", "not an object of alg, kid, key, payload, signature")
    if envelope["alg"] != "ES256" or not all(isinstance(value, str)
                                             for value in envelope.values()):
        raise SigningError("bad_envelope")
    try:
        key = VerifyKey.from_b64(envelope["key"])
        payload = b64url_decode(envelope["payload"])
        signature = b64url_decode(envelope["signature"], size=64)
    except (DecodeError, SigningError):
        raise SigningError("bad_envelope") from None
    if key.kid.hex() != envelope["kid"]:
        raise SigningError("bad_envelope")
    if anchor is not None and key.kid.hex() != anchor.lower():
        raise SigningError("wrong_anchor")
    if not es256_verify(key, payload, signature):
        raise SigningError("bad_signature")
    return payload, key.kid.hex()
