"""The EU DCC verifier against the official test cases, step by step."""

from __future__ import annotations

import base64
import copy
import json
import random
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import cbor2
import jsonschema
import pytest

from borderpass.healthcode.views import PhotoUnreadable, decode_photo
from borderpass.kit.signing.foreign import SigningError, b45decode, read_foreign_sign1
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


def _variants(content: dict[str, Any]) -> Iterator[Any]:
    """The payload with one member, anywhere, gone, added or of another value."""
    odd = [7, 0, -1, 1.0, 2.5, 10**30, True, None, "", "x" * 80, "x" * 81, "\u00c5GE",
           "AB\n", "1.3.0\n", "1.4.0", "1.3.٣", "2021-06-01", "DE", "de", "D1", "DI<CAPRIO",
           "\U0001f600" * 80, "\U0001f600" * 81, "A\x00", "ABCDEFGHIJK", "1.3.", "1.3.0.1",
           "2021", "2021-06", "1899-01-01", "2021-6-01", "20211-06-01", "2021-06-01\x00",
           [], {}, [{}], {"fnt": "A"}, 2.0, Decimal(2), b"AT",
           datetime(2021, 6, 1, tzinfo=UTC), cbor2.CBORTag(99, "AT"), {1: "A"}, ["A"]]
    places: list[tuple[dict[str, Any], ...]] = [(content,)]
    if isinstance(content.get("nam"), dict):
        places.append((content, content["nam"]))
    for kind in ("v", "t", "r"):
        entries = content.get(kind)
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            places.append((content, entries[0]))
            yield {**content, kind: []}
            yield {**content, kind: entries * 2}
            yield {**content, kind: entries[0]}
            yield {**content, **{other: entries for other in ("v", "t", "r")}}
    for place in places:
        target = place[-1]
        for key in [*target, "zz", "dr", "nm", "tc", "fnt", "gnt", "t", "r"]:
            for value in [None, *odd]:  # None: the member gone
                changed = copy.deepcopy(content)
                inner = changed if len(place) == 1 else _find(changed, target, content)
                if value is None:
                    inner.pop(key, None)
                else:
                    inner[key] = value
                yield changed


def _find(changed: dict[str, Any], target: dict[str, Any], content: dict[str, Any]) -> Any:
    if content.get("nam") is target:
        return changed["nam"]
    return next(changed[kind][0] for kind in ("v", "t", "r")
                if isinstance(content.get(kind), list) and content[kind]
                and content[kind][0] is target)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_quick_schema_check_gives_the_validators_verdict(case: DccCase) -> None:
    from borderpass.worldcodes import dcc

    result = verify_dcc(case.text, case.trust, now=case.clock)
    if not isinstance(result.content, dict):
        pytest.skip("no payload to check")
    validator = dcc._validator()
    if result.valid:  # every valid official case is in the plain form: the quick way
        assert dcc._plain_kind(result.content) is not None
    for changed in [result.content, *_variants(dict(result.content))]:
        version = changed.get("ver")
        try:
            valid = validator.is_valid(changed)
        except ValueError:  # a value JSON cannot hold
            valid = False
        expected = (valid and isinstance(version, str)
                    and dcc._VERSION.fullmatch(version) is not None)
        # The quick check passes only what the validator passes, and the step's verdict
        # is the validator's whichever way it was reached.
        kind = dcc._plain_kind(changed)
        assert kind is None or expected, changed
        if kind is not None:  # the plain form is JSON, of the kind it holds
            assert json.loads(json.dumps(changed, allow_nan=False)) == changed, changed
            assert [key for key in ("v", "t", "r") if key in changed] == [kind], changed
        assert (not schema_errors(changed)) == expected, changed


def _read(message: bytes) -> Any:
    try:
        return read_foreign_sign1(message)._asdict()
    except SigningError as error:
        return ("refused", error.reason)


def test_the_quick_cose_reading_reads_as_the_cbor_decoder_does(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from borderpass.kit.signing import _foreign

    messages = []
    for case in CASES:
        try:
            messages.append(zlib.decompress(b45decode(case.text.removeprefix("HC1:"))))
        except (SigningError, zlib.error):
            continue
    rng = random.Random(7)  # noqa: S311 - repeatable changes, not a secret
    changed = []
    for message in messages:
        changed.append(message)
        for _ in range(60):
            at = rng.randrange(len(message))
            changed.append(message[:at])  # cut short
            changed.append(message[:at] + bytes([rng.randrange(256)]) + message[at + 1:])
            changed.append(message[:at] + bytes([rng.randrange(256)]) + message[at:])
        changed.append(message + b"\x00")
        changed.append(b"\xd8\x3d" + message)
    # Other forms of heads, tags and unprotected headers, read by the decoder either way.
    item = cbor2.loads(messages[0])
    sign1 = item.value if isinstance(item, cbor2.CBORTag) else item
    protected, _, payload, signature = sign1
    for unprotected in ({}, {4: b"12345678"}, {4: b""}, {1: -7}, {4: 5}, {4: b"1", 1: -7}):
        for form in ([protected, unprotected, payload, signature],
                     cbor2.CBORTag(18, [protected, unprotected, payload, signature]),
                     cbor2.CBORTag(61, cbor2.CBORTag(18, [protected, unprotected, payload,
                                                          signature])),
                     cbor2.CBORTag(61, [protected, unprotected, payload, signature]),
                     [b"", unprotected, payload, signature], [b"\xa0", unprotected, b"", b""],
                     [b"\x01", unprotected, payload, signature]):
            changed.append(cbor2.dumps(form))
    long_head = b"\xd2\x84\x58\x0d" + cbor2.dumps(protected)[1:] + b"\xa0"
    changed.append(long_head + cbor2.dumps(payload) + cbor2.dumps(signature))
    quick = [_read(message) for message in changed]
    monkeypatch.setattr(_foreign, "_plain_sign1", lambda message: None)
    assert [_read(message) for message in changed] == quick
    assert sum(1 for read in quick if isinstance(read, dict)) > len(messages)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_valid_code_gets_the_result_of_noting_each_step(case: DccCase) -> None:
    from borderpass.worldcodes import dcc

    result = verify_dcc(case.text, case.trust, now=case.clock)
    if not result.valid:
        pytest.skip("only a valid code takes the quick way")
    message = read_foreign_sign1(zlib.decompress(b45decode(case.text.removeprefix("HC1:"))))
    noted = dcc._judged(message, *dcc._signature(message, case.trust), case.clock,
                        claims=dcc._claims(message.payload))
    assert noted == result
    assert noted.summary == result.summary
    assert noted.steps == dict.fromkeys(STEPS, True)
