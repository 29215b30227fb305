"""The one exception every signing recipe raises."""

from __future__ import annotations

__all__ = ["SigningError"]


class SigningError(Exception):
    """Something could not be signed, read, verified, opened or loaded.

    ``reason`` says what, as a stable code (``bad_signature``, ``bad_key``, ``bad_base45``,
    ``unsealable`` …) that callers may show or map to their own reasons.
    """

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason
