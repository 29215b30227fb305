"""Venue QR codes: the legacy format, our signed one, taxi plates (`venue parse`: test_cli.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from borderpass.checkin import service
from borderpass.checkin.qr import (
    InvalidPlate,
    InvalidVenueCode,
    normalise_plate,
    parse_venue_code,
)
from tests.checkin.conftest import LEGACY_CODE


def _with_hash_char_changed(code: str) -> str:
    head, encoded = code[:14], code[14:]
    payload = json.loads(base64.b64decode(encoded))
    digest = payload["hash"]
    payload["hash"] = digest[:10] + ("0" if digest[10] != "0" else "1") + digest[11:]
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return head + base64.b64encode(text.encode()).decode()


def test_the_legacy_example_parses() -> None:
    venue = parse_venue_code(LEGACY_CODE, {})
    assert venue.format == "legacy"
    assert venue.venue_id == "WHBvLDSa"
    assert venue.name_en == "CityWalk"
    assert venue.name_zh == "荃新天地"
    assert venue.type == "IMPORT"
    assert venue.type_en == "Stores/Shopping Malls"


def test_one_hash_character_changed_is_rejected() -> None:
    changed = _with_hash_char_changed(LEGACY_CODE)
    assert changed != LEGACY_CODE
    with pytest.raises(InvalidVenueCode, match="hash"):
        parse_venue_code(changed, {})


@pytest.mark.parametrize("text", [
    "", "hello", "HKEN:", "HKEN:0WHBvLDSa!!!!", "HKEN:0WHB-LDSa" + LEGACY_CODE[14:],
    "HKEN:0WHBvLDSa" + base64.b64encode(b"[1,2]").decode(), "BPV1:abc", "BPV1:e30.AAAA",
    "x" * 5000,
])
def test_garbage_is_rejected_with_a_reason(text: str) -> None:
    with pytest.raises(InvalidVenueCode) as caught:
        parse_venue_code(text, service.venue_trust())
    assert caught.value.field == "qr"
    assert "not a valid venue QR code" in caught.value.render("en")


def test_signed_code_round_trip_and_tampering(make_venue: Any) -> None:
    venue, text = make_venue()
    parsed = service.parse_code(text)
    assert (parsed.format, parsed.venue_id, parsed.name_en, parsed.name_zh, parsed.type) == (
        "signed", venue.code, "Golden Dragon Restaurant", "金龍酒家", "restaurant")
    assert parsed.name_zh_hans == "金龙酒家"
    assert len(parsed.secret) == 16 and parsed.generation == 1
    signed, _dot, signature = text.rpartition(".")
    body = json.loads(base64.urlsafe_b64decode(signed[5:] + "=="))
    body["nz"] = "假酒家"
    forged = "BPV1:" + base64.urlsafe_b64encode(
        json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ).rstrip(b"=").decode() + "." + signature
    with pytest.raises(InvalidVenueCode, match="signature"):
        service.parse_code(forged)
    with pytest.raises(InvalidVenueCode, match="does not trust"):
        parse_venue_code(text, {})


def test_plates() -> None:
    assert normalise_plate(" ab 1234 ") == "AB1234"
    assert normalise_plate("HK1") == "HK1"
    for bad in ("A1234", "AB12345", "AB0123", "IO123", "AB", "1234AB", "AB-123", ""):
        with pytest.raises(InvalidPlate):
            normalise_plate(bad)
