"""COSE recipes: P-256 key pairs, signed objects (COSE_Sign1, ES256) and objects encrypted
to a recipient's public key (COSE_Encrypt, ECDH-ES+HKDF-256 with A128GCM).

Signing then encrypting gives a token that only the holder of the signing key can make
and only the holder of the recipient key can read. Every failure is an
``EnvelopeError`` with a reason code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import cbor2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cwt import COSE, COSEKey, Recipient

from borderpass.kit.signing.cose import CoseError, cbor_decode

__all__ = [
    "EnvelopeError",
    "decrypt_from",
    "encrypt_to",
    "pem_key_id",
    "new_key_pair",
    "public_key_of",
    "sign_cose",
    "signer_kid",
    "verify_cose",
]

_SIGN_ALG = "ES256"
_KEY_AGREEMENT = "ECDH-ES+HKDF-256"
_CONTENT_ALG = "A128GCM"
_KID = 4  # COSE header label of the key id


# One exception type for every COSE failure, whichever recipe raised it.
EnvelopeError = CoseError


def new_key_pair() -> tuple[bytes, bytes]:
    """Make a P-256 key pair.

    Returns:
        The private key (PKCS#8 PEM) and the public key (SubjectPublicKeyInfo PEM).
    """
    private = ec.generate_private_key(ec.SECP256R1())
    return (
        private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
        _public_pem(private.public_key()),
    )


def _public_pem(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_of(pem: bytes) -> bytes:
    """Return the public key (PEM) of a private or public P-256 key given as PEM.

    Raises:
        EnvelopeError: ``bad_key`` when the text is not a P-256 key.
    """
    try:
        if b"PRIVATE KEY" in pem:
            private = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(private, ec.EllipticCurvePrivateKey):
                raise EnvelopeError("bad_key", "not an EC key")
            public = private.public_key()
        else:
            loaded = serialization.load_pem_public_key(pem)
            if not isinstance(loaded, ec.EllipticCurvePublicKey):
                raise EnvelopeError("bad_key", "not an EC key")
            public = loaded
    except (ValueError, TypeError) as exc:
        raise EnvelopeError("bad_key", "not a PEM key") from exc
    if not isinstance(public.curve, ec.SECP256R1):
        raise EnvelopeError("bad_key", "the curve must be P-256")
    return _public_pem(public)


def pem_key_id(pem: bytes) -> bytes:
    """Return an 8-byte key id: the start of the SHA-256 of the public key's DER form."""
    public = serialization.load_pem_public_key(public_key_of(pem))
    der = public.public_bytes(serialization.Encoding.DER,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()[:8]


def sign_cose(payload: bytes, private_pem: bytes, kid: bytes) -> bytes:
    """Sign ``payload`` as a tagged COSE_Sign1 with ES256, naming the key by ``kid``."""
    key = COSEKey.from_pem(private_pem, alg=_SIGN_ALG, kid=kid)
    signed: bytes = COSE.new().encode_and_sign(
        payload, key, protected={"alg": _SIGN_ALG}, unprotected={"kid": kid}
    )
    return signed


def signer_kid(signed: bytes) -> bytes:
    """Read the key id of a COSE_Sign1 without verifying it (to find the key to verify with).

    Raises:
        EnvelopeError: ``malformed`` when it is not a COSE_Sign1 with a key id.
    """
    item = cbor_decode(signed)
    body = item.value if isinstance(item, cbor2.CBORTag) and item.tag == 18 else item
    if not isinstance(body, list) or len(body) != 4 or not isinstance(body[1], dict):
        raise EnvelopeError("malformed", "not a COSE_Sign1")
    kid = body[1].get(_KID)
    if kid is None and isinstance(body[0], bytes) and body[0]:
        protected = cbor_decode(body[0])
        kid = protected.get(_KID) if isinstance(protected, dict) else None
    if not isinstance(kid, bytes) or not kid:
        raise EnvelopeError("malformed", "no key id")
    return kid


def verify_cose(signed: bytes, find_key: Callable[[bytes], bytes | None]) -> tuple[bytes, bytes]:
    """Verify a COSE_Sign1 with the public key that ``find_key`` returns for its key id.

    Returns:
        The key id and the verified payload.

    Raises:
        EnvelopeError: ``malformed``, ``unknown_key`` or ``bad_signature``.
    """
    kid = signer_kid(signed)
    public = find_key(kid)
    if public is None:
        raise EnvelopeError("unknown_key", kid.hex())
    key = COSEKey.from_pem(public, alg=_SIGN_ALG, kid=kid)
    try:
        payload: bytes = COSE.new().decode(signed, key)
    except Exception as exc:  # noqa: BLE001 - cwt raises several types; all mean refused
        raise EnvelopeError("bad_signature", type(exc).__name__) from exc
    return kid, payload


def encrypt_to(payload: bytes, recipient_public_pem: bytes) -> bytes:
    """Encrypt ``payload`` as a tagged COSE_Encrypt readable only by the recipient's key.

    A fresh ephemeral key agrees a content key with the recipient (ECDH-ES+HKDF-256); the
    content is sealed with AES-128-GCM.
    """
    kid = pem_key_id(recipient_public_pem)
    recipient = Recipient.new(
        unprotected={"alg": _KEY_AGREEMENT, "kid": kid},
        recipient_key=COSEKey.from_pem(recipient_public_pem, kid=kid),
        context={"alg": _CONTENT_ALG},
    )
    encrypted: bytes = COSE.new().encode(
        payload, protected={"alg": _CONTENT_ALG}, recipients=[recipient]
    )
    return encrypted


def decrypt_from(encrypted: bytes, recipient_private_pem: bytes) -> bytes:
    """Open what ``encrypt_to`` made for this recipient.

    Raises:
        EnvelopeError: ``undecryptable`` when it is not for this key or was altered.
    """
    key = COSEKey.from_pem(recipient_private_pem, alg=_KEY_AGREEMENT,
                           kid=pem_key_id(recipient_private_pem))
    try:
        plain: bytes = COSE.new().decode(encrypted, key, context={"alg": _CONTENT_ALG})
    except Exception as exc:  # noqa: BLE001 - cwt raises several types; all mean refused
        raise EnvelopeError("undecryptable", type(exc).__name__) from exc
    return plain
