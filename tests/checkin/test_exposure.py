"""The exposure list: the documented format byte for byte, and matching on the phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from borderpass.checkin.exposure import (
    InvalidExposureList,
    Visit,
    entries_for_case,
    match,
    parse_list,
    render_list,
)
from borderpass.checkin.qr import encode_signed
from borderpass.kit.signing import DetachedSigner, derived_secret

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats"
SIGNER = DetachedSigner(bytes(range(32)))
TRUST = {SIGNER.key_id: SIGNER.public}
SECRET = bytes.fromhex("00112233445566778899aabbccddeeff")


def _example(name: str) -> str:
    text = (DOCS / name).read_text(encoding="utf-8")
    block = re.search(r"## Worked example.*?```text\n(.*?)```", text, re.S)
    assert block is not None
    return block.group(1)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, 22, hour, minute, second, tzinfo=UTC)


def test_documented_list_byte_for_byte() -> None:
    entries = entries_for_case([SECRET], at(10, 30), at(11, 15))
    entries += entries_for_case([derived_secret("HKEN", "WHBvLDSa")], at(10, 50), at(11))
    assert render_list(entries, at(12), SIGNER) == _example("exposure-list.md")
    parsed = parse_list(_example("exposure-list.md"), TRUST)
    assert parsed.count == 3 and parsed.generated_at == at(12)


def test_documented_venue_code_byte_for_byte() -> None:
    text = encode_signed(venue_id="K7QH2MXR4T", name_zh="金龍酒家", name_zh_hans="金龙酒家",
                         name_en="Golden Dragon", type="restaurant", secret=SECRET,
                         generation=1, signer=SIGNER)
    assert text + "\n" == _example("venue-qr.md")


def test_a_list_that_was_altered_or_signed_by_another_key_is_refused() -> None:
    text = render_list(entries_for_case([SECRET], at(10), at(11)), at(12), SIGNER)
    with pytest.raises(InvalidExposureList, match="signature"):
        parse_list(text.replace(" D\n", " I\n"), TRUST)
    with pytest.raises(InvalidExposureList, match="unknown key"):
        parse_list(text, {})
    with pytest.raises(InvalidExposureList):
        parse_list("BPX1 0 0\n", TRUST)


def _published(*cases: tuple[bytes, datetime, datetime, bool]) -> object:
    entries = []
    for secret, start, end, taxi in cases:
        entries += entries_for_case([secret], start, end, taxi=taxi)
    return parse_list(render_list(entries, at(23), SIGNER), TRUST)


def test_sixty_seconds_of_overlap_make_a_direct_warning() -> None:
    published = _published((SECRET, at(10, 30), at(11, 15), False))
    now = at(23)
    visits = [
        Visit(1, SECRET, at(11, 14), at(12)),  # exactly 60 s
        Visit(2, SECRET, at(11, 14, 1), at(12)),  # 59 s
        Visit(3, SECRET, at(9), at(10, 30)),  # touches only
        Visit(4, bytes(16), at(10, 30), at(11)),  # another venue
        Visit(5, SECRET, at(10, 59, 30), at(11, 0, 30)),  # 60 s across the hour boundary
    ]
    found = {m.ref: m for m in match(visits, published, now=now)}  # type: ignore[arg-type]
    assert set(found) == {1, 5}
    assert found[1].kind == "direct"
    assert found[1].overlap_start == at(11, 14) and found[1].overlap_end == at(11, 15)


def test_visits_older_than_fourteen_days_are_not_matched() -> None:
    published = _published((SECRET, at(10), at(11), False))
    visit = Visit(1, SECRET, at(10), at(11))
    assert match([visit], published, now=at(11) + timedelta(days=14))  # type: ignore[arg-type]
    assert not match([visit], published,  # type: ignore[arg-type]
                     now=at(11) + timedelta(days=14, seconds=1))


def test_a_taxi_ride_within_a_day_after_a_case_is_indirect() -> None:
    taxi = derived_secret("TAXI", "AB1234")
    published = _published((taxi, at(8), at(8, 30), True))
    rides = [
        Visit(1, taxi, at(8, 10), at(8, 40)),  # during: direct
        Visit(2, taxi, at(20), at(20, 20)),  # same day after: indirect
        Visit(3, taxi, at(8, 20) + timedelta(days=1), at(8, 40) + timedelta(days=1)),
        Visit(4, taxi, at(9) + timedelta(days=1), at(9, 20) + timedelta(days=1)),  # too late
    ]
    found = {m.ref: m.kind for m in match(rides, published,  # type: ignore[arg-type]
                                          now=at(12) + timedelta(days=1))}
    assert found == {1: "direct", 2: "indirect", 3: "indirect"}
