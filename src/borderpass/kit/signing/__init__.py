"""Crypto recipes. The only place that touches keys, ciphers, COSE and CBOR.

``seal``/``unseal`` encrypt personal data at rest (AES-256-GCM), ``blind_index`` finds
it again by a keyed hash (HMAC-SHA-256) without storing the plain value, and
``hash_secret``/``check_secret`` keep passwords and PINs (scrypt).
"""

from borderpass.kit.signing.secretbox import (
    SealError,
    blind_index,
    check_secret,
    hash_secret,
    seal,
    unseal,
)

__all__ = ["SealError", "blind_index", "check_secret", "hash_secret", "seal", "unseal"]
