"""The e-Channel's two key pairs: the card-issuing authority's and the gates'.

The embedded default generates each once under ``var/keys/`` (and logs that it did); a
deployment puts its own PEM files there. The authority's public keys are the trust list
that gates verify cards against; the gates' public key is what phones encrypt to.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from borderpass.kit.config import get_settings
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import SigningKey, VerifyKey

__all__ = ["KeyPair", "card_authority", "gates", "reset_keys", "trusted_card_keys"]

log = get_logger(__name__)


@dataclass(frozen=True)
class KeyPair:
    """A private key, its public key (PEM, as published) and key id."""

    key: SigningKey
    public_pem: bytes

    @property
    def kid(self) -> bytes:
        return self.key.kid


def _load_or_make(name: str) -> KeyPair:
    path = Path(get_settings().var_dir) / "keys" / f"{name}.pem"
    if not path.exists():
        key = SigningKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place: of several processes starting at once, one
        # key wins whole, and the others read it rather than a half-written file.
        aside = path.with_suffix(f".{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.to_pem())
        try:
            os.link(aside, path)
            log.info("keys.generated", key=name, path=str(path),
                     note="generated once for the embedded default; install real keys in "
                          "production")
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    key = SigningKey.from_pem(path.read_bytes())
    return KeyPair(key, key.public.to_pem())


@lru_cache(maxsize=1)
def card_authority() -> KeyPair:
    """Return the issuing authority's key pair (it signs the cards' security objects)."""
    return _load_or_make("echannel-card-authority")


@lru_cache(maxsize=1)
def gates() -> KeyPair:
    """Return the gates' key pair (phones encrypt gate-1 tokens to its public key)."""
    return _load_or_make("echannel-gates")


def trusted_card_keys() -> dict[bytes, VerifyKey]:
    """Return the authority public keys a gate trusts, by key id."""
    authority = card_authority()
    return {authority.kid: authority.key.public}


def reset_keys() -> None:
    """Forget the loaded keys (tests change the settings)."""
    card_authority.cache_clear()
    gates.cache_clear()
