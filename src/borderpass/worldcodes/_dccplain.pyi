"""The plain form of an EU DCC payload, checked in C (_dccplain.c)."""

from typing import Any

def plain_kind(certificate: Any, /) -> str | None:
    """Return 'v', 't' or 'r' for a payload in the plain form; None says nothing."""
