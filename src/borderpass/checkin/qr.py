"""The venue QR codes a phone reads, and taxi registration plates.

Two formats are read. The legacy Hong Kong format (``HKEN:``) carries a venue id and
names, checked by an unkeyed hash. Ours (``BPV1:``, ``docs/formats/venue-qr.md``) is
signed by the platform and carries the venue's secret for private exposure matching.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from borderpass.kit.decoding import (
    DecodeError,
    b64_decode,
    b64url_decode,
    b64url_encode,
    load_json,
    without_line_end,
)
from borderpass.kit.errors import InvalidInput
from borderpass.kit.i18n import _
from borderpass.kit.signing import DetachedSigner, SigningError, derived_secret, verify_detached

__all__ = [
    "LEGACY_PREFIX",
    "SIGNED_PREFIX",
    "InvalidPlate",
    "InvalidVenueCode",
    "ParsedVenue",
    "encode_signed",
    "normalise_plate",
    "parse_venue_code",
    "taxi_venue",
]

LEGACY_PREFIX = "HKEN:"
SIGNED_PREFIX = "BPV1:"
_LEGACY_ID = re.compile(r"[A-Za-z0-9]{8}")
_CODE = re.compile(r"[A-Z0-9]{10}")
# Hong Kong standard plates: two letters (I, O and Q are not used) and 1 to 4 digits
# without a leading zero. Taxis carry standard plates.
_PLATE = re.compile(r"[A-HJ-NPR-Z]{2}[1-9][0-9]{0,3}")

Format = Literal["signed", "legacy", "taxi"]


class InvalidVenueCode(InvalidInput):
    code = "invalid_venue_code"
    message = _("This is not a valid venue QR code: {reason}.")


class InvalidPlate(InvalidInput):
    code = "invalid_plate"
    message = _("{plate} is not a valid registration plate: two letters and 1 to 4 digits, "
                "such as AB1234.")


@dataclass(frozen=True)
class ParsedVenue:
    """A venue as read from its QR code (or a taxi from its plate)."""

    format: Format
    venue_id: str
    name_zh: str
    name_en: str
    type: str
    secret: bytes
    name_zh_hans: str | None = None
    key_id: str | None = None
    generation: int | None = None
    type_en: str | None = None
    type_zh: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Return what ``venue parse --json`` prints (never the secret)."""
        body: dict[str, Any] = {
            "format": self.format,
            "venue_id": self.venue_id,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "type": self.type,
        }
        for name in ("name_zh_hans", "key_id", "generation", "type_en", "type_zh"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body


def _bad(reason: str) -> InvalidVenueCode:
    return InvalidVenueCode(field="qr", reason=reason)


_SECRET_BYTES = 16
_SIGNATURE_BYTES = 64
_MAX_TEXT = 4096


def legacy_hash(venue_id: str) -> str:
    """Return the hash a legacy code carries: hex SHA-256 of "HKEN" + venue id + "2020"."""
    return hashlib.sha256(f"HKEN{venue_id}2020".encode()).hexdigest()


def _parse_legacy(text: str) -> ParsedVenue:
    body = text[len(LEGACY_PREFIX):]
    if len(body) < 10:
        raise _bad("too short")
    venue_id, encoded = body[1:9], body[9:]
    if not _LEGACY_ID.fullmatch(venue_id):
        raise _bad("the venue id is not 8 letters or digits")
    try:
        payload = load_json(b64_decode(encoded))
    except DecodeError as error:
        raise _bad(f"the payload is not base64 of JSON ({error.reason})") from None
    if not isinstance(payload, dict):
        raise _bad("the payload is not a JSON object")
    for key in ("nameZh", "nameEn", "type", "hash"):
        if not isinstance(payload.get(key), str):
            raise _bad(f"{key} is missing")
    # As bytes: compare_digest takes text only when it is ASCII.
    if not hmac.compare_digest(payload["hash"].encode(), legacy_hash(venue_id).encode()):
        raise _bad("the hash does not match the venue id")
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _bad("metadata is neither null nor an object")
    meta = metadata or {}
    return ParsedVenue(
        format="legacy", venue_id=venue_id, name_zh=payload["nameZh"],
        name_en=payload["nameEn"], type=payload["type"],
        secret=derived_secret("HKEN", venue_id),
        type_en=meta.get("typeEn") if isinstance(meta.get("typeEn"), str) else None,
        type_zh=meta.get("typeZh") if isinstance(meta.get("typeZh"), str) else None,
    )


def encode_signed(
    *,
    venue_id: str,
    name_zh: str,
    name_zh_hans: str,
    name_en: str,
    type: str,
    secret: bytes,
    generation: int,
    signer: DetachedSigner,
) -> str:
    """Return the text of a signed venue QR code (format ``BPV1``)."""
    payload = {
        "g": generation, "id": venue_id, "k": signer.key_id, "ne": name_en,
        "ns": name_zh_hans, "nz": name_zh, "s": b64url_encode(secret), "t": type,
    }
    encoded = b64url_encode(json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                       separators=(",", ":")).encode("utf-8"))
    signed = f"{SIGNED_PREFIX}{encoded}"
    return f"{signed}.{b64url_encode(signer.sign(signed.encode()))}"


def _parse_signed(text: str, trust: dict[str, bytes]) -> ParsedVenue:
    signed, dot, signature_text = text.rpartition(".")
    if not dot:
        raise _bad("the signature is missing")
    try:
        signature = b64url_decode(signature_text, size=_SIGNATURE_BYTES)
    except DecodeError as error:
        raise _bad(f"the signature is not base64url of 64 bytes ({error.reason})") from None
    try:
        payload = load_json(b64url_decode(signed[len(SIGNED_PREFIX):]))
    except DecodeError as error:
        raise _bad(f"the payload is not base64url of JSON ({error.reason})") from None
    if not isinstance(payload, dict):
        raise _bad("the payload is not a JSON object")
    kid = payload.get("k")
    public = trust.get(kid) if isinstance(kid, str) else None
    if public is None:
        raise _bad("it is signed by a key this device does not trust")
    try:
        verify_detached(public, signed.encode(), signature)
    except SigningError:
        raise _bad("the signature does not verify") from None
    texts = ("id", "nz", "ns", "ne", "t", "s")
    missing = [name for name in (*texts, "g") if name not in payload]
    if missing:
        raise _bad(f"the field {missing[0]} is missing")
    generation = payload["g"]
    if (not all(isinstance(payload[name], str) for name in texts)
            or isinstance(generation, bool) or not isinstance(generation, int)
            or generation < 1 or not _CODE.fullmatch(payload["id"])):
        raise _bad("a field is malformed")
    try:
        secret = b64url_decode(payload["s"], size=_SECRET_BYTES)
    except DecodeError:
        raise _bad("the secret is not base64url of 16 bytes") from None
    return ParsedVenue(
        format="signed", venue_id=payload["id"], name_zh=payload["nz"],
        name_zh_hans=payload["ns"], name_en=payload["ne"], type=payload["t"],
        secret=secret, key_id=kid, generation=generation,
    )


def parse_venue_code(text: str, trust: dict[str, bytes]) -> ParsedVenue:
    """Read a venue QR code of either format.

    Args:
        text: the decoded QR text; it may end with one line end (a scanner's), and
            nothing else may surround it.
        trust: the platform's venue-signing public keys by key id.

    Raises:
        InvalidVenueCode: the text is no venue code, or fails its hash or signature.
    """
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        raise _bad("it is too long")
    text = without_line_end(text)
    if text.startswith(LEGACY_PREFIX):
        return _parse_legacy(text)
    if text.startswith(SIGNED_PREFIX):
        return _parse_signed(text, trust)
    raise _bad("it starts with neither HKEN: nor BPV1:")


def normalise_plate(plate: str) -> str:
    """Return a registration plate in normal form (upper case, no spaces).

    Raises:
        InvalidPlate: it is not a standard Hong Kong plate.
    """
    normal = "".join(plate.split()).upper()
    if not _PLATE.fullmatch(normal):
        raise InvalidPlate(field="plate", plate=normal[:12] or "''")
    return normal


def taxi_venue(plate: str) -> ParsedVenue:
    """Return the check-in place of a taxi, named by its validated plate."""
    normal = normalise_plate(plate)
    return ParsedVenue(format="taxi", venue_id=normal, name_zh=f"的士 {normal}",
                       name_en=f"Taxi {normal}", type="taxi",
                       secret=derived_secret("TAXI", normal))
