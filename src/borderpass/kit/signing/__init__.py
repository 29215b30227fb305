"""Crypto recipes. The only place that touches keys, ciphers, COSE and CBOR.

``seal``/``unseal`` encrypt personal data at rest (AES-256-GCM), ``blind_index`` finds
it again by a keyed hash (HMAC-SHA-256) without storing the plain value, and
``hash_secret``/``check_secret`` keep passwords and PINs (scrypt). ``envelope`` signs
(COSE_Sign1, ES256) and encrypts to a public key (COSE_Encrypt, ECDH-ES).
"""

from borderpass.kit.signing.envelope import (
    EnvelopeError,
    cbor_decode,
    cbor_encode,
    decrypt_from,
    encrypt_to,
    key_id,
    new_key_pair,
    public_key_of,
    sign_cose,
    signer_kid,
    verify_cose,
)
from borderpass.kit.signing.secretbox import (
    SealError,
    blind_index,
    check_secret,
    hash_secret,
    seal,
    unseal,
)

__all__ = [
    "EnvelopeError",
    "SealError",
    "blind_index",
    "cbor_decode",
    "cbor_encode",
    "check_secret",
    "decrypt_from",
    "encrypt_to",
    "hash_secret",
    "key_id",
    "new_key_pair",
    "public_key_of",
    "seal",
    "sign_cose",
    "signer_kid",
    "unseal",
    "verify_cose",
]
