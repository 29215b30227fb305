"""Every PDF the site makes, in every language, as a reader's viewer shows it.

Each document is rendered by the code that serves it, then read back with poppler (the
library behind most Linux viewers and many others): ``pdftotext`` must find the Chinese
and the English text, ``pdftoppm`` must paint it (ink inside the box of every word), and
neither may complain about a missing font or CMap. Every font must be embedded and of one
sans-serif family. The renders of the Traditional Chinese documents are kept under
``test-artifacts/pdf/`` for a person to look at.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.healthcode.test_pages import negative_test, sign_in_resident
from tests.web.test_pages import csrf_of

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdffonts", "pdfinfo")),
    reason="poppler-utils (pdftotext, pdftoppm, pdffonts, pdfinfo) are not installed")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf"
DPI = 72
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Document:
    name: str
    locale: str
    content: bytes
    expected: tuple[str, ...]  # phrases that must be read back, Chinese and English


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _run(*command: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, capture_output=True, timeout=60, check=False)


def _words(pdf: Path) -> list[tuple[int, str, tuple[float, float, float, float]]]:
    """Return (page, word, box in points) for every word poppler finds."""
    done = _run("pdftotext", "-bbox", str(pdf), "-")
    assert done.returncode == 0, done.stderr.decode()
    words = []
    page = -1
    for line in done.stdout.decode().splitlines():
        if "<page " in line:
            page += 1
        found = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                          r'yMax="([\d.]+)">(.*)</word>', line)
        if found:
            box = (float(found[1]), float(found[2]), float(found[3]), float(found[4]))
            words.append((page, unescape(found[5]), box))
    return words


def _inked(image: Image.Image, box: tuple[float, float, float, float]) -> float:
    """Return the share of pixels in ``box`` that differ from the box's commonest colour."""
    scale = DPI / 72
    left, top, right, bottom = (round(v * scale) for v in box)
    crop = image.crop((left, top, max(right, left + 1), max(bottom, top + 1))).convert("L")
    histogram = crop.histogram()
    background = max(range(256), key=histogram.__getitem__)
    differing = sum(count for value, count in enumerate(histogram)
                    if abs(value - background) > 60)
    return differing / max(1, crop.width * crop.height)


def check_document(document: Document, folder: Path) -> None:
    """Read the document back with poppler and check every viewer would show it."""
    pdf = folder / f"{document.name}.pdf"
    pdf.write_bytes(document.content)

    text = _run("pdftotext", "-layout", str(pdf), "-")
    assert text.returncode == 0, text.stderr.decode()
    assert not text.stderr, f"{document.name}: poppler complains: {text.stderr.decode()}"
    read = _compact(text.stdout.decode())
    for phrase in document.expected:
        assert _compact(phrase) in read, f"{document.name}: {phrase!r} is not in {read!r}"

    fonts = _run("pdffonts", str(pdf))
    assert fonts.returncode == 0 and not fonts.stderr, fonts.stderr.decode()
    rows = fonts.stdout.decode().splitlines()[2:]
    assert rows, f"{document.name}: no fonts"
    for row in rows:
        name, embedded = row.split()[0], row.split()[-5]
        assert embedded == "yes", f"{document.name}: font {name} is not embedded"
        assert "NotoSansCJK" in name, f"{document.name}: {name} is not the one sans family"

    prefix = folder / document.name
    shown = _run("pdftoppm", "-r", str(DPI), "-png", str(pdf), str(prefix))
    assert shown.returncode == 0, shown.stderr.decode()
    assert not shown.stderr, f"{document.name}: poppler complains: {shown.stderr.decode()}"
    pages = sorted(folder.glob(f"{document.name}-*.png"))
    assert pages, f"{document.name}: nothing rendered"
    images = [Image.open(path) for path in pages]
    words = _words(pdf)
    chinese = [w for w in words if CJK.search(w[1])]
    if any(CJK.search(phrase) for phrase in document.expected):
        assert chinese, f"{document.name}: no Chinese word found on any page"
    for number, image in enumerate(images):
        on_page = [w for w in words if w[0] == number]
        assert on_page, f"{document.name}: page {number + 1} has no text"
        for _page, word, box in on_page:
            if not re.search(r"\w", word):
                continue  # a lone dot or dash has too little ink to judge
            assert _inked(image, box) > 0.04, \
                f"{document.name}: page {number + 1} shows nothing where {word!r} is"
    if document.locale == "zh_Hant":
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for path in pages:
            shutil.copyfile(path, ARTIFACTS / path.name)


# -- the documents ----------------------------------------------------------------------

_CODE_TEXTS = {
    "en": ("Health Code", "Red code", "Valid until", "CTM"),
    "zh_Hant": ("港康碼", "紅碼", "有效至", "CTM"),
    "zh_Hans": ("港康码", "红码", "有效期至", "CTM"),
}


def code_sheets(client: Any, register_person: Any, lab: Any, session: Any,
                now: datetime) -> list[Document]:
    """The printable code of a resident, red (with reasons) then green, in each language."""
    register_person()
    sign_in_resident(client)
    documents = []
    for locale, expected in _CODE_TEXTS.items():
        client.cookies.set("locale", locale)
        answer = client.get("/code.pdf")
        assert answer.status_code == 200, answer.text
        documents.append(Document(f"code-red-{locale}", locale, answer.content, expected))
    negative_test(session, lab, now)
    page = client.get("/code")
    refreshed = client.post("/code/refresh", data={"csrf_token": csrf_of(page.text)},
                            follow_redirects=False)
    assert refreshed.status_code == 303
    for locale, green in (("en", "Green code"), ("zh_Hant", "綠碼"), ("zh_Hans", "绿码")):
        client.cookies.set("locale", locale)
        answer = client.get("/code.pdf")
        assert answer.status_code == 200, answer.text
        documents.append(Document(f"code-green-{locale}", locale, answer.content, (green,)))
    return documents


_LETTER_TEXTS = {
    "en": ("Decision on an application for an endorsement", "深圳市出入境接待大厅",
           "Application reference", "李小明"),
    "zh_Hant": ("簽注申請決定書", "申請編號", "深圳市出入境接待大厅", "李小明", "E2026"),
    "zh_Hans": ("签注申请决定书", "申请编号", "深圳市出入境接待大厅", "李小明", "E2026"),
}


def letters() -> list[Document]:
    """The decision letter, approved and refused, in each language."""
    from borderpass.permits import policy as policies
    from borderpass.permits.letter import LetterData, render_letter
    from borderpass.permits.schemas import EndorsementView

    policy = policies.current()
    decided = date(2026, 11, 30)
    documents = []
    for locale, expected in _LETTER_TEXTS.items():
        conditions = policy.conditions_on(decided)
        for outcome in ("approved", "refused"):
            endorsement = EndorsementView(
                number="E20261130001", kind="emergency", destination="HK", entries=1,
                valid_from=decided, valid_until=date(2026, 12, 29), stay_days=7,
                issued_at=datetime(2026, 11, 30, 3, tzinfo=UTC), issued_by=uuid.uuid4())
            data = LetterData(
                locale=locale, reference="E2026-000123", name="李小明",
                applicant_masked="440300********1234", permit_masked="C1234****",
                kind=policy.types["emergency"].name.get(locale),
                reason=policy.reasons["visit_critically_ill"].name.get(locale),
                destination="HK", outcome=outcome, decided_on=decided,
                office="深圳市出入境接待大厅", office_address="深圳市福田区福民路",
                reasons=("证明材料不足" if locale != "en" else "The evidence is incomplete",),
                note=None, endorsement=endorsement if outcome == "approved" else None,
                trip_conditions=tuple(t.get(locale) for t in conditions.trip)
                if outcome == "approved" else (),
                return_conditions=tuple(t.get(locale) for t in conditions.return_)
                if outcome == "approved" else ())
            documents.append(Document(f"letter-{outcome}-{locale}", locale,
                                      render_letter(data), expected))
    return documents


def posters() -> list[Document]:
    """The venue poster: three languages on one page."""
    from borderpass.checkin.poster import render_poster

    content = render_poster(
        qr_text="HKVC:1:V0001:abcdefghijklmnop", name_zh="海港城 — 海運大廈",
        name_zh_hans="海港城 — 海运大厦", name_en="Harbour City — Ocean Terminal",
        venue_code="V0001", address="香港九龍尖沙咀廣東道3-27號", generation=2)
    return [Document("poster-zh_Hant", "zh_Hant", content, (
        "掃描登記到訪", "扫描登记到访", "Scan to check in", "海港城—海運大廈", "海港城—海运大厦",
        "Harbour City", "記錄只存於你的手機", "记录只存于你的手机", "V0001", "廣東道"))]


def test_every_pdf_shows_its_chinese_and_english_text(
    client: Any, register_person: Any, lab: Any, session: Any, now: datetime,
    tmp_path: Path
) -> None:
    documents = code_sheets(client, register_person, lab, session, now) + letters() \
        + posters()
    for document in documents:
        check_document(document, tmp_path)


# -- tagging ---------------------------------------------------------------------------

_LANG = {"en": "en", "zh_Hant": "zh-Hant-HK", "zh_Hans": "zh-Hans"}
_QR_ALT = {"code-red-en": "Red code", "code-red-zh_Hant": "紅碼", "code-red-zh_Hans": "红码",
           "code-green-en": "Green code", "code-green-zh_Hant": "綠碼",
           "code-green-zh_Hans": "绿码", "poster-zh_Hant": "海港城 — 海運大廈的到訪登記二維碼"}


def structure(content: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the catalog's tagging entries and the structure elements under Document,
    each with its role, alternative text, language and marked content (page, id)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(content)) as pdf:
        root = pdf.Root
        pages = {page.obj.objgen: number for number, page in enumerate(pdf.pages)}
        catalog = {
            "lang": str(root.get("/Lang", "")),
            "marked": bool(root.get("/MarkInfo", {}).get("/Marked", False)),
            "display_title": bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle",
                                                                         False)),
            "title": str(pdf.docinfo.get("/Title", "")),
            "has_tree": "/StructTreeRoot" in root,
        }
        if not catalog["has_tree"]:
            return catalog, []
        document = root.StructTreeRoot.K
        assert document.S == pikepdf.Name.Document
        catalog["document_lang"] = str(document.get("/Lang", ""))
        drawn: dict[int, set[int]] = {}
        for number, page in enumerate(pdf.pages):
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) == "BDC" and isinstance(operands[1], pikepdf.Dictionary) \
                        and "/MCID" in operands[1]:
                    drawn.setdefault(number, set()).add(int(operands[1].MCID))
        parent_tree = root.StructTreeRoot.ParentTree.Nums
        parents = {int(parent_tree[i]): parent_tree[i + 1] for i in range(0, len(parent_tree), 2)}
        elements = []
        for kid in document.K:
            page = pages[kid.Pg.objgen]
            parts = []
            for item in kid.K:
                if isinstance(item, pikepdf.Dictionary):
                    parts.append((pages[item.Pg.objgen], int(item.MCID)))
                else:
                    parts.append((page, int(item)))
            for on_page, mcid in parts:
                assert mcid in drawn.get(on_page, set()), "a structure element points nowhere"
                assert parents[pdf.pages[on_page].obj.StructParents][mcid].objgen \
                    == kid.objgen, "the parent tree does not lead back to the element"
            elements.append({"role": str(kid.S)[1:], "alt": str(kid.get("/Alt", "")) or None,
                             "lang": str(kid.get("/Lang", "")) or None, "parts": parts})
        return catalog, elements


def test_every_pdf_is_tagged_with_its_language_and_the_qr_code_described(
    client: Any, register_person: Any, lab: Any, session: Any, now: datetime,
    tmp_path: Path
) -> None:
    documents = code_sheets(client, register_person, lab, session, now) + letters() \
        + posters()
    for document in documents:
        catalog, elements = structure(document.content)
        lang = _LANG[document.locale]
        assert catalog["lang"] == lang, f"{document.name}: /Lang is {catalog['lang']!r}"
        assert catalog["marked"] and catalog["display_title"], document.name
        assert catalog["title"], f"{document.name}: no title"
        assert catalog["has_tree"], f"{document.name}: no structure tree"
        roles = [element["role"] for element in elements]
        assert roles.count("H1") >= 1 and "P" in roles, f"{document.name}: {roles}"
        figures = [element for element in elements if element["role"] == "Figure"]
        if document.name in _QR_ALT:
            assert len(figures) == 1, f"{document.name}: the QR code is not one figure"
            alt = figures[0]["alt"] or ""
            assert _QR_ALT[document.name] in alt, f"{document.name}: alt text {alt!r}"
            # in the page's language
            said = {"en": "QR code", "zh_Hant": "二維碼", "zh_Hans": "二维码"}[document.locale]
            assert said in alt, f"{document.name}: alt text {alt!r}"
        # poppler reads the same tree, with the text in its elements
        pdf = tmp_path / f"{document.name}.pdf"
        pdf.write_bytes(document.content)
        shown = _run("pdfinfo", "-struct-text", str(pdf))
        assert shown.returncode == 0 and not shown.stderr, shown.stderr.decode()
        tree = _compact(shown.stdout.decode())
        assert tree.startswith("Document"), tree[:80]
        for phrase in document.expected:
            assert _compact(phrase) in tree, f"{document.name}: {phrase!r} is not tagged"
    poster = structure(posters()[0].content)[1]
    assert {element["lang"] for element in poster} >= {None, "zh-Hans", "en"}, \
        "the Simplified and English lines of the poster say their language"
