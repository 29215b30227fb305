"""The health code's claims and text (docs/formats/health-code.md).

The claims are ours; the container (prefix, base45, zlib, COSE_Sign1) is the signing
recipes' ``sign_code``/``read_code``. Everything that reads untrusted input raises
:class:`CodeFormatError` with a reason code and nothing else.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from borderpass.kit.signing import SignedCode, SigningError, SigningKey, read_code, sign_code

__all__ = [
    "CLAIM_HEALTH_CODE",
    "CodeClaims",
    "CodeFormatError",
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
_HASH = re.compile(r"[0-9a-f]{32}")


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
    original: tuple[str, str] | None = None
    """For a code converted from a partner's: the partner's jurisdiction and the original
    code's hash (as on the partner's revocation list)."""


def code_hash(code_id: bytes) -> str:
    """Return what the revocation list holds for a code: SHA-256 of its id, first 16 bytes, hex."""
    return hashlib.sha256(code_id).hexdigest()[:32]


def _epoch(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp())


def encode(claims: CodeClaims, key: SigningKey, *, prefix: str, deterministic: bool = False) -> str:
    """Sign claims and return the code text."""
    body: dict[str, Any] = {
        "v": PAYLOAD_VERSION, "c": claims.colour, "n": claims.initials,
        "d": claims.document, "k": claims.document_kind,
    }
    if claims.original is not None:
        body["r"] = {"i": claims.original[0], "h": claims.original[1]}
    return sign_code({
        CLAIM_ISS: claims.issuer,
        CLAIM_EXP: _epoch(claims.valid_until),
        CLAIM_IAT: _epoch(claims.issued_at),
        CLAIM_CTI: claims.code_id,
        CLAIM_HEALTH_CODE: body,
    }, key, prefix=prefix, deterministic=deterministic)


def read(text: str, *, prefix: str) -> SignedCode:
    """Unwrap a code text down to its COSE_Sign1, without checking the signature.

    Raises:
        CodeFormatError: ``too_long``, ``bad_prefix``, ``bad_base45``, ``bad_compression``,
            ``bad_cose`` or ``unsupported_algorithm``.
    """
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        raise CodeFormatError("too_long" if isinstance(text, str) else "bad_prefix")
    try:
        return read_code(text, prefix=prefix)
    except SigningError as error:
        raise CodeFormatError(error.reason) from None


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


def decode_claims(claims: Any) -> CodeClaims:
    """Read the CWT claims of a code, as ``verify_code`` returns them.

    Raises:
        CodeFormatError: ``bad_claims`` when a claim is missing or of the wrong type,
            ``unsupported_version`` for a payload version other than ours.
    """
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
    issuer: Any = claims.get(CLAIM_ISS)
    initials: Any = body.get("n")
    document: Any = body.get("d")
    kind: Any = body.get("k")
    # One loop rather than a call per claim: every scan reads these.
    for value, limit in ((issuer, 8), (initials, 16), (document, 32), (kind, 16)):
        if type(value) is not str or not 0 < len(value) <= limit:
            raise CodeFormatError("bad_claims")
    return CodeClaims(issuer, code_id, _instant(claims.get(CLAIM_IAT)),
                      _instant(claims.get(CLAIM_EXP)), colour, initials, document, kind,
                      _original(body.get("r")))


def _original(value: Any) -> tuple[str, str] | None:
    """Read the reference of a converted code to the partner's original, if there is one."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"i", "h"}:
        raise CodeFormatError("bad_claims")
    digest = _text(value["h"], 32)
    if not _HASH.fullmatch(digest):
        raise CodeFormatError("bad_claims")
    return _text(value["i"], 8), digest
