"""Crypto recipes. The only place that touches keys, ciphers, COSE and CBOR.

``seal``/``unseal`` encrypt personal data at rest (AES-256-GCM), ``blind_index`` finds
it again by a keyed hash (HMAC-SHA-256) without storing the plain value, and
``hash_secret``/``check_secret`` keep passwords and PINs (scrypt). ``sign1``/
``open_sign1``/``check_sign1`` make and check ES256 COSE_Sign1 messages, ``es256_sign``/
``es256_verify`` sign bytes, and ``KeyStore`` keeps rotatable signing keys by key id.
``envelope`` signs with a device key (COSE_Sign1) and encrypts to a public key
(COSE_Encrypt, ECDH-ES) through ``cwt``. ``presence`` holds the venue check-in
recipes: Ed25519 detached signatures and exposure tokens.
"""

from borderpass.kit.signing.cose import (
    ES256,
    CoseError,
    PrivateKey,
    PublicKey,
    Sign1,
    cbor_decode,
    cbor_encode,
    check_sign1,
    es256_sign,
    es256_verify,
    generate_private_key,
    key_id,
    load_private_key,
    load_public_key,
    open_sign1,
    private_key_pem,
    public_key_b64,
    sign1,
)
from borderpass.kit.signing.envelope import (
    EnvelopeError,
    decrypt_from,
    encrypt_to,
    new_key_pair,
    pem_key_id,
    public_key_of,
    sign_cose,
    signer_kid,
    verify_cose,
)
from borderpass.kit.signing.keystore import KeyRecord, KeyStore
from borderpass.kit.signing.presence import (
    TOKEN_BYTES,
    SignatureInvalid,
    derived_secret,
    ed25519_key_id,
    ed25519_public,
    ed25519_sign,
    ed25519_verify,
    exposure_token,
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
    "blind_index",
    "cbor_decode",
    "cbor_encode",
    "check_secret",
    "check_sign1",
    "CoseError",
    "decrypt_from",
    "derived_secret",
    "ed25519_key_id",
    "ed25519_public",
    "ed25519_sign",
    "ed25519_verify",
    "encrypt_to",
    "EnvelopeError",
    "ES256",
    "es256_sign",
    "es256_verify",
    "exposure_token",
    "generate_private_key",
    "hash_secret",
    "key_id",
    "KeyRecord",
    "KeyStore",
    "load_private_key",
    "load_public_key",
    "new_key_pair",
    "new_seed",
    "new_venue_secret",
    "open_sign1",
    "pem_key_id",
    "private_key_pem",
    "PrivateKey",
    "public_key_b64",
    "public_key_of",
    "PublicKey",
    "seal",
    "SealError",
    "sign1",
    "Sign1",
    "sign_cose",
    "SignatureInvalid",
    "signer_kid",
    "TOKEN_BYTES",
    "unseal",
    "verify_cose",
]
