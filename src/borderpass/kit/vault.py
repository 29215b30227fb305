"""Personal data at rest: sealing under the PII key and blind indexes under their own key."""

from __future__ import annotations

from borderpass.kit.signing import blind_index, open_sealed, seal

__all__ = ["address_index", "document_index", "open_text", "seal_text"]


def seal_text(field: str, value: str) -> bytes:
    """Seal a personal value; the field name is bound to it as associated data."""
    return seal(value.encode(), context=field)


def open_text(field: str, sealed: bytes) -> str:
    """Open what ``seal_text`` sealed for ``field``."""
    return open_sealed(sealed, context=field).decode()


def document_index(kind: str, normalised: str) -> str:
    """Return the blind index of a normalised document number of ``kind``."""
    return blind_index(kind, normalised)


def normalise_address(address: str) -> str:
    """Normalise an address for matching: case, punctuation and spacing do not count."""
    kept = "".join(char if char.isalnum() else " " for char in address.upper())
    return " ".join(kept.split())


def address_index(address: str) -> str:
    """Return the blind index of an address, so orders can find residents without plain text."""
    return blind_index("address", normalise_address(address))
