"""The printable health code: one A4 page with the QR code, its colour and validity.

For people without a smartphone, printed at home or at a help station. Chinese text
uses the CID fonts built into reportlab (no font file needed).
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

__all__ = ["code_sheet"]

_FONTS = {"zh_Hant": "MSung-Light", "zh_Hans": "STSong-Light", "en": "Helvetica"}
_BOLD = {"en": "Helvetica-Bold"}
_COLOURS = {"green": (0.04, 0.42, 0.2), "amber": (0.95, 0.72, 0.02), "red": (0.7, 0.15, 0.12)}
_INK_ON = {"green": (1, 1, 1), "amber": (0.1, 0.1, 0.1), "red": (1, 1, 1)}


def _font(locale: str, bold: bool = False) -> str:
    name = (_BOLD if bold else _FONTS).get(locale, _FONTS.get(locale, "Helvetica"))
    if name.endswith("-Light") and name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    """Break text into lines that fit: at spaces in English, anywhere in Chinese."""
    latin = font.startswith("Helvetica")
    tokens = text.split(" ") if latin else list(text)
    joiner = " " if latin else ""
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = f"{current}{joiner}{token}" if current else token
        if current and pdfmetrics.stringWidth(candidate, font, size) > width:
            lines.append(current)
            current = token
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def code_sheet(*, locale: str, qr_png: bytes, colour: str, title: str, colour_text: str,
               holder: str, valid_text: str, printed_text: str, notes: list[str]) -> bytes:
    """Draw the printable code and return the PDF.

    Args:
        locale: the language of the texts (chooses the font).
        qr_png: the QR code image of the code.
        colour: ``green``, ``amber`` or ``red``.
        title, colour_text, holder, valid_text, printed_text: lines already translated.
        notes: the reasons and what to do, when the code is not green.
    """
    width, height = A4
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(title)
    text_font, head_font = _font(locale), _font(locale, bold=True)

    canvas.setFillColorRGB(*_COLOURS.get(colour, _COLOURS["red"]))
    canvas.rect(0, height - 62 * mm, width, 62 * mm, stroke=0, fill=1)
    canvas.setFillColorRGB(*_INK_ON.get(colour, (1, 1, 1)))
    canvas.setFont(head_font, 26)
    canvas.drawCentredString(width / 2, height - 25 * mm, title)
    canvas.setFont(head_font, 34)
    canvas.drawCentredString(width / 2, height - 45 * mm, colour_text)

    side = 110 * mm
    canvas.drawImage(ImageReader(io.BytesIO(qr_png)), (width - side) / 2,
                     height - 70 * mm - side, side, side)
    canvas.setFillColorRGB(0.1, 0.1, 0.1)
    y = height - 82 * mm - side
    canvas.setFont("Helvetica-Bold", 20)
    canvas.drawCentredString(width / 2, y, holder)
    y -= 11 * mm
    canvas.setFont(head_font, 16)
    canvas.drawCentredString(width / 2, y, valid_text)
    y -= 12 * mm
    for note in notes:
        for line in _lines(note, text_font, 11, width - 40 * mm):
            canvas.setFont(text_font, 11)
            canvas.drawString(20 * mm, y, line)
            y -= 5.5 * mm
        y -= 2 * mm
    canvas.setFont(text_font, 10)
    canvas.drawCentredString(width / 2, 15 * mm, printed_text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
