"""QR images of a code: PNG or SVG, error correction level M.

The symbol is made by zxing-cpp's encoder (C++, about 2 ms for a health code), which
picks the segment modes (base45 fits alphanumeric) and the mask as the QR standard
says; a pure-Python encoder spent some 40 ms on the mask alone, most of the time of a
resident's code page. The two images are drawn here from its modules.
"""

from __future__ import annotations

import io

import numpy as np
import zxingcpp
from PIL import Image

__all__ = ["qr_image"]

MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def _modules(text: str) -> np.ndarray:
    """Return the symbol's modules, one byte each: 0 dark, 255 light (no quiet zone)."""
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    return np.asarray(symbol.to_image(scale=1, add_quiet_zones=False))


def _svg(modules: np.ndarray, scale: int, border: int) -> bytes:
    """Draw each row's runs of dark modules as one stroked path (as SVG writers do)."""
    size = (modules.shape[0] + 2 * border) * scale
    runs = []
    for y, row in enumerate(modules == 0):
        # Where the row changes between light and dark: starts and ends of dark runs.
        edges = np.flatnonzero(np.diff(np.concatenate(([False], row, [False])).astype(np.int8)))
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            runs.append(f"M{start + border} {y + border}.5h{end - start}")
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
            f'width="{size}" height="{size}"><path transform="scale({scale})" stroke="#000" '
            f'd="{"".join(runs)}"/></svg>\n').encode()


def _png(modules: np.ndarray, scale: int, border: int) -> bytes:
    padded = np.pad(modules, border, constant_values=255)
    side = padded.shape[0] * scale
    image = Image.fromarray(padded, mode="L").resize((side, side), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.convert("1").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def qr_image(text: str, kind: str, *, scale: int = 4) -> bytes:
    """Render ``text`` as a QR code image of ``kind`` (``png`` or ``svg``), with the quiet
    zone of four modules the standard asks for and ``scale`` pixels a module."""
    if kind not in MEDIA_TYPES:
        raise ValueError(f"unknown image kind {kind}")
    modules = _modules(text)
    return _svg(modules, scale, 4) if kind == "svg" else _png(modules, scale, 4)
