"""Encryption at rest, blind indexes and secret hashing."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SealError", "blind_index", "check_secret", "hash_secret", "seal", "unseal"]

_VERSION = b"\x01"
_NONCE = 12


class SealError(Exception):
    """A sealed value could not be opened: wrong key, or the bytes were altered."""


def seal(key: bytes, plaintext: bytes, *, context: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` with AES-256-GCM under ``key``.

    Args:
        key: 32 bytes.
        plaintext: what to protect.
        context: associated data bound to the ciphertext, e.g. the column's name, so
            that a value cannot be moved to another column unnoticed.

    Returns:
        version byte, 12-byte nonce, then ciphertext and tag.
    """
    nonce = os.urandom(_NONCE)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def unseal(key: bytes, sealed: bytes, *, context: bytes = b"") -> bytes:
    """Decrypt what ``seal`` produced.

    Raises:
        SealError: the key is wrong, the context differs or the bytes were altered.
    """
    if len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _VERSION:
        raise SealError("not a sealed value")
    nonce, body = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
    try:
        return AESGCM(key).decrypt(nonce, body, context)
    except InvalidTag as exc:
        raise SealError("sealed value does not open under this key") from exc


def blind_index(key: bytes, kind: str, value: str) -> str:
    """Return the keyed hash under which ``value`` of ``kind`` can be looked up.

    The kind is part of the hash, so equal numbers of different kinds never collide.
    """
    mac = hmac.new(key, kind.encode() + b"\x00" + value.encode(), hashlib.sha256)
    return mac.hexdigest()


_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_secret(secret: str) -> str:
    """Hash a password or PIN with scrypt and a random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_secret(secret: str, stored: str) -> bool:
    """Tell whether ``secret`` matches what ``hash_secret`` stored, in constant time."""
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        secret.encode(), salt=bytes.fromhex(salt_hex), n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P
    )
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))
