"""Base45, ES256's DER signature and plain CBOR, in C (_native.c)."""

from typing import Any

def b45decode(text: str, /) -> bytes:
    """Decode Base45 text; ValueError for text that is not Base45."""

def ecdsa_der(signature: bytes, /) -> bytes:
    """Return a 64-byte r || s as a DER ECDSA-Sig-Value; ValueError if not 64 bytes."""

def cbor_plain(data: bytes, /) -> Any:
    """Decode one plain CBOR item as cbor2 does, or return NotImplemented (cbor2's to read)."""
