"""The SMART Health Cards verifier against the official examples and issuer folder."""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from borderpass.worldcodes.result import CANNOT_VERIFY, INVALID, VALID
from borderpass.worldcodes.shc import STEPS, assemble, verify_shc
from borderpass.worldcodes.trust import ShcIssuers
from tests.worldcodes.cases import SHC, SHC_ISSUER, SHC_ISSUERS, shc_payload, shc_text

ISSUERS = ShcIssuers.load(SHC_ISSUERS)
CRL = Path(".well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json")


def _after(example: str) -> datetime:
    return datetime.fromtimestamp(shc_payload(example)["nbf"], UTC) + timedelta(days=1)


@pytest.mark.parametrize("example", ["00", "01"])
def test_both_examples_verify_with_the_issuers_keys(example: str) -> None:
    result = verify_shc([shc_text(example)], ISSUERS, now=_after(example))
    assert (result.result, result.reason) == (VALID, None), result
    assert list(result.steps) == list(STEPS) and all(result.steps.values())
    assert result.issuer == SHC_ISSUER and result.subject == "John B. Anyperson"
    assert result.summary is not None and result.summary.birth_date == "1951-01-20"
    bundle = json.loads((SHC / "examples" / f"example-{example}-a-fhirBundle.json").read_text())
    immunizations = [e["resource"] for e in bundle["entry"]
                     if e["resource"]["resourceType"] == "Immunization"]
    assert [entry.date for entry in result.summary.entries] == [
        item["occurrenceDateTime"] for item in immunizations]
    assert result.summary.entries[0].product == "Moderna COVID-19 vaccine"
    assert result.content == shc_payload(example)["vc"]


@pytest.mark.parametrize("example", ["00", "01"])
def test_the_numeric_text_is_the_example_jws(example: str) -> None:
    digits = assemble([shc_text(example)])
    jws = "".join(chr(int(digits[i:i + 2]) + 45) for i in range(0, len(digits), 2))
    assert jws == (SHC / "examples" / f"example-{example}-d-jws.txt").read_text().strip()


def _chunks(example: str, count: int) -> list[str]:
    digits = assemble([shc_text(example)])
    size = -(-len(digits) // 2 // count) * 2
    return [f"shc:/{n + 1}/{count}/{digits[n * size:(n + 1) * size]}" for n in range(count)]


def test_chunks_are_assembled_in_any_order() -> None:
    chunks = _chunks("00", 3)
    random.Random(3).shuffle(chunks)  # noqa: S311 - an order, not a secret
    assert verify_shc(chunks, ISSUERS, now=_after("00")).valid
    missing = verify_shc(chunks[:2], ISSUERS, now=_after("00"))
    assert (missing.result, missing.reason) == (INVALID, "missing_chunks")
    twice = verify_shc([*chunks[:2], chunks[0]], ISSUERS, now=_after("00"))
    assert (twice.result, twice.reason) == (INVALID, "bad_chunks")


def _with_revoked(tmp_path: Path, *entries: str) -> ShcIssuers:
    folder = tmp_path / "issuers"
    shutil.copytree(SHC_ISSUERS, folder)
    path = folder / "spec.smarthealth.cards/examples/issuer" / CRL
    crl = json.loads(path.read_text())
    crl["rids"] += list(entries)
    path.write_text(json.dumps(crl))
    return ShcIssuers.load(folder)


def test_example_00s_rid_is_checked_against_the_revocation_list(tmp_path: Path) -> None:
    rid = shc_payload("00")["vc"]["rid"]
    assert rid not in json.loads((SHC_ISSUERS / "spec.smarthealth.cards/examples/issuer" / CRL)
                                 .read_text())["rids"]
    now, nbf = _after("00"), int(shc_payload("00")["nbf"])
    revoked = verify_shc([shc_text("00")], _with_revoked(tmp_path / "a", rid), now=now)
    assert (revoked.result, revoked.reason, revoked.steps["revocation"]) == (
        INVALID, "revoked", False)
    # With a timestamp: only cards issued before it are revoked.
    later = verify_shc([shc_text("00")], _with_revoked(tmp_path / "b", f"{rid}.{nbf + 1}"),
                       now=now)
    assert later.reason == "revoked"
    earlier = verify_shc([shc_text("00")], _with_revoked(tmp_path / "c", f"{rid}.{nbf - 1}"),
                         now=now)
    assert earlier.valid
    # Example 01 has no rid: nothing on the list touches it.
    assert verify_shc([shc_text("01")], _with_revoked(tmp_path / "d", rid),
                      now=_after("01")).valid


def test_a_missing_revocation_list_cannot_be_verified(tmp_path: Path) -> None:
    folder = tmp_path / "issuers"
    shutil.copytree(SHC_ISSUERS, folder)
    (folder / "spec.smarthealth.cards/examples/issuer" / CRL).unlink()
    result = verify_shc([shc_text("00")], ShcIssuers.load(folder), now=_after("00"))
    assert (result.result, result.reason, result.steps["revocation"]) == (
        CANNOT_VERIFY, "revocation_list_missing", None)


@pytest.mark.parametrize("example", ["00", "01"])
def test_a_one_character_change_anywhere_is_invalid(example: str) -> None:
    text, now = shc_text(example).strip(), _after(example)
    for index, character in enumerate(text):
        other = str((int(character) + 1) % 10) if character.isdigit() else "x"
        result = verify_shc([text[:index] + other + text[index + 1:]], ISSUERS, now=now)
        assert result.result == INVALID, (index, result.reason)


def test_an_unknown_issuer_cannot_be_verified() -> None:
    result = verify_shc([shc_text("00")], ShcIssuers(), now=_after("00"))
    assert (result.result, result.reason, result.steps["signature"]) == (
        CANNOT_VERIFY, "unknown_issuer", None)
    assert result.steps["payload"] is True and result.steps["fhir"] is True


def test_a_card_is_not_valid_before_its_nbf() -> None:
    nbf = datetime.fromtimestamp(shc_payload("01")["nbf"], UTC)
    result = verify_shc([shc_text("01")], ISSUERS, now=nbf - timedelta(seconds=1))
    assert (result.result, result.reason) == (INVALID, "not_yet_valid")


def test_text_that_is_no_card_gets_a_reason_not_an_exception() -> None:
    now = _after("00")
    for texts, reason in [
        (["shc:/"], "bad_numeric"), (["shc:/123"], "bad_numeric"), (["shc:/99"], "bad_numeric"),
        (["shc:/5676"], "bad_jws"), (["HC1:x"], "bad_prefix"), ([], "bad_chunks"),
        (["shc:/1/2/56"], "missing_chunks"), (["shc:/0/1/56"], "bad_chunks"),
    ]:
        result = verify_shc(texts, ISSUERS, now=now)
        assert (result.result, result.reason) == (INVALID, reason), texts
