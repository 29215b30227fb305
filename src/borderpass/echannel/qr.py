"""The gate-1 token: what the phone shows as a QR code, and how a gate reads it.

The phone makes it offline every 30 seconds: claims (enrolment id, slot, nonce) in
canonical CBOR, signed by the device key (COSE_Sign1, ES256), encrypted to the gates'
public key (COSE_Encrypt, ECDH-ES+HKDF-256, A128GCM), Base45, after the prefix
``HKEC1:``. The format is specified in ``docs/formats/echannel-qr.md``.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from borderpass.kit.errors import Forbidden
from borderpass.kit.i18n import _
from borderpass.kit.signing import (
    SignedCode,
    SigningError,
    SigningKey,
    VerifyKey,
    decrypt_code,
    encrypt_code,
    verify_code,
)

__all__ = [
    "PREFIX",
    "SLOT_SECONDS",
    "Claims",
    "TokenRefused",
    "make_token",
    "open_token",
    "read_claims",
    "slot_of",
    "verify_token",
]

PREFIX = "HKEC1:"
SLOT_SECONDS = 30
_CLAIM_ENROLMENT, _CLAIM_SLOT, _CLAIM_NONCE = 1, 2, 3
_NONCE_BYTES = 16
_MAX_TEXT = 2048


class TokenRefused(Forbidden):
    code = "token_refused"
    message = _("The e-Channel code was refused ({reason}); use the card or see an officer.")


def refused(reason: str) -> TokenRefused:
    """Return the error for a token refused for ``reason``."""
    return TokenRefused(field="token", reason=reason, details={"reason": reason})


@dataclass(frozen=True)
class Claims:
    """What a token says once decrypted and verified."""

    enrolment_id: uuid.UUID
    slot: int
    nonce: bytes


def slot_of(instant: datetime) -> int:
    """Return the 30-second slot of an instant: whole slots since the Unix epoch."""
    return int(instant.timestamp()) // SLOT_SECONDS


def make_token(
    enrolment_id: uuid.UUID,
    device_private_pem: bytes,
    gates_public_pem: bytes,
    *,
    now: datetime,
    nonce: bytes | None = None,
) -> str:
    """Make the QR text for the slot of ``now`` (the phone's side; it works offline)."""
    claims = {
        _CLAIM_ENROLMENT: enrolment_id.bytes,
        _CLAIM_SLOT: slot_of(now),
        _CLAIM_NONCE: nonce if nonce is not None else secrets.token_bytes(_NONCE_BYTES),
    }
    return encrypt_code(claims, SigningKey.from_pem(device_private_pem),
                        VerifyKey.from_pem(gates_public_pem), prefix=PREFIX)


def open_token(text: str, gates: SigningKey) -> SignedCode:
    """Decrypt a QR text with the gates' key; return the signed claims, whose ``kid`` names
    the device key.

    Raises:
        TokenRefused: ``malformed`` or ``undecryptable``.
    """
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        raise refused("malformed")
    try:
        return decrypt_code(text, gates, prefix=PREFIX)
    except SigningError as error:
        raise refused("undecryptable" if error.reason == "undecryptable" else "malformed") from None


def verify_token(signed: SignedCode, device_public_pem: bytes) -> Claims:
    """Check the device's signature on an opened token and return its claims.

    Raises:
        TokenRefused: ``bad_signature`` or ``malformed``.
    """
    try:
        data = verify_code(signed, VerifyKey.from_pem(device_public_pem))
    except SigningError as error:
        raise refused("malformed" if error.reason == "bad_claims" else "bad_signature") from None
    return read_claims(data)


def read_claims(data: Any) -> Claims:
    """Parse verified claims, as ``verify_code`` returns them.

    Raises:
        TokenRefused: ``malformed``.
    """
    if not isinstance(data, dict):
        raise refused("malformed")
    enrolment, slot, nonce = (data.get(_CLAIM_ENROLMENT), data.get(_CLAIM_SLOT),
                              data.get(_CLAIM_NONCE))
    if not (isinstance(enrolment, bytes) and len(enrolment) == 16 and isinstance(slot, int)
            and isinstance(nonce, bytes) and 8 <= len(nonce) <= 32):
        raise refused("malformed")
    return Claims(uuid.UUID(bytes=enrolment), slot, nonce)
