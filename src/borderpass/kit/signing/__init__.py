"""Crypto recipes: the only place that touches keys, ciphers, COSE, CBOR and Base45.

Each recipe is named for what it is for, reads its own key when the key comes from the
settings, and raises one exception, :class:`SigningError`, whose ``reason`` says what
failed.

- Codes shown as QR text: ``sign_code`` (a health code) and ``encrypt_code`` (an
  e-Channel token, signed then encrypted to the gates) make them; ``read_code`` and
  ``decrypt_code`` unwrap them to a :class:`SignedCode` whose ``kid`` names the key, and
  ``verify_code`` checks it with that key and returns the claims.
- ES256 keys: :class:`SigningKey`, :class:`VerifyKey`, and :class:`KeyStore`, which keeps
  rotatable signing keys on disk by key id.
- Signed lists: ``sign_envelope``/``open_envelope`` (a JSON envelope pinned by key id).
- Identity cards: ``sign_chip``/``read_chip`` (passive authentication of a chip).
- Venue check-in: :class:`DetachedSigner` and ``verify_detached`` (Ed25519 over posters,
  exposure lists and uploads), ``venue_signer`` (the platform's key), ``exposure_token``
  and ``derived_secret``.
- Other issuers' certificates (EU DCC, SMART Health Cards): their own public module,
  :mod:`borderpass.kit.signing.foreign`.
- Personal data: ``seal``/``open_sealed`` (under the PII key), ``blind_index`` (under the
  blind-index key), ``hash_secret``/``check_secret`` (passwords and PINs).
"""

from borderpass.kit.signing._chip import read_chip, sign_chip
from borderpass.kit.signing._codes import (
    decrypt_code,
    encrypt_code,
    read_code,
    sign_code,
    verify_code,
)
from borderpass.kit.signing._cose import SignedCode, SigningKey, VerifyKey
from borderpass.kit.signing._error import SigningError
from borderpass.kit.signing._keystore import KeyStore
from borderpass.kit.signing._lists import open_envelope, sign_envelope
from borderpass.kit.signing._presence import (
    DetachedSigner,
    derived_secret,
    exposure_token,
    venue_signer,
    verify_detached,
)
from borderpass.kit.signing._secretbox import (
    blind_index,
    check_secret,
    hash_secret,
    open_sealed,
    seal,
)

__all__ = [
    "DetachedSigner",
    "KeyStore",
    "SignedCode",
    "SigningError",
    "SigningKey",
    "VerifyKey",
    "blind_index",
    "check_secret",
    "decrypt_code",
    "derived_secret",
    "encrypt_code",
    "exposure_token",
    "hash_secret",
    "open_envelope",
    "open_sealed",
    "read_chip",
    "read_code",
    "seal",
    "sign_chip",
    "sign_code",
    "sign_envelope",
    "venue_signer",
    "verify_code",
    "verify_detached",
]
