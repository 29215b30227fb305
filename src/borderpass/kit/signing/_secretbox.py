"""Personal data at rest under the settings' keys, and password and PIN hashes.

``seal`` encrypts with AES-256-GCM under the PII key, binding a context (a column's name)
as associated data; ``blind_index`` is HMAC-SHA-256 under the blind-index key, so a value
can be found again without being stored in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from borderpass.kit.config import get_settings
from borderpass.kit.signing._error import SigningError

__all__ = ["blind_index", "check_secret", "hash_secret", "open_sealed", "seal"]

_VERSION = b"\x01"
_NONCE = 12


def seal(plaintext: bytes, *, context: str) -> bytes:
    """Encrypt personal data under the PII key.

    Args:
        plaintext: what to protect.
        context: bound to the ciphertext as associated data, e.g. the column's name, so
            that a value cannot be moved to another column unnoticed.

    Returns:
        version byte, 12-byte nonce, then ciphertext and tag.
    """
    nonce = os.urandom(_NONCE)
    key = get_settings().secret_bytes("pii_key")
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode())


def open_sealed(sealed: bytes, *, context: str) -> bytes:
    """Decrypt what ``seal`` sealed for ``context``.

    Raises:
        SigningError: ``not_sealed`` for bytes ``seal`` did not make, ``unsealable`` when
            the key or the context differs or the bytes were altered.
    """
    if len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _VERSION:
        raise SigningError("not_sealed", "not a sealed value")
    nonce, body = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
    key = get_settings().secret_bytes("pii_key")
    try:
        return AESGCM(key).decrypt(nonce, body, context.encode())
    except InvalidTag as exc:
        raise SigningError("unsealable", "the sealed value does not open") from exc


def blind_index(kind: str, value: str) -> str:
    """Return the keyed hash under which ``value`` of ``kind`` can be looked up.

    The kind is part of the hash, so equal numbers of different kinds never collide.
    """
    key = get_settings().secret_bytes("blind_index_key")
    return hmac.new(key, kind.encode() + b"\x00" + value.encode(), hashlib.sha256).hexdigest()


# scrypt's cost N is 2**cost (``secret_hash_cost``), with r = 8 and p = 1. A hash made at
# the default cost is written ``scrypt$<salt>$<digest>``, as every hash was before the cost
# could be set; at another, ``scrypt:ln=<cost>$<salt>$<digest>``. A hash is checked at the
# cost it was made with, so changing the setting leaves stored hashes usable.
_SCRYPT_R, _SCRYPT_P = 8, 1
_DEFAULT_COST = 14
_COSTS = range(10, 18)
_MAXMEM = 128 * _SCRYPT_R * 2 ** _COSTS[-1] + 2**20  # what the highest cost needs


def _scrypt(secret: str, salt: bytes, cost: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=2 ** cost, r=_SCRYPT_R, p=_SCRYPT_P,
                          maxmem=_MAXMEM)


def hash_secret(secret: str) -> str:
    """Hash a password or PIN with scrypt, at the configured cost, and a random salt."""
    cost = get_settings().secret_hash_cost
    salt = secrets.token_bytes(16)
    scheme = "scrypt" if cost == _DEFAULT_COST else f"scrypt:ln={cost}"
    return f"{scheme}${salt.hex()}${_scrypt(secret, salt, cost).hex()}"


def _stored_cost(scheme: str) -> int | None:
    if scheme == "scrypt":
        return _DEFAULT_COST
    written = scheme.removeprefix("scrypt:ln=")
    if written == scheme or not written.isascii() or not written.isdigit():
        return None
    cost = int(written)
    return cost if cost in _COSTS else None


def check_secret(secret: str, stored: str) -> bool:
    """Tell whether ``secret`` matches what ``hash_secret`` stored, in constant time."""
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    cost = _stored_cost(scheme)
    if cost is None:
        return False
    return hmac.compare_digest(_scrypt(secret, salt, cost), digest)
