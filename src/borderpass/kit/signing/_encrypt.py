"""COSE_Encrypt (RFC 9052/9053) to a recipient's P-256 key: ECDH-ES+HKDF-256, A128GCM.

Done through ``cwt``, the only place that uses it.
"""

from __future__ import annotations

from typing import Any

import cbor2
from cwt import COSE, COSEKey, Recipient

from borderpass.kit.signing._cose import SigningKey, VerifyKey, cbor_decode
from borderpass.kit.signing._error import SigningError

__all__ = ["decrypt_from", "encrypt_to"]

_KEY_AGREEMENT = "ECDH-ES+HKDF-256"
_CONTENT_ALG = "A128GCM"
_ENCRYPT_TAG = 96
# The header labels a COSE_Encrypt made by ``encrypt_to`` carries outside the ciphertext:
# the IV; and for its one recipient the algorithm, the key id and the ephemeral key.
_IV, _ALG, _KID, _EPHEMERAL = 5, 1, 4, -1
_EC2_LABELS = {1, -1, -2, -3}


def _has_one_shape(item: Any) -> bool:
    """Tell whether a decoded COSE_Encrypt carries exactly the fields ``encrypt_to`` writes.

    Nothing outside the ciphertext is authenticated but the protected header, so an
    unknown header or a key written another way would give the same token other texts.
    """
    if not isinstance(item, cbor2.CBORTag) or item.tag != _ENCRYPT_TAG:
        return False
    body = item.value
    if not (isinstance(body, list) and len(body) == 4 and isinstance(body[0], bytes)
            and isinstance(body[2], bytes) and isinstance(body[3], list)
            and len(body[3]) == 1):
        return False
    unprotected, recipient = body[1], body[3][0]
    if not (isinstance(unprotected, dict) and unprotected.keys() == {_IV}
            and isinstance(unprotected[_IV], bytes)):
        return False
    if not (isinstance(recipient, list) and len(recipient) == 3 and recipient[0] == b""
            and recipient[2] == b"" and isinstance(recipient[1], dict)
            and recipient[1].keys() == {_ALG, _KID, _EPHEMERAL}
            and isinstance(recipient[1][_KID], bytes)):
        return False
    ephemeral = recipient[1][_EPHEMERAL]
    return (isinstance(ephemeral, dict) and ephemeral.keys() == _EC2_LABELS
            and all(isinstance(ephemeral[label], bytes) for label in (-2, -3)))


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
        SigningError: ``bad_cbor`` when it is not one CBOR item in deterministic encoding
            (the headers outside the ciphertext would otherwise have other encodings),
            ``undecryptable`` when it is not for this key or was altered.
    """
    if not _has_one_shape(cbor_decode(encrypted, canonical=True)):
        raise SigningError("bad_cbor", "not a COSE_Encrypt as the recipes write it")
    key = COSEKey.from_pem(recipient.to_pem(), alg=_KEY_AGREEMENT, kid=recipient.kid)
    try:
        plain: bytes = COSE.new().decode(encrypted, key, context={"alg": _CONTENT_ALG})
    except Exception as exc:  # noqa: BLE001 - cwt raises several types; all mean refused
        raise SigningError("undecryptable", type(exc).__name__) from exc
    return plain
