"""Base45, inflating, ES256's DER signature, plain CBOR, COSE_Sign1 in C (_native.c)."""

from typing import Any

def b45decode(text: str, /) -> bytes:
    """Decode Base45 text; ValueError for text that is not Base45."""

def ecdsa_der(signature: bytes, /) -> bytes:
    """Return a 64-byte r || s as a DER ECDSA-Sig-Value; ValueError if not 64 bytes."""

def cbor_plain(data: bytes, /) -> Any:
    """Decode one plain CBOR item as cbor2 does, or return NotImplemented (cbor2's to read)."""

def sign1_plain(message: bytes, /) -> tuple[int, bytes, bytes | None, bytes, bytes, bytes] | None:
    """Take apart a COSE_Sign1 in its usual form: (tags, protected, kid, payload,
    signature, to_be_signed), tags 0, 1 (18) or 2 (61, 18); None for any other form."""

def inflate(data: bytes, limit: int, wbits: int, /) -> bytes:
    """Inflate one whole zlib (wbits 15) or raw deflate (-15) stream of at most ``limit``
    bytes inflated; ValueError for anything else."""
