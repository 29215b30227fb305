"""The smart identity card's chip as a signed data object, checked by passive authentication.

As in ICAO 9303, the chip holds data groups — DG1 the holder's details, DG2 the photo —
and a security object that lists a SHA-256 digest of each data group and is signed by
the issuing authority (the signing recipes' ``sign_chip``). A gate reads the data groups,
checks the authority's signature with a trusted public key, and recomputes the digests
(``read_chip``): a card whose details or photo were changed, or whose security object
was not signed by a trusted authority, is refused. This module says what DG1 holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from borderpass.identity.documents import DocumentKind, InvalidDocumentNumber, normalise
from borderpass.kit.errors import InvalidInput
from borderpass.kit.i18n import _
from borderpass.kit.signing import SigningError, SigningKey, VerifyKey, read_chip, sign_chip

__all__ = ["CardRefused", "VerifiedCard", "make_card", "verify_card"]

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


def make_card(
    *,
    number: str,
    name_en: str,
    name_zh: str,
    born_on: date,
    issued_on: date,
    photo: bytes,
    authority: SigningKey,
) -> bytes:
    """Write a card's chip: DG1, DG2 and the security object signed by the authority.

    Args:
        number: an HKID number; it is validated and normalised.
        photo: the portrait, a JPEG.
        authority: the issuing authority's key.

    Returns:
        The chip's content as CBOR.
    """
    details = {
        "kind": DocumentKind.HKID.value,
        "number": normalise(DocumentKind.HKID, number),
        "name_en": name_en,
        "name_zh": name_zh,
        "born": born_on.isoformat(),
        "issued": issued_on.isoformat(),
    }
    return sign_chip(details, photo, authority)


def _refuse(reason: str) -> CardRefused:
    return CardRefused(field="card", reason=reason, details={"reason": reason})


def verify_card(card: bytes, trusted: Mapping[bytes, VerifyKey]) -> VerifiedCard:
    """Read a card and check it by passive authentication against ``trusted`` keys by id.

    Raises:
        CardRefused: with ``reason`` ``malformed``, ``unknown_authority``,
            ``bad_signature``, ``data_altered`` or ``bad_data``.
    """
    if not card or len(card) > _MAX_CARD_BYTES:
        raise _refuse("malformed")
    try:
        chip = read_chip(card, trusted)
    except SigningError as error:
        reason = {"unknown_key": "unknown_authority"}.get(error.reason, error.reason)
        raise _refuse(reason) from None
    details = chip.details
    try:
        if details.get("kind") != DocumentKind.HKID.value:
            raise _refuse("bad_data")
        return VerifiedCard(
            number=normalise(DocumentKind.HKID, str(details["number"])),
            name_en=str(details["name_en"]),
            name_zh=str(details["name_zh"]),
            born_on=date.fromisoformat(str(details["born"])),
            issued_on=date.fromisoformat(str(details["issued"])),
            photo=chip.photo,
            authority=chip.authority,
        )
    except (KeyError, ValueError, InvalidDocumentNumber):
        raise _refuse("bad_data") from None
