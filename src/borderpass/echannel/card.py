"""The smart identity card's chip as a signed data object, checked by passive authentication.

As in ICAO 9303, the chip holds data groups — DG1 the holder's details, DG2 the photo —
and a security object that lists a SHA-256 digest of each data group and is signed by
the issuing authority. A gate reads the data groups, checks the authority's signature
with a trusted public key, and recomputes the digests: a card whose details or photo were
changed, or whose security object was not signed by a trusted authority, is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from borderpass.identity.documents import DocumentKind, InvalidDocumentNumber, normalise
from borderpass.kit.errors import InvalidInput
from borderpass.kit.i18n import _
from borderpass.kit.signing import EnvelopeError, cbor_decode, cbor_encode, sign_cose, verify_cose

__all__ = ["CARD_VERSION", "CardRefused", "VerifiedCard", "make_card", "verify_card"]

CARD_VERSION = 1
_MAX_CARD_BYTES = 256 * 1024


class CardRefused(InvalidInput):
    code = "card_refused"
    message = _("The identity card could not be verified ({reason}); see an officer.")


@dataclass(frozen=True)
class VerifiedCard:
    """What a gate learned from a card whose security object checked out."""

    number: str
    name_en: str
    name_zh: str
    born_on: date
    issued_on: date
    photo: bytes
    authority: bytes


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def make_card(
    *,
    number: str,
    name_en: str,
    name_zh: str,
    born_on: date,
    issued_on: date,
    photo: bytes,
    authority_key: bytes,
    authority_kid: bytes,
) -> bytes:
    """Write a card's chip: DG1, DG2 and the security object signed by the authority.

    Args:
        number: an HKID number; it is validated and normalised.
        photo: the portrait, a JPEG.
        authority_key: the issuing authority's private key (PEM).
        authority_kid: its key id.

    Returns:
        The chip's content as CBOR.
    """
    dg1 = cbor_encode({
        "kind": DocumentKind.HKID.value,
        "number": normalise(DocumentKind.HKID, number),
        "name_en": name_en,
        "name_zh": name_zh,
        "born": born_on.isoformat(),
        "issued": issued_on.isoformat(),
    })
    security_object = cbor_encode({
        "v": CARD_VERSION,
        "alg": "sha-256",
        "hashes": {1: _digest(dg1), 2: _digest(photo)},
    })
    sod = sign_cose(security_object, authority_key, authority_kid)
    return cbor_encode({"v": CARD_VERSION, "dg1": dg1, "dg2": photo, "sod": sod})


def _refuse(reason: str) -> CardRefused:
    return CardRefused(field="card", reason=reason, details={"reason": reason})


def _map(data: Any, reason: str) -> dict[Any, Any]:
    if not isinstance(data, dict):
        raise _refuse(reason)
    return data


def verify_card(card: bytes, trusted: dict[bytes, bytes]) -> VerifiedCard:
    """Read a card and check it by passive authentication against ``trusted`` keys by id.

    Raises:
        CardRefused: with ``reason`` ``malformed``, ``unknown_authority``,
            ``bad_signature``, ``data_altered`` or ``bad_data``.
    """
    if not card or len(card) > _MAX_CARD_BYTES:
        raise _refuse("malformed")
    try:
        chip = _map(cbor_decode(card), "malformed")
        dg1, dg2, sod = chip.get("dg1"), chip.get("dg2"), chip.get("sod")
        if chip.get("v") != CARD_VERSION or not (
            isinstance(dg1, bytes) and isinstance(dg2, bytes) and isinstance(sod, bytes)
        ):
            raise _refuse("malformed")
        kid, payload = verify_cose(sod, trusted.get)
        security = _map(cbor_decode(payload), "malformed")
    except EnvelopeError as error:
        reason = {"unknown_key": "unknown_authority"}.get(error.reason, error.reason)
        raise _refuse(reason) from None
    hashes = _map(security.get("hashes"), "malformed")
    if security.get("alg") != "sha-256" or hashes.get(1) != _digest(dg1) or (
        hashes.get(2) != _digest(dg2)
    ):
        raise _refuse("data_altered")
    try:
        details = _map(cbor_decode(dg1), "bad_data")
        if details.get("kind") != DocumentKind.HKID.value:
            raise _refuse("bad_data")
        return VerifiedCard(
            number=normalise(DocumentKind.HKID, str(details["number"])),
            name_en=str(details["name_en"]),
            name_zh=str(details["name_zh"]),
            born_on=date.fromisoformat(str(details["born"])),
            issued_on=date.fromisoformat(str(details["issued"])),
            photo=dg2,
            authority=kid,
        )
    except (EnvelopeError, KeyError, ValueError, InvalidDocumentNumber):
        raise _refuse("bad_data") from None
