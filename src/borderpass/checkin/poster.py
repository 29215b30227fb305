"""The printable A4 poster of a venue: its QR code, its names in three languages and
short instructions.

The text is set in the platform's embedded sans family (``kit.pdf``): Traditional lines
with Hong Kong's glyph forms, Simplified lines with the mainland's, so every viewer and
printer shows all three languages. The poster is tagged: its language is Traditional
Chinese, each line in another language says its own, and the QR code is a figure with
its alternative text.
"""

from __future__ import annotations

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from borderpass.kit.pdf import Region, TaggedDocument, language_tag

__all__ = ["render_poster"]

# (locale, text) of each line; the locale chooses the glyph forms and the line's language.
HEADINGS = (
    ("zh_Hant", "掃描登記到訪"),
    ("zh_Hans", "扫描登记到访"),
    ("en", "Scan to check in"),
)
INSTRUCTIONS = (
    ("zh_Hant", "請用手機程式掃描二維碼。記錄只存於你的手機，三十一日後自動刪除。"
                "離開時請按「離開」。"),
    ("zh_Hans", "请用手机程序扫描二维码。记录只存于你的手机，三十一日后自动删除。"
                "离开时请按“离开”。"),
    ("en", "Scan the code with the phone app. The record stays on your phone and is deleted "
           "after 31 days. Tap 'Leave' when you go."),
)
_ALT = "{name}的到訪登記二維碼：用手機程式掃描。"
_REGIONS: dict[str, Region] = {"zh_Hant": "hk", "zh_Hans": "sc", "en": "hk"}
_LOCALE = "zh_Hant"  # the poster's own language; the other lines say theirs


def _language(locale: str) -> str | None:
    return None if locale == _LOCALE else language_tag(locale)


def _centred(doc: TaggedDocument, locale: str, size: float, y: float, text: str,
             bold: bool = False) -> None:
    width = A4[0]
    region = _REGIONS[locale]
    # Shrink a long line until it fits between the margins.
    while size > 7 and doc.width(text, size, bold=bold, region=region) > width - 30 * mm:
        size -= 0.5
    doc.text(width / 2, y, text, size, bold=bold, region=region, align="centre")


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
    footer = f"{venue_code} · poster {generation}"
    alt = _ALT.format(name=name_zh)
    texts = [text for _locale, text in HEADINGS + INSTRUCTIONS]
    texts += [name_zh, name_zh_hans, name_en, footer, address[:90], alt]
    with TaggedDocument(title=f"{name_zh} {name_en} — 到訪登記 venue check-in", locale=_LOCALE,
                        texts=texts, region="hk", pagesize=A4) as doc:
        width, height = A4
        y = height - 22 * mm
        for locale, text in HEADINGS:
            with doc.element("H1" if locale == _LOCALE else "P", lang=_language(locale)):
                _centred(doc, locale, 20, y, text, bold=True)
            y -= 9 * mm
        y -= 2 * mm
        for locale, size, name in (("zh_Hant", 26, name_zh), ("zh_Hans", 18, name_zh_hans),
                                   ("en", 20, name_en)):
            with doc.element("H2" if locale == _LOCALE else "P", lang=_language(locale)):
                _centred(doc, locale, size, y, name, bold=True)
            y -= {"zh_Hant": 10, "zh_Hans": 8, "en": 6}[locale] * mm

        qr = segno.make_qr(qr_text, error="m")
        matrix = qr.matrix
        border = 4
        modules = len(matrix) + 2 * border
        side = min(125 * mm, y - 75 * mm)
        cell = side / modules
        left, top = (width - side) / 2, y - 2 * mm
        canvas = doc.canvas
        with doc.element("Figure", alt=alt, bbox=(left, top - side, left + side, top)), \
                doc.marked():
            canvas.setFillColorRGB(0, 0, 0)
            for row_number, row in enumerate(matrix):
                for column, dark in enumerate(row):
                    if dark:
                        canvas.rect(left + (column + border) * cell,
                                    top - (row_number + border + 1) * cell,
                                    cell, cell, stroke=0, fill=1)
        y = top - side - 8 * mm
        for locale, text in INSTRUCTIONS:
            region = _REGIONS[locale]
            with doc.element("P", lang=_language(locale)):
                for line in doc.wrap(text, 11, width - 40 * mm, region=region):
                    doc.text(width / 2, y, line, 11, region=region, align="centre")
                    y -= 11 * 1.35
            y -= 2 * mm
        with doc.element("P", lang="en"):
            doc.text(width / 2, 14 * mm, footer, 8, align="centre")
        with doc.element("P"):
            doc.text(width / 2, 10 * mm, address[:90], 8, align="centre")
        return doc.finish()
