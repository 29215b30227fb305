"""COSE_Encrypt (RFC 9052/9053) to a recipient's P-256 key: ECDH-ES+HKDF-256, A128GCM.

Done through ``cwt``, the only place that uses it.
"""

from __future__ import annotations

from cwt import COSE, COSEKey, Recipient

from borderpass.kit.signing._cose import SigningKey, VerifyKey
from borderpass.kit.signing._error import SigningError

__all__ = ["decrypt_from", "encrypt_to"]

_KEY_AGREEMENT = "ECDH-ES+HKDF-256"
_CONTENT_ALG = "A128GCM"


def encrypt_to(payload: bytes, recipient: VerifyKey) -> bytes:
    """Encrypt ``payload`` as a tagged COSE_Encrypt readable only with the recipient's key.

    A fresh ephemeral key agrees a content key with the recipient (ECDH-ES+HKDF-256); the
    content is sealed with AES-128-GCM.
    """
    recipient_info = Recipient.new(
        unprotected={"alg": _KEY_AGREEMENT, "kid": recipient.kid},
        recipient_key=COSEKey.from_pem(recipient.to_pem(), kid=recipient.kid),
        context={"alg": _CONTENT_ALG},
    )
    encrypted: bytes = COSE.new().encode(
        payload, protected={"alg": _CONTENT_ALG}, recipients=[recipient_info]
    )
    return encrypted


def decrypt_from(encrypted: bytes, recipient: SigningKey) -> bytes:
    """Open what ``encrypt_to`` made for this recipient.

    Raises:
        SigningError: ``undecryptable`` when it is not for this key or was altered.
    """
    key = COSEKey.from_pem(recipient.to_pem(), alg=_KEY_AGREEMENT, kid=recipient.kid)
    try:
        plain: bytes = COSE.new().decode(encrypted, key, context={"alg": _CONTENT_ALG})
    except Exception as exc:  # noqa: BLE001 - cwt raises several types; all mean refused
        raise SigningError("undecryptable", type(exc).__name__) from exc
    return plain
