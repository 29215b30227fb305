"""Crypto recipes. The only place that touches keys, ciphers, COSE and CBOR.

``seal``/``unseal`` encrypt personal data at rest (AES-256-GCM), ``blind_index`` finds
it again by a keyed hash (HMAC-SHA-256) without storing the plain value, and
``hash_secret``/``check_secret`` keep passwords and PINs (scrypt). ``presence`` holds
the venue check-in recipes: Ed25519 detached signatures and exposure tokens.
"""

from borderpass.kit.signing.presence import (
    TOKEN_BYTES,
    SignatureInvalid,
    derived_secret,
    ed25519_public,
    ed25519_sign,
    ed25519_verify,
    exposure_token,
    key_id,
    new_seed,
    new_venue_secret,
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
    "TOKEN_BYTES",
    "SealError",
    "SignatureInvalid",
    "blind_index",
    "check_secret",
    "derived_secret",
    "ed25519_public",
    "ed25519_sign",
    "ed25519_verify",
    "exposure_token",
    "hash_secret",
    "key_id",
    "new_seed",
    "new_venue_secret",
    "seal",
    "unseal",
]
