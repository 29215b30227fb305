"""Venue codes, exposure lists and uploads: every malformed input is refused with the
decoder's own error, and each signed object is accepted in one spelling only."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from borderpass.checkin.exposure import (
    InvalidExposureList,
    entries_for_case,
    parse_list,
    render_list,
)
from borderpass.checkin.qr import InvalidVenueCode, encode_signed, legacy_hash, parse_venue_code
from borderpass.kit.signing import DetachedSigner
from tests.checkin.conftest import LEGACY_CODE
from tests.checkin.test_service import D, _resident_token
from tests.conftest import Command

SIGNER = DetachedSigner(bytes(range(32)))
TRUST = {SIGNER.key_id: SIGNER.public}
SECRET = bytes.fromhex("00112233445566778899aabbccddeeff")
WHEN = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _spare_bits_set(text: str) -> str:
    """The same bytes with the spare bits of the last base64url character not zero."""
    spare = {2: 4, 3: 2}[len(text) % 4]
    value = URLSAFE.index(text[-1])
    assert value % (1 << spare) == 0
    return text[:-1] + URLSAFE[value + 1]


def _legacy(payload: str) -> str:
    return "HKEN:0WHBvLDSa" + base64.b64encode(payload.encode("utf-8", "surrogatepass")).decode()


def _signed(payload: dict[str, Any] | str) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    signed = "BPV1:" + _b64url(text.encode())
    return f"{signed}.{_b64url(SIGNER.sign(signed.encode()))}"


def _venue_code() -> str:
    return encode_signed(venue_id="K7QH2MXR4T", name_zh="金龍酒家", name_zh_hans="金龙酒家",
                         name_en="Golden Dragon", type="restaurant", secret=SECRET,
                         generation=1, signer=SIGNER)


# -- venue codes ----------------------------------------------------------------------


# 1,400 levels: deeper than Python's recursion limit, within a code's 4,096 characters.
@pytest.mark.parametrize("payload", [
    "[" * 1400 + "]" * 1400,
    '{"nameZh": "x", "nameEn": "x", "type": "x", "metadata": ' + "[" * 1380 + "]" * 1380 + "}",
])
def test_venue_parse_refuses_deeply_nested_json_without_a_traceback(
    cli: Command, payload: str
) -> None:
    result = cli("venue", "parse", _legacy(payload), "--json")
    assert result.exit_code == 1
    assert "invalid_venue_code" in result.stderr and "nest deeper" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("digest", ["é" * 64, "٣" * 64, legacy_hash("WHBvLDSa")[:-1] + "²"])
def test_venue_parse_refuses_a_non_ascii_hash_without_a_traceback(
    cli: Command, digest: str
) -> None:
    payload = {"metadata": None, "nameZh": "荃新天地", "nameEn": "CityWalk", "type": "IMPORT",
               "hash": digest}
    result = cli("venue", "parse", _legacy(json.dumps(payload, ensure_ascii=False)), "--json")
    assert result.exit_code == 1
    assert "invalid_venue_code" in result.stderr and "hash does not match" in result.stderr
    assert "Traceback" not in result.output


def test_a_signed_code_has_one_spelling() -> None:
    code = _venue_code()
    assert parse_venue_code(code, TRUST).venue_id == "K7QH2MXR4T"
    # A scanner's line end is not part of the code; nothing else around it is accepted.
    assert parse_venue_code(code + "\n", TRUST) == parse_venue_code(code + "\r\n", TRUST)
    signed, _dot, signature = code.rpartition(".")
    for other in (f"{signed}.{_spare_bits_set(signature)}", f"{code}==", f" {code}",
                  f"{code} ", f"{code}\n\n", f"{code}\t", f"{signed}.{signature}A"):
        with pytest.raises(InvalidVenueCode):
            parse_venue_code(other, TRUST)


@pytest.mark.parametrize("generation", [1e400, "1", True, 1.0, 0, -1, [1]])
def test_a_signed_code_with_a_malformed_generation_is_refused(generation: Any) -> None:
    payload = json.loads(base64.urlsafe_b64decode(_venue_code()[5:].partition(".")[0] + "=="))
    payload["g"] = generation
    text = json.dumps(payload, separators=(",", ":")).replace("Infinity", "1e400")
    with pytest.raises(InvalidVenueCode):
        parse_venue_code(_signed(text), TRUST)


@pytest.mark.parametrize(("name", "value"), [
    ("id", 1234567890), ("ne", ["Golden Dragon"]), ("s", _b64url(SECRET) + "=="),
    ("s", _spare_bits_set(_b64url(SECRET))), ("s", _b64url(SECRET[:15])),
])
def test_a_signed_code_with_a_malformed_field_is_refused(name: str, value: Any) -> None:
    payload = json.loads(base64.urlsafe_b64decode(_venue_code()[5:].partition(".")[0] + "=="))
    payload[name] = value
    with pytest.raises(InvalidVenueCode):
        parse_venue_code(_signed(payload), TRUST)


def test_the_legacy_code_still_parses_with_a_line_end() -> None:
    assert parse_venue_code(LEGACY_CODE + "\n", {}).venue_id == "WHBvLDSa"


# -- exposure lists ---------------------------------------------------------------------


def _list() -> str:
    entries = entries_for_case([SECRET], WHEN - timedelta(hours=2), WHEN - timedelta(hours=1))
    return render_list(entries, WHEN, SIGNER)


def _sign_body(body: str) -> str:
    signature = SIGNER.sign(body.encode("utf-8", "surrogatepass"))
    return f"{body}SIG {SIGNER.key_id} {_b64url(signature)}\n"


@pytest.mark.parametrize(("old", "new"), [
    (" D\n", " D extra\n"),  # too many fields
    (" D\n", "\n"),  # too few
    (" 17", " 0x17"),  # int() would refuse
    (" 17", " +17"), (" 17", " 1_7"), (" 17", " ١٧"),  # int() would accept
    ("BPX1 1795", "BPX1 999999999999999995"),
    ("BPX1 1795", "BPX1 ²795"),
])
def test_a_signed_list_that_is_malformed_after_its_signature_check_is_refused(
    old: str, new: str
) -> None:
    body = _list().rpartition("SIG ")[0]
    assert old in body
    with pytest.raises(InvalidExposureList):
        parse_list(_sign_body(body.replace(old, new, 1)), TRUST)


def test_an_entry_ending_before_it_starts_is_refused() -> None:
    body = _list().rpartition("SIG ")[0]
    head, *lines = body.rstrip("\n").split("\n")
    token, start, end, kind = lines[0].split(" ")
    lines[0] = f"{token} {end} {start} {kind}"
    with pytest.raises(InvalidExposureList, match="period"):
        parse_list(_sign_body("\n".join([head, *lines]) + "\n"), TRUST)


def test_a_list_has_one_spelling() -> None:
    text = _list()
    assert parse_list(text, TRUST).count == 1
    head, _sep, signature = text.rstrip("\n").rpartition(" ")
    for other in (text + "\n", text.rstrip("\n"), f"{head} {_spare_bits_set(signature)}\n",
                  f"{head} {signature}==\n", text.replace("\n", "\r\n"),
                  text.replace(" D\n", " D\u00a0\n", 1)):
        with pytest.raises(InvalidExposureList):
            parse_list(other, TRUST)


# -- uploads ----------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["padded", "spare_bits", "key_padded"])
def test_an_upload_has_one_spelling(
    client: Any, session: Any, register_person: Any, make_phone: Any, now: Any, spelling: str
) -> None:
    _person, token = _resident_token(session, register_person, now)
    phone = make_phone(since=now - 20 * D)
    phone.check_in(LEGACY_CODE, now=now - 2 * D)
    bundle = phone.upload_bundle(now=now)
    if spelling == "padded":
        bundle["signature"] += "=="
    elif spelling == "spare_bits":
        bundle["signature"] = _spare_bits_set(bundle["signature"])
    else:
        bundle["device_key"] += "="
    answer = client.post("/api/checkin/uploads", headers={"Authorization": f"Bearer {token}"},
                         json={"consent": True, "bundle": bundle})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_upload"
    assert error["field"] == ("bundle.device_key" if spelling == "key_padded"
                              else "bundle.signature")


@pytest.mark.parametrize("content", ["BPX1 1 0\nSIG é\n".encode(), b"\xff\xfe",
                                     b"BPX1 1 0\r\nSIG 00000000 x\r\n"])
def test_phone_match_refuses_a_malformed_list_file_without_a_traceback(
    cli: Command, tmp_path: Any, content: bytes
) -> None:
    listed = tmp_path / "list.txt"
    listed.write_bytes(content)
    result = cli("phone", "--store", str(tmp_path / "phone.sqlite3"), "match", "--list",
                 str(listed))
    assert result.exit_code == 1
    assert "invalid_exposure_list" in result.stderr
    assert "Traceback" not in result.output
