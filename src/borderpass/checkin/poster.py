"""The printable A4 poster of a venue: its QR code, its names in three languages and
short instructions. Chinese text uses the CID fonts built into reportlab (no font file).
"""

from __future__ import annotations

import io

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

__all__ = ["render_poster"]

_HANT = "MSung-Light"  # Traditional Chinese (Adobe-CNS1)
_HANS = "STSong-Light"  # Simplified Chinese (Adobe-GB1)
_LATIN = "Helvetica"
_LATIN_BOLD = "Helvetica-Bold"

HEADINGS = (
    (_HANT, "掃描登記到訪"),
    (_HANS, "扫描登记到访"),
    (_LATIN_BOLD, "Scan to check in"),
)
INSTRUCTIONS = (
    (_HANT, "請用手機程式掃描二維碼。記錄只存於你的手機，三十一日後自動刪除。離開時請按「離開」。"),
    (_HANS, "请用手机程序扫描二维码。记录只存于你的手机，三十一日后自动删除。离开时请按“离开”。"),
    (_LATIN, "Scan the code with the phone app. The record stays on your phone and is deleted "
             "after 31 days. Tap 'Leave' when you go."),
)


def _fonts() -> None:
    for name in (_HANT, _HANS):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(name))


def _centred(canvas: Canvas, font: str, size: float, y: float, text: str) -> None:
    width = A4[0]
    # Shrink a long line until it fits between the margins.
    while size > 7 and pdfmetrics.stringWidth(text, font, size) > width - 30 * mm:
        size -= 0.5
    canvas.setFont(font, size)
    canvas.drawCentredString(width / 2, y, text)


def _wrapped(canvas: Canvas, font: str, size: float, y: float, text: str) -> float:
    width = A4[0] - 40 * mm
    lines: list[str] = []
    current = ""
    tokens = text.split(" ") if font == _LATIN else list(text)
    joiner = " " if font == _LATIN else ""
    for token in tokens:
        candidate = f"{current}{joiner}{token}" if current else token
        if pdfmetrics.stringWidth(candidate, font, size) > width and current:
            lines.append(current)
            current = token
        else:
            current = candidate
    lines.append(current)
    canvas.setFont(font, size)
    for line in lines:
        canvas.drawCentredString(A4[0] / 2, y, line)
        y -= size * 1.35
    return y


def render_poster(
    *,
    qr_text: str,
    name_zh: str,
    name_zh_hans: str,
    name_en: str,
    venue_code: str,
    address: str,
    generation: int,
) -> bytes:
    """Return a one-page A4 PDF poster for a venue's QR code."""
    _fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(f"{name_en} — venue check-in")
    width, height = A4
    y = height - 22 * mm
    for font, text in HEADINGS:
        _centred(canvas, font, 20, y, text)
        y -= 9 * mm
    y -= 2 * mm
    _centred(canvas, _HANT, 26, y, name_zh)
    y -= 10 * mm
    _centred(canvas, _HANS, 18, y, name_zh_hans)
    y -= 8 * mm
    _centred(canvas, _LATIN_BOLD, 20, y, name_en)
    y -= 6 * mm

    qr = segno.make_qr(qr_text, error="m")
    matrix = qr.matrix
    border = 4
    modules = len(matrix) + 2 * border
    side = min(125 * mm, y - 75 * mm)
    cell = side / modules
    left, top = (width - side) / 2, y - 2 * mm
    canvas.setFillColorRGB(0, 0, 0)
    for row_number, row in enumerate(matrix):
        for column, dark in enumerate(row):
            if dark:
                canvas.rect(left + (column + border) * cell,
                            top - (row_number + border + 1) * cell,
                            cell, cell, stroke=0, fill=1)
    y = top - side - 8 * mm
    for font, text in INSTRUCTIONS:
        y = _wrapped(canvas, font, 11, y, text) - 2 * mm
    canvas.setFont(_LATIN, 8)
    canvas.drawCentredString(width / 2, 14 * mm, f"{venue_code} · poster {generation}")
    canvas.setFont(_HANT, 8)
    canvas.drawCentredString(width / 2, 10 * mm, address[:90])
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
