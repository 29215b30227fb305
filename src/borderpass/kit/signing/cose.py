"""COSE_Sign1 (RFC 9052) with ES256, CBOR, and raw ES256 signatures over bytes.

A signed message is ``COSE_Sign1 = #6.18([protected, unprotected, payload, signature])``
where ``protected`` is the CBOR map ``{1: -7 (ES256), 4: kid}`` as a byte string and the
signature is the 64-byte ``r || s`` over
``Sig_structure = ["Signature1", protected, h'', payload]``. This is the container the
EU DCC uses, so the same verifier can check those too; codes we sign verify with the
``cwt`` package (a test shows it).

Every failure to read or check a message raises :class:`CoseError` with a reason code.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

__all__ = [
    "ES256",
    "CoseError",
    "PrivateKey",
    "PublicKey",
    "Sign1",
    "cbor_decode",
    "cbor_encode",
    "check_sign1",
    "es256_sign",
    "es256_verify",
    "generate_private_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "open_sign1",
    "private_key_pem",
    "public_key_b64",
    "sign1",
]

ES256 = -7
_HEADER_ALG = 1
_HEADER_KID = 4
_SIGN1_TAG = 18
_CURVE = ec.SECP256R1()
_MAX_MESSAGE = 64 * 1024


class CoseError(Exception):
    """A message could not be read or did not verify; ``reason`` says why, as a code."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class PrivateKey:
    """An ES256 signing key and its key id; the key object itself stays in this module."""

    kid: bytes
    _key: ec.EllipticCurvePrivateKey

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.kid, self._key.public_key())

    def public_pem(self) -> bytes:
        """Return the public key as SubjectPublicKeyInfo PEM."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass(frozen=True)
class PublicKey:
    """An ES256 verification key and its key id."""

    kid: bytes
    _key: ec.EllipticCurvePublicKey


def _spki(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_der: bytes) -> bytes:
    """Return the key id of a public key: the first 8 bytes of SHA-256 of its SPKI (as DCC)."""
    return hashlib.sha256(public_der).digest()[:8]


def generate_private_key() -> PrivateKey:
    """Generate a fresh P-256 key."""
    key = ec.generate_private_key(_CURVE)
    return PrivateKey(key_id(_spki(key.public_key())), key)


def private_key_pem(key: PrivateKey) -> bytes:
    """Serialise a private key as unencrypted PKCS#8 PEM (the file is kept 0600)."""
    return key._key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> PrivateKey:
    """Load a P-256 private key from PEM.

    Raises:
        CoseError: ``bad_key`` when it is not a P-256 private key.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise CoseError("bad_key", "not a PEM private key") from error
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != _CURVE.name:
        raise CoseError("bad_key", "not a P-256 key")
    return PrivateKey(key_id(_spki(key.public_key())), key)


def public_key_b64(key: PublicKey | PrivateKey) -> str:
    """Return the SubjectPublicKeyInfo of a key in standard base64, as trust lists carry it."""
    public = key.public if isinstance(key, PrivateKey) else key
    return base64.b64encode(_spki(public._key)).decode()


def load_public_key(spki_b64: str) -> PublicKey:
    """Load a P-256 public key from base64 SubjectPublicKeyInfo.

    Raises:
        CoseError: ``bad_key`` when it is not a P-256 public key.
    """
    try:
        der = base64.b64decode(spki_b64, validate=True)
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError) as error:
        raise CoseError("bad_key", "not a base64 SubjectPublicKeyInfo") from error
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != _CURVE.name:
        raise CoseError("bad_key", "not a P-256 key")
    return PublicKey(key_id(der), key)


def es256_sign(key: PrivateKey, data: bytes, *, deterministic: bool = False) -> bytes:
    """Sign bytes with ES256; return the 64-byte ``r || s``.

    Args:
        deterministic: use RFC 6979 nonces, so equal inputs give equal signatures (for
            worked examples); otherwise nonces are random.
    """
    algorithm = ec.ECDSA(hashes.SHA256(), deterministic_signing=deterministic)
    r, s = decode_dss_signature(key._key.sign(data, algorithm))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def es256_verify(key: PublicKey, data: bytes, signature: bytes) -> bool:
    """Tell whether a 64-byte ``r || s`` is a valid ES256 signature of ``data``."""
    if len(signature) != 64:
        return False
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key._key.verify(der, data, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True


def cbor_encode(value: Any) -> bytes:
    """Encode a value as canonical CBOR (RFC 8949 core deterministic encoding)."""
    return cbor2.dumps(value, canonical=True)


def cbor_decode(data: bytes) -> Any:
    """Decode one CBOR item.

    Raises:
        CoseError: ``bad_cbor`` for anything that is not exactly one well-formed item.
    """
    try:
        return cbor2.loads(data)
    except Exception as error:  # untrusted bytes: any failure of the decoder is the input's

        raise CoseError("bad_cbor", "not well-formed CBOR") from error


def _bstr_head(length: int) -> bytes:
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    return b"\x5a" + length.to_bytes(4, "big")


# The CBOR of ``["Signature1", protected, h'', payload]``, written directly: it is built for
# every verification, and this is several times faster than a general encoder.
_SIG1_PREFIX = b"\x84\x6aSignature1"


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    return b"".join((_SIG1_PREFIX, _bstr_head(len(protected)), protected, b"\x40",
                     _bstr_head(len(payload)), payload))


def sign1(payload: bytes, key: PrivateKey, *, deterministic: bool = False) -> bytes:
    """Return a tagged COSE_Sign1 of ``payload`` signed with ES256 under ``key``."""
    protected = cbor_encode({_HEADER_ALG: ES256, _HEADER_KID: key.kid})
    to_sign = _to_be_signed(protected, payload)
    signature = es256_sign(key, to_sign, deterministic=deterministic)
    return cbor_encode(cbor2.CBORTag(_SIGN1_TAG, [protected, {}, payload, signature]))


@dataclass(frozen=True)
class Sign1:
    """A COSE_Sign1 read but not yet checked."""

    alg: int
    kid: bytes
    payload: bytes
    signature: bytes
    to_be_signed: bytes


_ABSENT = object()


@lru_cache(maxsize=64)
def _protected(protected: bytes) -> tuple[object, object]:
    # A verifier sees the same few protected headers (one per issuer key) again and again.
    headers = cbor_decode(protected) if protected else {}
    if not isinstance(headers, dict):
        raise CoseError("bad_cose", "the protected header is not a map")
    return headers.get(_HEADER_ALG), headers.get(_HEADER_KID, _ABSENT)


def open_sign1(message: bytes) -> Sign1:
    """Read a COSE_Sign1 (tagged or not) without checking its signature.

    Raises:
        CoseError: ``bad_cose`` for a structure that is not a COSE_Sign1,
            ``unsupported_algorithm`` for an algorithm other than ES256.
    """
    if len(message) > _MAX_MESSAGE:
        raise CoseError("bad_cose", "message too large")
    item = cbor_decode(message)
    if isinstance(item, cbor2.CBORTag):
        if item.tag != _SIGN1_TAG:
            raise CoseError("bad_cose", "not a COSE_Sign1 tag")
        item = item.value
    if not isinstance(item, list) or len(item) != 4:
        raise CoseError("bad_cose", "a COSE_Sign1 is an array of four")
    protected, unprotected, payload, signature = item
    if not (isinstance(protected, bytes) and isinstance(unprotected, dict)
            and isinstance(payload, bytes) and isinstance(signature, bytes)):
        raise CoseError("bad_cose", "COSE_Sign1 members have the wrong types")
    alg, kid = _protected(protected)
    if alg != ES256:
        raise CoseError("unsupported_algorithm", "only ES256 is accepted")
    if kid is _ABSENT:
        kid = unprotected.get(_HEADER_KID)
    if not isinstance(kid, bytes) or not kid:
        raise CoseError("bad_cose", "no key id")
    return Sign1(alg, kid, payload, signature, _to_be_signed(protected, payload))


def check_sign1(message: Sign1, key: PublicKey) -> bytes:
    """Check the signature of a read COSE_Sign1 and return its payload.

    Raises:
        CoseError: ``bad_signature`` when it does not verify under ``key``.
    """
    if not es256_verify(key, message.to_be_signed, message.signature):
        raise CoseError("bad_signature", "the signature does not verify")
    return message.payload
