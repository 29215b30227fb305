"""The printable health code: one A4 page with the QR code, its colour and validity.

For people without a smartphone, printed at home or at a help station. The text is set
in the platform's embedded sans family (``kit.pdf``), so every viewer and printer shows
the Chinese, and the page is tagged for screen readers: a heading, the QR code as a
figure with its alternative text, and paragraphs.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader

from borderpass.kit.pdf import Region, TaggedDocument

__all__ = ["code_sheet"]

_COLOURS = {"green": (0.04, 0.42, 0.2), "amber": (0.95, 0.72, 0.02), "red": (0.7, 0.15, 0.12)}
_INK_ON = {"green": (1, 1, 1), "amber": (0.1, 0.1, 0.1), "red": (1, 1, 1)}
# Simplified Chinese takes the mainland's glyph forms; Traditional and English Hong Kong's.
_REGIONS: dict[str, Region] = {"zh_Hans": "sc", "zh_Hant": "hk", "en": "hk"}


def code_sheet(*, locale: str, qr_png: bytes, qr_alt: str, colour: str, title: str,
               colour_text: str, holder: str, valid_text: str, printed_text: str,
               notes: list[str]) -> bytes:
    """Draw the printable code and return the PDF.

    Args:
        locale: the language of the texts (the document's language and glyph forms).
        qr_png: the QR code image of the code.
        qr_alt: what the QR code says, for a reader who cannot see it.
        colour: ``green``, ``amber`` or ``red``.
        title, colour_text, holder, valid_text, printed_text: lines already translated.
        notes: the reasons and what to do, when the code is not green.
    """
    width, height = A4
    texts = [qr_alt, colour_text, holder, valid_text, printed_text, *notes]
    with TaggedDocument(title=title, locale=locale, texts=texts, pagesize=A4,
                        region=_REGIONS.get(locale, "hk")) as doc:
        canvas = doc.canvas
        with doc.artifact():
            canvas.setFillColorRGB(*_COLOURS.get(colour, _COLOURS["red"]))
            canvas.rect(0, height - 62 * mm, width, 62 * mm, stroke=0, fill=1)
        canvas.setFillColorRGB(*_INK_ON.get(colour, (1, 1, 1)))
        with doc.element("H1"):
            doc.text(width / 2, height - 25 * mm, title, 26, bold=True, align="centre")
        with doc.element("P"):
            doc.text(width / 2, height - 45 * mm, colour_text, 34, bold=True, align="centre")

        side = 110 * mm
        left, bottom = (width - side) / 2, height - 70 * mm - side
        with doc.element("Figure", alt=qr_alt, bbox=(left, bottom, left + side, bottom + side)):
            with doc.marked():
                canvas.drawImage(ImageReader(io.BytesIO(qr_png)), left, bottom, side, side)
        canvas.setFillColorRGB(0.1, 0.1, 0.1)
        y = height - 82 * mm - side
        with doc.element("P"):
            doc.text(width / 2, y, holder, 20, bold=True, align="centre")
        y -= 11 * mm
        with doc.element("P"):
            doc.text(width / 2, y, valid_text, 16, bold=True, align="centre")
        y -= 12 * mm
        for note in notes:
            with doc.element("P"):
                for line in doc.wrap(note, 11, width - 40 * mm):
                    doc.text(20 * mm, y, line, 11)
                    y -= 5.5 * mm
            y -= 2 * mm
        with doc.element("P"):
            doc.text(width / 2, 15 * mm, printed_text, 10, align="centre")
        return doc.finish()
