"""One whole deflate stream inflated within a limit: zlib's (RFC 1950) or raw (RFC 1951).

In C (``_native.c``), in one call of zlib; a test holds it to Python's zlib module.
"""

from __future__ import annotations

from borderpass.kit.signing._error import SigningError
from borderpass.kit.signing._native import inflate

__all__ = ["inflate_whole"]


def inflate_whole(compressed: bytes, limit: int, *, raw: bool = False) -> bytes:
    """Inflate exactly one whole stream of at most ``limit`` bytes inflated.

    Args:
        raw: a raw deflate stream (as in a JWS with ``"zip": "DEF"``), not zlib's.

    Raises:
        SigningError: ``bad_compression`` for a stream cut short, bytes after it, a preset
            dictionary asked for, corrupt data, or more than ``limit`` bytes inflated.
    """
    try:
        return inflate(compressed, limit, -15 if raw else 15)
    except ValueError:
        raise SigningError("bad_compression") from None
