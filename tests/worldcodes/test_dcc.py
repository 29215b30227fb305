"""The EU DCC verifier against the official test cases, step by step."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

from borderpass.healthcode.views import PhotoUnreadable, decode_photo
from borderpass.worldcodes.dcc import STEPS, schema_errors, verify_dcc
from borderpass.worldcodes.result import CANNOT_VERIFY, INVALID, VALID
from borderpass.worldcodes.trust import DccTrust
from tests.worldcodes.cases import DCC, STEP_OF, DccCase, dcc_cases

CASES = dcc_cases()
B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def test_every_official_case_is_here() -> None:
    # The shared README speaks of 69 cases; the folders hold 73 (38 common, 35 national).
    assert len(CASES) == 73


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_expected_result_is_the_outcome_of_its_step(case: DccCase) -> None:
    result = verify_dcc(case.text, case.trust, now=case.clock)
    assert list(result.steps) == list(STEPS)
    order = list(STEPS)
    for key, expected in case.expected.items():
        if key == "EXPECTEDPICTUREDECODE":
            if "2DCODE" not in case.raw:  # the case has no picture to read
                continue
            try:
                read = decode_photo(base64.b64decode(case.raw["2DCODE"]))
            except PhotoUnreadable:
                read = None
            assert (read == case.text) is expected, key
            continue
        step = STEP_OF.get(key)
        if step is None:  # a key the data uses that names no step (or misspells one)
            continue
        outcome = result.steps[step]
        if expected:
            assert outcome is True, (key, result)
            if key in ("EXPECTEDDECODE", "EXPECTEDVALIDJSON") and "JSON" in case.raw:
                assert result.content == case.raw["JSON"], key
        else:
            # Failed at that step, or at an earlier one that kept it from being reached.
            earlier = order[:order.index(step)]
            assert outcome is False or (outcome is None and any(
                result.steps[name] is False for name in earlier)), (key, result)
    # The text itself (a broken picture, as in Q1, is the picture's fault).
    if all(case.expected.get(key, True) for key in STEP_OF):
        assert result.result == VALID, result
    else:
        assert result.result == INVALID, result


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_schema_check_agrees_with_the_reference_validator(case: DccCase) -> None:
    schema = json.loads((DCC / "schema" / "DCC.combined-schema.json").read_text())
    reference = jsonschema.Draft202012Validator(schema)
    result = verify_dcc(case.text, case.trust, now=case.clock)
    if result.content is None:
        pytest.skip("no payload to check")
    ours = not schema_errors(result.content)
    assert ours == reference.is_valid(result.content)
    # And on changed payloads: a member gone, a value of another type.
    for key in list(result.content):
        changed = {k: v for k, v in result.content.items() if k != key}
        assert (not schema_errors(changed)) == reference.is_valid(changed), key
        changed = {**result.content, key: 7}
        assert (not schema_errors(changed)) == reference.is_valid(changed), key


def test_the_package_schema_is_the_official_one() -> None:
    from borderpass.worldcodes import dcc

    assert dcc._SCHEMA.read_bytes() == (DCC / "schema" / "DCC.combined-schema.json").read_bytes()


def _case(name: str) -> DccCase:
    return next(case for case in CASES if case.name.endswith(name))


@pytest.mark.parametrize("name", ["common/2DCode/raw/CO3.json", "common/2DCode/raw/CO1.json",
                                  "DE/2DCode/raw/1.json", "SE/2DCode/raw/2.json"])
def test_a_one_character_change_anywhere_is_invalid(name: str) -> None:
    case = _case(name)
    assert verify_dcc(case.text, case.trust, now=case.clock).valid
    for index, character in enumerate(case.text):
        other = B45[(B45.index(character) + 1) % len(B45)] if character in B45 else "H"
        changed = case.text[:index] + other + case.text[index + 1:]
        result = verify_dcc(changed, case.trust, now=case.clock)
        assert result.result == INVALID, (index, result)


def test_an_unknown_document_signer_cannot_be_verified() -> None:
    case = _case("common/2DCode/raw/CO3.json")
    result = verify_dcc(case.text, DccTrust(), now=case.clock)
    assert (result.result, result.reason, result.steps["signature"]) == (
        CANNOT_VERIFY, "unknown_kid", None)
    assert result.steps["schema"] is True and result.summary is not None
    other = _case("common/2DCode/raw/CO1.json")
    assert verify_dcc(case.text, other.trust, now=case.clock).result == CANNOT_VERIFY


def test_the_summary_says_what_the_certificate_says() -> None:
    case = _case("AT/2DCode/raw/1.json")
    result = verify_dcc(case.text, case.trust, now=case.clock)
    assert result.valid and result.issuer == "AT"
    summary = result.summary
    assert summary is not None and summary.birth_date == case.raw["JSON"]["dob"]
    names = case.raw["JSON"]["nam"]
    assert result.subject == f"{names['gn']} {names['fn']}"
    (entry,) = summary.entries
    vaccination = case.raw["JSON"]["v"][0]
    assert (entry.kind, entry.date, entry.disease, entry.product, entry.dose) == (
        "vaccination", vaccination["dt"], "COVID-19", "Comirnaty",
        f"{vaccination['dn']}/{vaccination['sd']}")
    assert summary.issued_at is not None and summary.expires_at is not None
    test = verify_dcc(_case("AT/2DCode/raw/3.json").text, case.trust, now=case.clock)
    assert test.summary is not None and test.summary.entries[0].kind == "test"
    assert test.summary.entries[0].result == "Not detected"


def test_validity_is_judged_at_the_instant_given() -> None:
    case = _case("AT/2DCode/raw/1.json")
    assert verify_dcc(case.text, case.trust, now=case.clock).valid
    later = verify_dcc(case.text, case.trust, now=datetime(2026, 11, 30, tzinfo=UTC))
    assert (later.result, later.reason, later.steps["expiry"]) == (INVALID, "expired", False)
    assert later.steps["signature"] is True
    early = verify_dcc(case.text, case.trust, now=case.clock - timedelta(days=30))
    assert (early.result, early.reason) == (INVALID, "not_yet_valid")


def test_text_that_is_no_dcc_gets_a_reason_not_an_exception() -> None:
    trust = _case("AT/2DCode/raw/1.json").trust
    now = datetime(2021, 5, 6, tzinfo=UTC)
    for text, step, reason in [
        ("", "prefix", "bad_prefix"), ("HC1:", "zlib", "bad_compression"),
        ("HC1:a", "base45", "bad_base45"), ("HC1:" + "A" * 9000, "prefix", "too_long"),
        ("HC1:\u00e9", "base45", "bad_base45"),
    ]:
        result = verify_dcc(text, trust, now=now)
        assert (result.result, result.reason, result.steps[step]) == (INVALID, reason, False)
