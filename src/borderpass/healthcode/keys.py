"""The jurisdiction's keys (code signing and the trust anchor) and the change counter
that tells a cached verifier its lists are out of date."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

from borderpass.kit.config import get_settings
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import KeyStore, SigningKey

__all__ = ["ANCHOR_KEYS", "CODE_KEYS", "changed", "generation", "keystore", "signing_key"]

log = get_logger(__name__)
CODE_KEYS = "code"
ANCHOR_KEYS = "anchor"


_STORES: dict[Path, KeyStore] = {}


def keystore() -> KeyStore:
    """Return the key store named by the settings.

    One store per directory and process, kept: it keeps each key it read (a key file never
    changes), and reads the index, which names the current keys, on every use.
    """
    directory = get_settings().key_dir
    assert directory is not None  # noqa: S101 - settings fill it in
    store = _STORES.get(directory)
    if store is None:
        store = _STORES.setdefault(directory, KeyStore(directory))
    return store


def signing_key(purpose: str, now: datetime) -> SigningKey:
    """Return the current key of ``purpose`` (``code`` or ``anchor``), made on first use."""
    key, generated = keystore().signing_key(purpose, now=now)
    if generated:
        log.info("signing.key_generated", purpose=purpose, kid=key.kid.hex(),
                 directory=str(get_settings().key_dir))
    return key


# Bumped whenever this process revokes codes, rotates a key or accepts a partner's lists,
# so that a cached verifier rebuilds at once rather than at its next check.
_changes = itertools.count()
_generation = next(_changes)


def changed() -> None:
    """Say that the lists changed in this process."""
    global _generation
    _generation = next(_changes)


def generation() -> int:
    """Return the number of the last change (see ``changed``)."""
    return _generation
