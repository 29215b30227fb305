"""The tagged PDF document: the embedded family, line breaking, the structure tree."""

from __future__ import annotations

import io
import shutil
import subprocess
import time

import pikepdf
import pytest

from borderpass.kit.pdf import TaggedDocument, language_tag

MIXED = ("請到社區檢測中心或認可化驗所接受檢測。收到陰性結果後，你的健康碼便會轉為綠碼。"
         "Get tested at a community testing centre, then wait 10:00:00\u202fam.")


def one_page(text: str = MIXED, title: str = "港康碼") -> bytes:
    with TaggedDocument(title=title, locale="zh_Hant", texts=[text], region="hk") as doc:
        with doc.element("H1"):
            doc.text(50, 780, title, 20, bold=True)
        with doc.element("P"):
            y = 740.0
            for line in doc.wrap(text, 11, 200):
                doc.text(50, y, line, 11)
                y -= 15
        return doc.finish()


def test_lines_break_between_words_and_characters_never_before_closing_punctuation() -> None:
    with TaggedDocument(title="t", locale="zh_Hant", texts=[MIXED], region="hk") as doc:
        lines = doc.wrap(MIXED, 11, 120)
        assert "".join(lines).replace(" ", "") == MIXED.replace(" ", "")
        assert all(doc.width(line, 11) <= 120 for line in lines)
        assert not any(line[0] in "，。、" for line in lines)
        assert "10:00:00\u202fam." in lines[-1], "no break inside a time"
        english = doc.wrap("Scan the code with the phone app.", 11, 70)
        assert " ".join(english) == "Scan the code with the phone app."
        for line, following in zip(english, english[1:], strict=False):
            assert doc.width(line, 11) <= 70  # full, but no fuller
            assert doc.width(f"{line} {following.split()[0]}", 11) > 70
        assert doc.wrap("", 11, 90) == [""]
        doc.finish()


def test_same_content_same_bytes_and_small() -> None:
    first = one_page()
    time.sleep(1.05)  # font tables carry dates in seconds: none may come from the clock
    second = one_page()
    assert first == second
    assert len(first) < 40_000, len(first)  # the glyphs used, not the 30 MB collection


def test_fonts_made_for_a_document_are_let_go() -> None:
    from reportlab.pdfbase import pdfmetrics

    before = set(pdfmetrics.getRegisteredFontNames())
    one_page(MIXED + " 另一段文字")
    assert set(pdfmetrics.getRegisteredFontNames()) == before


def test_text_the_document_was_not_told_of_is_refused() -> None:
    with TaggedDocument(title="t", locale="en", texts=["Hello"], region="hk") as doc, \
            doc.element("P"):
        with pytest.raises(ValueError, match="綠"):
            doc.text(10, 10, "綠碼", 10)


def test_a_figure_needs_its_alternative_text() -> None:
    with TaggedDocument(title="t", locale="en", texts=[], region="hk") as doc:
        with pytest.raises(ValueError, match="alternative text"), doc.element("Figure"):
            pass


def test_catalog_and_structure_tree() -> None:
    content = one_page()
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert pdf.pdf_version == "1.7"
        assert str(pdf.Root.Lang) == "zh-Hant-HK"
        assert pdf.Root.MarkInfo.Marked is True
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert str(pdf.docinfo.Title) == "港康碼"
        document = pdf.Root.StructTreeRoot.K
        assert document.S == pikepdf.Name.Document
        assert [str(kid.S) for kid in document.K] == ["/H1", "/P"]
        assert pdf.pages[0].obj.StructParents == 0
        fonts = pdf.pages[0].Resources.Font
        for name in fonts.keys():
            font = fonts[name]
            assert "NotoSansCJKhk" in str(font.BaseFont)
            assert "/FontFile2" in font.FontDescriptor, "the font is embedded"
    assert language_tag("zh_Hans") == "zh-Hans" and language_tag("en") == "en"


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")
def test_an_element_across_two_pages_is_read_in_order(tmp_path: object) -> None:
    texts = [f"第{number}行 line {number}" for number in range(3)]
    with TaggedDocument(title="兩頁", locale="zh_Hant", texts=texts, region="hk") as doc:
        with doc.element("P"):
            doc.text(50, 700, texts[0], 12)
            doc.new_page()
            doc.text(50, 700, texts[1], 12)
        with doc.element("Figure", alt="一個方塊", bbox=(50, 50, 100, 100)), doc.marked():
            doc.canvas.rect(50, 50, 50, 50, fill=1)
        with doc.artifact():
            doc.canvas.line(0, 20, 600, 20)
        content = doc.finish()
    shown = subprocess.run(["pdfinfo", "-struct-text", "-"], input=content,
                           capture_output=True, check=False, timeout=30)
    assert shown.returncode == 0 and not shown.stderr, shown.stderr
    tree = shown.stdout.decode()
    assert tree.index("第0行 line 0") < tree.index("第1行 line 1") < tree.index("Figure")
    with pikepdf.open(io.BytesIO(content)) as pdf:
        paragraph, figure = pdf.Root.StructTreeRoot.K.K
        assert [int(part.MCID) for part in paragraph.K] == [0, 0]  # one on each page
        assert str(figure.Alt) == "一個方塊"
        assert list(figure.A.BBox) == [50, 50, 100, 100]


def test_characters_beyond_the_basic_plane_read_back_as_themselves() -> None:
    from pypdf import PdfReader

    text = "搭𨋢去㗎 lift"  # 𨋢 is U+282E2, a Hong Kong supplementary character
    content = one_page(text, title="𨋢")
    read = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "搭𨋢去㗎" in read and "\u282e" not in read
