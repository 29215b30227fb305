"""``borderpass verify`` reads an EU DCC and a SMART Health Card, from text or a photo."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.conftest import Command
from tests.worldcodes.cases import SHC_ISSUERS, dcc_cases, shc_text


def _case(name: str):  # type: ignore[no-untyped-def]
    return next(case for case in dcc_cases() if case.name == name)


def test_a_dcc_verifies_with_its_certificate(tmp_path: Path) -> None:
    case = _case("DE/2DCode/raw/1.json")
    pem = tmp_path / "dsc.pem"
    der = base64.b64decode(case.raw["TESTCTX"]["CERTIFICATE"])
    pem.write_text("-----BEGIN CERTIFICATE-----\n"
                   + base64.encodebytes(der).decode() + "-----END CERTIFICATE-----\n")
    cli = Command()
    at = case.raw["TESTCTX"]["VALIDATIONCLOCK"]
    checked = cli("verify", case.text, "--certificate", str(pem), "--at", at, "--json")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    shown = json.loads(checked.stdout)
    assert shown["format"] == "dcc" and shown["result"] == "valid" and shown["reason"] is None
    assert set(shown["steps"]) >= {"prefix", "base45", "zlib", "cose", "cbor", "schema",
                                   "signature", "expiry", "key_usage"}
    assert all(shown["steps"].values()) and shown["issuer"] == "DE" and shown["subject"]
    unknown = cli("verify", case.text, "--at", at, "--json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["result"] == "cannot_verify"
    photo = tmp_path / "qr.png"
    photo.write_bytes(base64.b64decode(case.raw["2DCODE"]))
    folder = tmp_path / "signers"
    folder.mkdir()
    (folder / "dsc.der").write_bytes(der)
    scanned = cli("verify", "--image", str(photo), "--trust-dir", str(folder), "--at", at)
    assert scanned.exit_code == 0, scanned.stdout + scanned.stderr
    assert scanned.stdout.startswith("valid: ok; format dcc")


def test_a_smart_health_card_verifies_in_chunks_and_whole() -> None:
    cli = Command()
    text = shc_text("01").strip()
    whole = cli("verify", text, "--issuers", str(SHC_ISSUERS), "--json")
    assert whole.exit_code == 0, whole.stdout + whole.stderr
    assert json.loads(whole.stdout)["subject"] == "John B. Anyperson"
    digits = text.removeprefix("shc:/")
    half = len(digits) // 4 * 2
    chunks = [f"shc:/2/2/{digits[half:]}", f"shc:/1/2/{digits[:half]}"]
    assert cli("verify", *chunks, "--issuers", str(SHC_ISSUERS)).exit_code == 0
    assert cli("verify", chunks[0], "--issuers", str(SHC_ISSUERS)).exit_code == 1


def test_our_codes_still_need_the_trust_list_and_nonsense_is_refused() -> None:
    cli = Command()
    missing = cli("verify", "BPHC1:ABC")
    assert missing.exit_code == 2 and "--trust-list" in missing.stderr
    nonsense = cli("verify", "hello", "--json")
    assert nonsense.exit_code == 1
    assert json.loads(nonsense.stdout)["reason"] == "unknown_format"
    assert cli("verify").exit_code == 2
