"""Draw the site's PDFs: the printable health code, the decision letter and the venue
poster, each with its font embedded and its structure tagged.

Prints one line: the first document of a process (which reads the font collection's
character map and converts its first glyphs), then the median time of each kind once
its glyphs are converted, and the size of each document.
Run: ``python -m bench.pdf [RUNS]``.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

RUNS = 9


def _documents() -> dict[str, Callable[[], bytes]]:
    from borderpass.checkin.poster import render_poster
    from borderpass.healthcode.printing import code_sheet
    from borderpass.healthcode.qr import qr_image
    from borderpass.permits import policy as policies
    from borderpass.permits.letter import LetterData, render_letter
    from borderpass.permits.schemas import EndorsementView

    qr = qr_image("HC1:" + "6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N" * 6, "png", scale=8)
    policy = policies.current()
    decided = date(2026, 11, 30)
    conditions = policy.conditions_on(decided)
    letter = LetterData(
        locale="zh_Hant", reference="E2026-000123", name="李小明",
        applicant_masked="440300********1234", permit_masked="C1234****",
        kind=policy.types["emergency"].name.get("zh_Hant"),
        reason=policy.reasons["visit_critically_ill"].name.get("zh_Hant"), destination="HK",
        outcome="approved", decided_on=decided, office="深圳市出入境接待大厅",
        office_address="深圳市福田区福民路", reasons=(), note=None,
        endorsement=EndorsementView(
            number="E20261130001", kind="emergency", destination="HK", entries=1,
            valid_from=decided, valid_until=date(2026, 12, 29), stay_days=7,
            issued_at=datetime(2026, 11, 30, 3, tzinfo=UTC), issued_by=uuid.uuid4()),
        trip_conditions=tuple(t.get("zh_Hant") for t in conditions.trip),
        return_conditions=tuple(t.get("zh_Hant") for t in conditions.return_))
    return {
        "code": lambda: code_sheet(
            locale="zh_Hant", qr_png=qr, qr_alt="健康碼的二維碼：紅碼，有效至 2026年11月30日",
            colour="red", title="港康碼", colour_text="紅碼", holder="CTM · A1*****(3)",
            valid_text="有效至 2026年11月30日 下午11:59:59",
            printed_text="列印於 2026年11月30日 上午10:00:00。請每天列印新的健康碼。",
            notes=["過去48小時內沒有採樣的陰性檢測結果。",
                   "請到社區檢測中心或認可化驗所接受檢測。收到陰性結果後，你的健康碼便會轉為綠碼。"]),
        "letter": lambda: render_letter(letter),
        "poster": lambda: render_poster(
            qr_text="HKVC:1:V0001:abcdefghijklmnop", name_zh="海港城 — 海運大廈",
            name_zh_hans="海港城 — 海运大厦", name_en="Harbour City — Ocean Terminal",
            venue_code="V0001", address="香港九龍尖沙咀廣東道3-27號", generation=2),
    }


def main(runs: int = RUNS) -> None:
    documents = _documents()
    started = time.perf_counter()
    documents["code"]()
    first_ms = (time.perf_counter() - started) * 1000
    parts = []
    for name, draw in documents.items():
        draw()  # its glyphs converted
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            content = draw()
            timings.append((time.perf_counter() - started) * 1000)
        parts.append(f"{name} {statistics.median(timings):.0f} ms, {len(content) / 1024:.0f} KiB")
    print(f"pdf: first document of a process {first_ms:.0f} ms; then (median of {runs}) "
          + "; ".join(parts))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS)
