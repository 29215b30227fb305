"""PDF documents that every viewer shows alike and that a screen reader can follow.

Text is set in one sans-serif family, Noto Sans CJK (its Latin letters are Source Sans),
embedded in the document and cut down to the characters it uses: a viewer needs no Asian
font and no CMap of its own, and English mixed with Chinese keeps the same face. The font
comes from a Python package (``manimgx-fonts-cjk``, SIL Open Font License, which allows
embedding) as a variable collection with cubic (CFF2) outlines. reportlab embeds only
TrueType outlines, so for each document the glyphs it uses are drawn at the weight wanted
and converted to quadratic curves (fontTools' cu2qu, within a thousandth of an em): about
a millisecond a glyph, once per process, as a converted glyph is kept for the next
document; a one-page document carries tens of kilobytes of font rather than megabytes.
The regional faces (Hong Kong, mainland, Taiwan) share one copy of the outlines, so they
are read once; the first document of a process also pays a few seconds to read the
collection's character map and width variations.

Every document is tagged (PDF 1.7, ISO 32000-1 section 14.8): the catalog names the
document's language, ``/MarkInfo`` says it is marked, the viewer shows the title rather
than the file name, and a structure tree (Document, then headings, paragraphs and
figures with their alternative text) points to the marked content of the pages.
Decoration is marked as an artifact. reportlab writes the marked-content operators in
the page streams; pikepdf adds the structure tree to the finished file.

A document is built in reportlab's invariant mode and saved with a deterministic file
identifier: the same content gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

__all__ = ["LANGUAGE_TAGS", "FontError", "TaggedDocument", "language_tag"]

# The BCP 47 tag of each locale, as the pages' ``<html lang>`` says it.
LANGUAGE_TAGS = {"zh_Hant": "zh-Hant-HK", "zh_Hans": "zh-Hans", "en": "en"}
# The faces of the collection: regional glyph forms of the same family.
_FAMILIES = {"hk": "Noto Sans CJK HK", "sc": "Noto Sans CJK SC", "tc": "Noto Sans CJK TC"}
Region = Literal["hk", "sc", "tc"]
_WEIGHTS = {False: 400.0, True: 700.0}
# Characters every document can draw without naming them: printable ASCII and the
# punctuation that templates add around values.
_ALWAYS = "".join(chr(code) for code in range(0x20, 0x7F)) + "·—–‘’“”…：，。、「」（）"
# Glyphs of Chinese text, between which a line may break.
_CJK = ("\u2e80-\u2fff\u3000-\u303f\u3040-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f"
        "\uff00-\uffef\U00020000-\U0003ffff")
# Spaces a line may break at: white space but the no-break ones (babel puts a narrow
# no-break space between a time and "am").
_BREAK = "[^\\S\u00a0\u2007\u202f]"
_TOKENS = re.compile(f"[{_CJK}]|(?:(?!{_BREAK})[^{_CJK}])+{_BREAK}*|{_BREAK}+")
# Punctuation that must not begin a line: it stays with the character before it.
_CLOSING = set("，。、：；！？」』）》〉】,.;:!?)]")


class FontError(RuntimeError):
    """The font package is missing or does not hold the faces the documents use."""


def language_tag(locale: str) -> str:
    """Return the BCP 47 tag of a locale (``zh_Hant`` is ``zh-Hant-HK``)."""
    return LANGUAGE_TAGS.get(locale, locale.replace("_", "-"))


# -- the font ------------------------------------------------------------------------------


def _glyph_order(count: int) -> list[str]:
    # Glyphs named by their index: the collection's CFF2 table has no names, and fontTools
    # would otherwise make all 65,535 of them from a character map, for seconds.
    return [".notdef", *(f"g{number}" for number in range(1, count))]


class _Outlines:
    """The glyph tables the faces of the collection share, with the glyphs converted."""

    def __init__(self, path: str, number: int) -> None:
        from fontTools.ttLib import TTFont

        self.font = TTFont(path, fontNumber=number, lazy=True)
        self.font.setGlyphOrder(_glyph_order(self.font["maxp"].numGlyphs))
        self._sets: dict[float, Any] = {}
        self._glyphs: dict[tuple[float, str], _Outline] = {}
        self.lock = threading.Lock()  # fontTools reads the file lazily: one reader at a time

    def glyph(self, name: str, weight: float) -> _Outline:
        """Return a glyph converted to TrueType outlines, drawn at ``weight``."""
        from fontTools.pens.cu2quPen import Cu2QuPen
        from fontTools.pens.ttGlyphPen import TTGlyphPen

        key = (weight, name)
        found = self._glyphs.get(key)
        if found is not None:
            return found
        glyphs = self._sets.get(weight)
        if glyphs is None:
            glyphs = self._sets[weight] = self.font.getGlyphSet(location={"wght": weight})
        source = glyphs[name]
        pen = TTGlyphPen(None)
        # CFF contours run counter-clockwise, TrueType ones clockwise.
        source.draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        outline = pen.glyph()
        outline.recalcBounds(None)
        if outline.numberOfContours:
            bounds = (outline.xMin, outline.yMin, outline.xMax, outline.yMax)
            points = len(outline.coordinates)
        else:
            bounds, points = (0, 0, 0, 0), 0
        found = _Outline(outline.compile(None), round(source.width), bounds, points,
                         max(0, outline.numberOfContours))
        self._glyphs[key] = found
        return found


class _Face:
    """One regional face of the collection: its character map and metrics."""

    def __init__(self, path: str, number: int, outlines: _Outlines) -> None:
        from fontTools.ttLib import TTFont

        font = TTFont(path, fontNumber=number, lazy=True)
        font.setGlyphOrder(_glyph_order(font["maxp"].numGlyphs))
        self.cmap: dict[int, str] = font.getBestCmap()
        hhea, os2 = font["hhea"], font["OS/2"]
        self.ascent, self.descent = int(hhea.ascent), int(hhea.descent)
        self.typo = (int(os2.sTypoAscender), int(os2.sTypoDescender), int(os2.sTypoLineGap))
        self.win = (int(os2.usWinAscent), int(os2.usWinDescent))
        self.dates = (int(font["head"].created), int(font["head"].modified))
        font.close()
        self.outlines = outlines
        self.lock = outlines.lock


@dataclass(frozen=True)
class _Outline:
    """A glyph as compiled TrueType data, with what the font's tables say of it."""

    data: bytes
    advance: int
    bounds: tuple[int, int, int, int]  # xMin, yMin, xMax, yMax
    points: int
    contours: int


@cache
def _collection() -> str:
    try:
        folder = resources.files("manimgx_fonts_cjk")
    except ModuleNotFoundError:
        raise FontError("the font package manimgx-fonts-cjk is not installed") from None
    path = folder / "NotoSansCJK-VF.otf.ttc"
    if not path.is_file():
        raise FontError(f"no font collection at {path}")
    return str(path)


_faces: dict[str, _Face] = {}
_outlines: dict[tuple[Any, ...], _Outlines] = {}
_faces_lock = threading.Lock()


def _face(region: str) -> _Face:
    with _faces_lock:
        face = _faces.get(region)
        if face is None:
            from fontTools.ttLib import TTCollection

            path = _collection()
            collection = TTCollection(path, lazy=True)
            names = [font["name"].getDebugName(1) for font in collection.fonts]
            family = _FAMILIES[region]
            if family not in names:
                collection.close()
                raise FontError(f"the collection has no face {family!r} (it has {names})")
            number = names.index(family)
            # The faces differ only in their character maps and share one copy of the
            # outlines and widths: read and convert those once for all of them.
            tables = collection.fonts[number].reader.tables
            shared = tuple((tag, tables[tag].offset) for tag in ("CFF2", "HVAR", "hmtx")
                           if tag in tables) or (number,)
            collection.close()
            outlines = _outlines.get(shared)
            if outlines is None:
                outlines = _outlines[shared] = _Outlines(path, number)
            face = _faces[region] = _Face(path, number, outlines)
        return face


def _font_file(region: str, bold: bool, characters: str, name: str) -> bytes:
    """Return a TrueType font of ``region``'s face with the glyphs of ``characters``."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.ttLib import newTable
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    face = _face(region)
    weight = _WEIGHTS[bold]
    cmap: dict[int, str] = {}
    order = [".notdef"]
    for character in sorted(set(characters)):
        glyph_name = face.cmap.get(ord(character))
        if glyph_name is None:
            continue  # the face lacks it: the viewer shows the empty box of .notdef
        cmap[ord(character)] = glyph_name
        if glyph_name not in order:
            order.append(glyph_name)
    with face.lock:
        outlines = {glyph_name: face.outlines.glyph(glyph_name, weight) for glyph_name in order}
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(cmap)
    # The glyphs go in as compiled data with their bounds and counts known, which spares
    # fontTools decoding and encoding each of them again.
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {glyph_name: Glyph(outline.data) for glyph_name, outline in outlines.items()}
    builder.font["glyf"], builder.font["loca"] = glyf, newTable("loca")
    builder.font.recalcBBoxes = False
    # The source's dates, not the clock's: the same document must give the same bytes.
    builder.font.recalcTimestamp = False
    inked = [outline.bounds for outline in outlines.values() if outline.contours]
    builder.setupHorizontalMetrics({glyph_name: (outline.advance, outline.bounds[0])
                                    for glyph_name, outline in outlines.items()})
    builder.setupHorizontalHeader(ascent=face.ascent, descent=face.descent)
    style = "Bold" if bold else "Regular"
    builder.setupNameTable({"familyName": _FAMILIES[region], "styleName": style,
                            "psName": name, "uniqueFontIdentifier": name})
    builder.setupOS2(sTypoAscender=face.typo[0], sTypoDescender=face.typo[1],
                     sTypoLineGap=face.typo[2], usWinAscent=face.win[0],
                     usWinDescent=face.win[1], fsType=0,  # installable: free to embed
                     usWeightClass=int(weight))
    builder.setupPost()
    head, maxp = builder.font["head"], builder.font["maxp"]
    head.created, head.modified = face.dates
    head.xMin, head.yMin = min(b[0] for b in inked), min(b[1] for b in inked)
    head.xMax, head.yMax = max(b[2] for b in inked), max(b[3] for b in inked)
    maxp.maxPoints = max(outline.points for outline in outlines.values())
    maxp.maxContours = max(outline.contours for outline in outlines.values())
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


# reportlab keeps fonts in module-wide registries and has no way to remove one; a font
# made for one document is removed again when no document being drawn uses it, so that
# a long-running server does not keep every document's font.
_in_use: dict[str, int] = {}
_registry_lock = threading.Lock()


def _register(name: str, build: Any) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _registry_lock:
        if name not in _in_use:
            pdfmetrics.registerFont(TTFont(name, io.BytesIO(build()), asciiReadable=False))
        _in_use[name] = _in_use.get(name, 0) + 1


def _release(name: str) -> None:
    from reportlab.lib import fonts
    from reportlab.pdfbase import pdfmetrics

    with _registry_lock:
        count = _in_use.get(name, 0) - 1
        if count > 0:
            _in_use[name] = count
            return
        _in_use.pop(name, None)
        font = pdfmetrics._fonts.pop(name, None)
        for face, registered in list(pdfmetrics._dynFaceNames.items()):
            if registered is font:
                del pdfmetrics._dynFaceNames[face]
        for key, value in list(fonts._tt2ps_map.items()):
            if value == name:
                del fonts._tt2ps_map[key]
                fonts._ps2tt_map.pop(name.lower(), None)


# -- the document ---------------------------------------------------------------------------


@dataclass
class _Element:
    role: str
    alt: str | None = None
    lang: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    parts: list[tuple[int, int]] = field(default_factory=list)  # (page, marked-content id)


class TaggedDocument:
    """A PDF being drawn with reportlab, in the embedded sans family, and tagged.

    Args:
        title: the document's title (the viewer's window shows it).
        locale: the document's language (``zh_Hant``, ``zh_Hans`` or ``en``).
        texts: every text the document will draw; the fonts hold their characters.
        region: the regional glyph forms of Chinese text (``hk``, ``sc`` or ``tc``).
        author: the author in the document's information dictionary.
        pagesize: the page's width and height in points.

    Raises:
        FontError: the font package is missing.
    """

    def __init__(self, *, title: str, locale: str, texts: Iterable[str], region: Region,
                 author: str | None = None,
                 pagesize: tuple[float, float] = (595.2755905511812, 841.8897637795277)
                 ) -> None:
        from reportlab.pdfgen.canvas import Canvas

        self.title = title
        self.lang = language_tag(locale)
        self.region: Region = region
        self.pagesize = pagesize
        self._characters = "".join(sorted(set(_ALWAYS + title + "".join(texts))))
        self._digest = hashlib.sha256(self._characters.encode()).hexdigest()[:16]
        self._fonts: dict[tuple[str, bool], str] = {}
        self._buffer = io.BytesIO()
        # The page's initial font is the family's too, so that no other font is named.
        self.canvas = Canvas(self._buffer, pagesize=pagesize, invariant=True, pageCompression=1,
                             initialFontName=self.font(), initialFontSize=10)
        self.canvas.setTitle(title)
        if author:
            self.canvas.setAuthor(author)
        self._elements: list[_Element] = []
        self._open: _Element | None = None
        self._page = 0
        self._next_id = 0
        self._finished = False

    # fonts and text

    def font(self, *, bold: bool = False, region: Region | None = None) -> str:
        """Return the registered name of the family's regular or bold face."""
        chosen = region or self.region
        key = (chosen, bold)
        name = self._fonts.get(key)
        if name is None:
            name = f"NotoSansCJK{chosen}-{'Bold' if bold else 'Regular'}-{self._digest}"
            _register(name, lambda: _font_file(chosen, bold, self._characters, name))
            self._fonts[key] = name
        return name

    def _drawable(self, text: str, region: Region | None) -> str:
        """Draw a space the face lacks (a narrow or thin space) as a plain space."""
        cmap = _face(region or self.region).cmap
        return "".join(" " if char.isspace() and ord(char) not in cmap else char
                       for char in text)

    def width(self, text: str, size: float, *, bold: bool = False,
              region: Region | None = None) -> float:
        """Return the width of ``text`` in points."""
        from reportlab.pdfbase import pdfmetrics

        return float(pdfmetrics.stringWidth(self._drawable(text, region),
                                            self.font(bold=bold, region=region), size))

    def wrap(self, text: str, size: float, width: float, *, bold: bool = False,
             region: Region | None = None) -> list[str]:
        """Break ``text`` into lines no wider than ``width``: at spaces between words,
        between any two Chinese characters, never before closing punctuation."""
        tokens: list[str] = []
        for token in _TOKENS.findall(text):
            if tokens and token[0] in _CLOSING:
                tokens[-1] += token
            else:
                tokens.append(token)
        lines: list[str] = []
        current = ""
        for token in tokens:
            candidate = current + token
            if current.strip() and self.width(candidate.rstrip(), size, bold=bold,
                                              region=region) > width:
                lines.append(current.rstrip())
                current = token.lstrip()
            else:
                current = candidate
        if current.strip() or not lines:
            lines.append(current.rstrip())
        return lines

    def text(self, x: float, y: float, text: str, size: float, *, bold: bool = False,
             region: Region | None = None, align: Literal["left", "centre"] = "left") -> None:
        """Draw one line of text, as part of the open element (an artifact outside one)."""
        missing = set(text) - set(self._characters)
        if missing:
            raise ValueError(f"text not announced to the document: {''.join(sorted(missing))!r}")
        text = self._drawable(text, region)
        with self.marked():
            self.canvas.setFont(self.font(bold=bold, region=region), size)
            if align == "centre":
                self.canvas.drawCentredString(x, y, text)
            else:
                self.canvas.drawString(x, y, text)

    # structure

    @contextmanager
    def element(self, role: str, *, alt: str | None = None, lang: str | None = None,
                bbox: tuple[float, float, float, float] | None = None) -> Iterator[None]:
        """Open a structure element (``H1``, ``H2``, ``P``, ``Figure``...) of the document.

        ``alt`` is a figure's alternative text; ``lang`` the element's language when it is
        not the document's; ``bbox`` a figure's box (left, bottom, right, top) in points.
        """
        if self._open is not None:
            raise RuntimeError(f"a {self._open.role} element is still open")
        if role == "Figure" and not alt:
            raise ValueError("a figure needs its alternative text")
        self._open = _Element(role, alt, lang, bbox)
        try:
            yield
        finally:
            self._elements.append(self._open)
            self._open = None

    @contextmanager
    def marked(self) -> Iterator[None]:
        """Mark what is drawn inside as content of the open element (an artifact if none)."""
        if self._open is None:
            with self.artifact():
                yield
            return
        number = self._next_id
        self._next_id += 1
        self._open.parts.append((self._page, number))
        self.canvas.addLiteral(f"/{self._open.role} <</MCID {number}>> BDC")
        try:
            yield
        finally:
            self.canvas.addLiteral("EMC")

    @contextmanager
    def artifact(self) -> Iterator[None]:
        """Mark what is drawn inside as decoration, which a screen reader skips."""
        self.canvas.addLiteral("/Artifact BMC")
        try:
            yield
        finally:
            self.canvas.addLiteral("EMC")

    def new_page(self) -> None:
        """End the page and start the next one."""
        self.canvas.showPage()
        self._page += 1
        self._next_id = 0

    def finish(self) -> bytes:
        """End the document and return the tagged PDF."""
        if self._finished:
            raise RuntimeError("the document is already finished")
        self._finished = True
        try:
            self.canvas.showPage()
            self.canvas.save()
        finally:
            for name in self._fonts.values():
                _release(name)
        return _tag(self._buffer.getvalue(), title=self.title, lang=self.lang,
                    elements=self._elements)

    def __enter__(self) -> TaggedDocument:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._finished:  # drawing failed: give back the fonts all the same
            self._finished = True
            for name in self._fonts.values():
                _release(name)


# reportlab writes a character past U+FFFF (many of Hong Kong's supplementary characters,
# 𨋢 for one) into a font's ToUnicode map as five or six hex digits, which readers cut to
# four: copied, searched or read aloud it becomes another character. The map wants the
# UTF-16 surrogate pair.
_BEYOND_BMP = re.compile(rb"<([0-9A-Fa-f]{2})> <([0-9A-Fa-f]{5,6})>")


def _as_utf16(match: re.Match[bytes]) -> bytes:
    high, low = divmod(int(match[2], 16) - 0x10000, 0x400)
    return b"<%s> <%04X%04X>" % (match[1], 0xD800 + high, 0xDC00 + low)


def _tag(content: bytes, *, title: str, lang: str, elements: list[_Element]) -> bytes:
    """Add the structure tree, the language and the title to a PDF reportlab wrote."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    with pikepdf.open(io.BytesIO(content)) as pdf:
        pages = list(pdf.pages)
        tree_root = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        document = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document,
                                                P=tree_root, Lang=String(lang)))
        by_page: list[dict[int, Any]] = [{} for _ in pages]
        kids = []
        for element in elements:
            if not element.parts:
                continue
            first_page = element.parts[0][0]
            item = Dictionary(Type=Name.StructElem, S=Name("/" + element.role), P=document,
                              Pg=pages[first_page].obj)
            if all(page == first_page for page, _ in element.parts):
                item.K = Array([number for _, number in element.parts])
            else:
                item.K = Array([Dictionary(Type=Name.MCR, Pg=pages[page].obj, MCID=number)
                                for page, number in element.parts])
            if element.alt:
                item.Alt = String(element.alt)
            if element.lang:
                item.Lang = String(element.lang)
            if element.bbox:
                item.A = Dictionary(O=Name.Layout, BBox=Array(list(element.bbox)))
            indirect = pdf.make_indirect(item)
            kids.append(indirect)
            for page, number in element.parts:
                by_page[page][number] = indirect
        document.K = Array(kids)
        for pdf_page in pages:
            resources = pdf_page.obj.get("/Resources")
            fonts = resources.get("/Font") if resources is not None else None
            for font in fonts.values() if fonts is not None else ():
                if "/ToUnicode" in font:
                    data = font.ToUnicode.read_bytes()
                    fixed = _BEYOND_BMP.sub(_as_utf16, data)
                    if fixed != data:
                        font.ToUnicode.write(fixed)
        numbers: list[Any] = []
        for index, pdf_page in enumerate(pages):
            pdf_page.obj.StructParents = index
            pdf_page.obj.Tabs = Name.S  # the tab order follows the structure
            marked = by_page[index]
            numbers += [index, pdf.make_indirect(Array(
                [marked[number] for number in range(max(marked, default=-1) + 1)]))]
        tree_root.K = document
        tree_root.ParentTree = pdf.make_indirect(Dictionary(Nums=Array(numbers)))
        tree_root.ParentTreeNextKey = len(pages)
        pdf.Root.StructTreeRoot = tree_root
        pdf.Root.MarkInfo = Dictionary(Marked=True)
        pdf.Root.Lang = String(lang)
        pdf.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
        pdf.docinfo[Name.Title] = String(title)
        out = io.BytesIO()
        # Tagging and /Lang came with PDF 1.4 and 1.7 is the version ISO 32000-1 defines;
        # reportlab writes 1.3 in its header.
        pdf.save(out, deterministic_id=True, min_version="1.7")
        return out.getvalue()
