"""The health-code text: prefix, base45, zlib, COSE_Sign1, CWT claims (docs/formats/health-code.md).

Everything that reads untrusted input raises :class:`CodeFormatError` with a reason code
and nothing else.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from borderpass.kit.signing import (
    CoseError,
    PrivateKey,
    Sign1,
    cbor_decode,
    cbor_encode,
    open_sign1,
    sign1,
)

__all__ = [
    "CLAIM_HEALTH_CODE",
    "CodeClaims",
    "CodeFormatError",
    "b45decode",
    "b45encode",
    "code_hash",
    "decode_claims",
    "encode",
    "read",
]

CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_CTI = 1, 4, 6, 7
CLAIM_HEALTH_CODE = -65537
PAYLOAD_VERSION = 1
COLOURS = ("green", "amber", "red")
_MAX_TEXT = 4096
_MAX_INFLATED = 8192
_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_TABLE = bytes(_B45.index(chr(n)) if chr(n) in _B45 else 0xFF for n in range(256))


class CodeFormatError(Exception):
    """The text is not a well-formed health code; ``reason`` names what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CodeClaims:
    """What a code says."""

    issuer: str
    code_id: bytes
    issued_at: datetime
    valid_until: datetime
    colour: str
    initials: str
    document: str
    document_kind: str


def b45encode(data: bytes) -> str:
    """Encode bytes in base45 (RFC 9285)."""
    out = []
    for index in range(0, len(data) - 1, 2):
        value = data[index] * 256 + data[index + 1]
        value, c = divmod(value, 45)
        e, d = divmod(value, 45)
        out.append(_B45[c] + _B45[d] + _B45[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out.append(_B45[c] + _B45[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode base45 (RFC 9285), refusing any character or group outside the alphabet's range.

    Raises:
        CodeFormatError: ``bad_base45``.
    """
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise CodeFormatError("bad_base45") from None
    values = raw.translate(_B45_TABLE)
    tail = len(values) % 3
    if tail == 1 or b"\xff" in values:
        raise CodeFormatError("bad_base45")
    groups = len(values) // 3
    whole = 3 * groups
    # Every group's value c + 45 d + 2025 e at once, as one big integer: each digit is
    # spread into a 3-byte lane, so that no lane (at most 91124) carries into the next.
    lanes = bytearray(whole)
    lanes[2::3] = values[0:whole:3]
    c = int.from_bytes(lanes, "big")
    lanes[2::3] = values[1:whole:3]
    d = int.from_bytes(lanes, "big")
    lanes[2::3] = values[2:whole:3]
    e = int.from_bytes(lanes, "big")
    sums = (c + 45 * d + 2025 * e).to_bytes(whole, "big")
    if sums[0::3].count(0) != groups:  # a group above 0xFFFF
        raise CodeFormatError("bad_base45")
    out = bytearray(2 * groups + (tail == 2))
    out[0:2 * groups:2] = sums[1::3]
    out[1:2 * groups:2] = sums[2::3]
    if tail:
        last = values[-2] + values[-1] * 45
        if last > 0xFF:
            raise CodeFormatError("bad_base45")
        out[-1] = last
    return bytes(out)


def code_hash(code_id: bytes) -> str:
    """Return what the revocation list holds for a code: SHA-256 of its id, first 16 bytes, hex."""
    return hashlib.sha256(code_id).hexdigest()[:32]


def _epoch(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp())


def encode(claims: CodeClaims, key: PrivateKey, *, prefix: str, deterministic: bool = False) -> str:
    """Sign claims and return the code text."""
    payload = cbor_encode({
        CLAIM_ISS: claims.issuer,
        CLAIM_EXP: _epoch(claims.valid_until),
        CLAIM_IAT: _epoch(claims.issued_at),
        CLAIM_CTI: claims.code_id,
        CLAIM_HEALTH_CODE: {
            "v": PAYLOAD_VERSION, "c": claims.colour, "n": claims.initials,
            "d": claims.document, "k": claims.document_kind,
        },
    })
    message = sign1(payload, key, deterministic=deterministic)
    return prefix + b45encode(zlib.compress(message, 9))


def read(text: str, *, prefix: str) -> Sign1:
    """Unwrap a code text down to its COSE_Sign1, without checking the signature.

    Raises:
        CodeFormatError: ``bad_prefix``, ``bad_base45``, ``bad_compression``, ``bad_cose``
            or ``unsupported_algorithm``.
    """
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        raise CodeFormatError("too_long" if isinstance(text, str) else "bad_prefix")
    text = text.strip()
    if not text.startswith(prefix):
        raise CodeFormatError("bad_prefix")
    compressed = b45decode(text[len(prefix):])
    try:
        inflater = zlib.decompressobj()
        message = inflater.decompress(compressed, _MAX_INFLATED)
        if inflater.unconsumed_tail or not inflater.eof:
            raise CodeFormatError("bad_compression")
    except zlib.error:
        raise CodeFormatError("bad_compression") from None
    try:
        return open_sign1(message)
    except CoseError as error:
        reason = error.reason if error.reason == "unsupported_algorithm" else "bad_cose"
        raise CodeFormatError(reason) from None


def _instant(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodeFormatError("bad_claims")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise CodeFormatError("bad_claims") from None


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise CodeFormatError("bad_claims")
    return value


def decode_claims(payload: bytes) -> CodeClaims:
    """Read the CWT claims of a code.

    Raises:
        CodeFormatError: ``bad_claims`` when a claim is missing or of the wrong type.
    """
    try:
        claims = cbor_decode(payload)
    except CoseError:
        raise CodeFormatError("bad_claims") from None
    if not isinstance(claims, dict):
        raise CodeFormatError("bad_claims")
    body = claims.get(CLAIM_HEALTH_CODE)
    code_id = claims.get(CLAIM_CTI)
    if not isinstance(body, dict) or not isinstance(code_id, bytes) or not 8 <= len(code_id) <= 64:
        raise CodeFormatError("bad_claims")
    if body.get("v") != PAYLOAD_VERSION:
        raise CodeFormatError("unsupported_version")
    colour = body.get("c")
    if colour not in COLOURS:
        raise CodeFormatError("bad_claims")
    return CodeClaims(
        issuer=_text(claims.get(CLAIM_ISS), 8),
        code_id=code_id,
        issued_at=_instant(claims.get(CLAIM_IAT)),
        valid_until=_instant(claims.get(CLAIM_EXP)),
        colour=colour,
        initials=_text(body.get("n"), 16),
        document=_text(body.get("d"), 32),
        document_kind=_text(body.get("k"), 16),
    )
