"""The e-Channel's two key pairs: the card-issuing authority's and the gates'.

The embedded default generates each once under ``var/keys/`` (and logs that it did); a
deployment puts its own PEM files there. The authority's public keys are the trust list
that gates verify cards against; the gates' public key is what phones encrypt to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from borderpass.kit.config import get_settings
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import new_key_pair, pem_key_id, public_key_of

__all__ = ["KeyPair", "card_authority", "gates", "reset_keys", "trusted_card_keys"]

log = get_logger(__name__)


@dataclass(frozen=True)
class KeyPair:
    """A private key, its public key and key id."""

    private_pem: bytes
    public_pem: bytes
    kid: bytes


def _load_or_make(name: str) -> KeyPair:
    path = Path(get_settings().var_dir) / "keys" / f"{name}.pem"
    if path.exists():
        private = path.read_bytes()
    else:
        private, _public = new_key_pair()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private)
        log.info("keys.generated", key=name, path=str(path),
                 note="generated once for the embedded default; install real keys in production")
    public = public_key_of(private)
    return KeyPair(private, public, pem_key_id(public))


@lru_cache(maxsize=1)
def card_authority() -> KeyPair:
    """Return the issuing authority's key pair (it signs the cards' security objects)."""
    return _load_or_make("echannel-card-authority")


@lru_cache(maxsize=1)
def gates() -> KeyPair:
    """Return the gates' key pair (phones encrypt gate-1 tokens to its public key)."""
    return _load_or_make("echannel-gates")


def trusted_card_keys() -> dict[bytes, bytes]:
    """Return the authority public keys a gate trusts, by key id."""
    authority = card_authority()
    return {authority.kid: authority.public_pem}


def reset_keys() -> None:
    """Forget the loaded keys (tests change the settings)."""
    card_authority.cache_clear()
    gates.cache_clear()
