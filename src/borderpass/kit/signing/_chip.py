"""An identity card's chip as a signed data object, checked by passive authentication.

As in ICAO 9303, the chip holds data groups — DG1 the holder's details, DG2 the photo —
and a security object that lists a SHA-256 digest of each data group, signed by the
issuing authority (a COSE_Sign1, the key id unprotected). The chip is the CBOR map
``{"v": 1, "dg1": CBOR(details), "dg2": photo, "sod": COSE_Sign1}``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from borderpass.kit.signing._cose import (
    SigningKey,
    VerifyKey,
    cbor_decode,
    cbor_encode,
    es256_verify,
    open_sign1,
    sign1,
)
from borderpass.kit.signing._error import SigningError

__all__ = ["Chip", "read_chip", "sign_chip"]

_VERSION = 1
_CHIP_KEYS = {"v", "dg1", "dg2", "sod"}


@dataclass(frozen=True)
class Chip:
    """What passive authentication vouches for: the details, the photo and who signed them."""

    details: dict[Any, Any]
    photo: bytes
    authority: bytes


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sign_chip(details: Mapping[str, Any], photo: bytes, authority: SigningKey) -> bytes:
    """Write a chip: DG1 (the details), DG2 (the photo) and the security object signed by
    the issuing authority.

    Returns:
        the chip's content, CBOR.
    """
    dg1 = cbor_encode(dict(details))
    security_object = cbor_encode({
        "v": _VERSION,
        "alg": "sha-256",
        "hashes": {1: _digest(dg1), 2: _digest(photo)},
    })
    sod = sign1(security_object, authority, kid_protected=False)
    return cbor_encode({"v": _VERSION, "dg1": dg1, "dg2": photo, "sod": sod})


def _is_version(value: Any) -> bool:
    # Not merely equal: CBOR's true and 1.0 are equal to 1 in Python, and are other bytes.
    return type(value) is int and value == _VERSION


def _map(data: Any, reason: str) -> dict[Any, Any]:
    if not isinstance(data, dict):
        raise SigningError(reason)
    return data


def read_chip(chip: bytes, trusted: Mapping[bytes, VerifyKey]) -> Chip:
    """Read a chip and check it by passive authentication against ``trusted`` keys by id.

    Raises:
        SigningError: ``malformed``, ``unknown_key`` (no trusted key has the signer's id),
            ``bad_signature``, ``data_altered`` (a data group does not match its digest)
            or ``bad_data`` (DG1 is not a map). ``malformed`` also covers a chip not in
            CBOR's deterministic encoding, or with anything besides its four fields.
    """
    try:
        # The map around the data groups is not signed: it has one encoding and no more.
        content = _map(cbor_decode(chip, canonical=True), "malformed")
        dg1, dg2, sod = content.get("dg1"), content.get("dg2"), content.get("sod")
        if content.keys() != _CHIP_KEYS or not _is_version(content["v"]) or not (
            isinstance(dg1, bytes) and isinstance(dg2, bytes) and isinstance(sod, bytes)
        ):
            raise SigningError("malformed")
        signed = open_sign1(sod)
    except SigningError as error:
        raise SigningError("malformed") from error
    key = trusted.get(signed.kid)
    if key is None:
        raise SigningError("unknown_key", signed.kid.hex())
    if not es256_verify(key, signed.to_be_signed, signed.signature):
        raise SigningError("bad_signature")
    try:
        security = _map(cbor_decode(signed.payload), "malformed")
    except SigningError as error:
        raise SigningError("malformed") from error
    hashes = _map(security.get("hashes"), "malformed")
    if not _is_version(security.get("v")):
        raise SigningError("malformed")
    if security.get("alg") != "sha-256" or hashes.get(1) != _digest(dg1) or (
        hashes.get(2) != _digest(dg2)
    ):
        raise SigningError("data_altered")
    try:
        details = _map(cbor_decode(dg1), "bad_data")
    except SigningError as error:
        raise SigningError("bad_data") from error
    return Chip(details, dg2, signed.kid)
