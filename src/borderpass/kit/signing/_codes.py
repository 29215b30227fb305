"""Codes shown as QR text: signed claims, compressed or encrypted, in Base45 after a prefix.

A health code is ``prefix || base45(zlib(COSE_Sign1(CBOR claims)))`` with the key id in
the protected header (docs/formats/health-code.md); an e-Channel token is
``prefix || base45(COSE_Encrypt(COSE_Sign1(CBOR claims)))`` with the key id unprotected
(docs/formats/echannel-qr.md). Reading either gives a :class:`SignedCode` whose key id
names the key to check it with; ``verify_code`` then checks it and returns the claims.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from borderpass.kit.decoding import without_line_end
from borderpass.kit.signing._base45 import b45decode, b45encode
from borderpass.kit.signing._cose import (
    SignedCode,
    SigningKey,
    VerifyKey,
    cbor_decode,
    cbor_encode,
    es256_verify,
    open_sign1,
    sign1,
)
from borderpass.kit.signing._deflate import inflate_whole
from borderpass.kit.signing._encrypt import decrypt_from, encrypt_to
from borderpass.kit.signing._error import SigningError

__all__ = ["decrypt_code", "encrypt_code", "read_code", "sign_code", "verify_code"]

_MAX_INFLATED = 8192
_DEFLATE_32K = 0x78  # the zlib header's first byte: deflate with a 32 KiB window
_FDICT = 0x20


def _inflate(compressed: bytes) -> bytes:
    """Inflate one whole zlib stream, refusing anything after it or beyond the limit."""
    return inflate_whole(compressed, _MAX_INFLATED)


def _padding_is_zero(compressed: bytes, message: bytes) -> bool:
    """Tell whether the bits after the deflate stream's last block, in its last byte, are 0.

    Inflating ignores them, so a stream with one of them set is another text for the same
    code, one character away. No bit-level parser is needed: a set bit that can be
    cleared without changing what inflates is such a bit.
    """
    last = len(compressed) - 5  # the deflate data's last byte, before the Adler-32
    for bit in range(7, 0, -1):  # bit 0 holds data: the last byte has at least one bit
        if compressed[last] >> bit & 1:
            cleared = bytearray(compressed)
            cleared[last] &= ~(1 << bit)
            try:
                if _inflate(bytes(cleared)) == message:
                    return False
            except SigningError:
                pass
    return True


def sign_code(claims: Mapping[Any, Any], key: SigningKey, *, prefix: str,
              deterministic: bool = False) -> str:
    """Sign claims and return the code text: ``prefix || base45(zlib(COSE_Sign1))``.

    Args:
        claims: a map of CBOR-encodable values, encoded canonically.
        deterministic: RFC 6979 signatures, so a worked example comes out byte for byte.
    """
    message = sign1(cbor_encode(dict(claims)), key, deterministic=deterministic)
    return prefix + b45encode(zlib.compress(message, 9))


def read_code(text: str, *, prefix: str) -> SignedCode:
    """Unwrap a code text made by ``sign_code`` down to its signed message, unverified.

    The text may end with one line end (a scanner's); the zlib stream must end where the
    text does, with no preset dictionary and the spare bits of its last byte zero, and the
    COSE_Sign1 be in deterministic encoding. Deflate at any level is read.

    Raises:
        SigningError: ``bad_prefix``, ``bad_base45``, ``bad_compression``, ``bad_cose`` or
            ``unsupported_algorithm``.
    """
    text = without_line_end(text)
    if not text.startswith(prefix):
        raise SigningError("bad_prefix")
    compressed = b45decode(text[len(prefix):])
    if len(compressed) < 7 or compressed[0] != _DEFLATE_32K or compressed[1] & _FDICT:
        raise SigningError("bad_compression")
    message = _inflate(compressed)
    if not _padding_is_zero(compressed, message):
        raise SigningError("bad_compression")
    try:
        return open_sign1(message)
    except SigningError as error:
        reason = error.reason if error.reason == "unsupported_algorithm" else "bad_cose"
        raise SigningError(reason) from None


def encrypt_code(claims: Mapping[Any, Any], signer: SigningKey, recipient: VerifyKey, *,
                 prefix: str) -> str:
    """Sign claims with ``signer``, encrypt them to ``recipient`` and return the code text.

    The text is ``prefix || base45(COSE_Encrypt(COSE_Sign1))``: only the holder of the
    recipient's private key can read it, and only the signer can have made it.
    """
    signed = sign1(cbor_encode(dict(claims)), signer, kid_protected=False)
    return prefix + b45encode(encrypt_to(signed, recipient))


def decrypt_code(text: str, recipient: SigningKey, *, prefix: str) -> SignedCode:
    """Decrypt a code text made by ``encrypt_code`` down to its signed message, unverified.

    The text may end with one line end (a scanner's); the COSE_Encrypt must end where the
    text does and, like the COSE_Sign1 in it, be in deterministic encoding.

    Raises:
        SigningError: ``bad_prefix``, ``bad_base45``, ``bad_cbor`` (not one COSE_Encrypt
            in deterministic encoding), ``undecryptable`` (not for this key, or altered),
            or ``bad_cbor``/``bad_cose``/``unsupported_algorithm`` for what decrypts to no
            signed message.
    """
    text = without_line_end(text)
    if not text.startswith(prefix):
        raise SigningError("bad_prefix")
    encrypted = b45decode(text[len(prefix):])
    return open_sign1(decrypt_from(encrypted, recipient))


def verify_code(code: SignedCode, key: VerifyKey) -> Any:
    """Check the signature of a read code with the key its ``kid`` names; return its claims.

    Raises:
        SigningError: ``bad_signature`` when it does not verify under ``key`` or names
            another key id than ``key``'s, ``bad_claims`` when the signed payload is not
            CBOR.
    """
    # The key id may sit in the unprotected header, outside the signature: a code that
    # names another key is refused, so that one code has one key id.
    if code.kid != key.kid:
        raise SigningError("bad_signature", "the code names another key")
    if not es256_verify(key, code.to_be_signed, code.signature):
        raise SigningError("bad_signature", "the signature does not verify")
    try:
        return cbor_decode(code.payload)
    except SigningError:
        raise SigningError("bad_claims") from None
