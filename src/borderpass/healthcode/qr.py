"""QR images of a code: PNG or SVG, in alphanumeric mode (base45 fits it)."""

from __future__ import annotations

import io

import segno

__all__ = ["qr_image"]

MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def qr_image(text: str, kind: str, *, scale: int = 4) -> bytes:
    """Render ``text`` as a QR code image of ``kind`` (``png`` or ``svg``)."""
    if kind not in MEDIA_TYPES:
        raise ValueError(f"unknown image kind {kind}")
    code = segno.make(text, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind=kind, scale=scale, border=4)
    return buffer.getvalue()
