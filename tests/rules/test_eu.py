"""EU certificates judged by the packaged CertLogic rule set, with the project's evaluator."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from borderpass.rules.certlogic import evaluate
from borderpass.rules.eu import InvalidEuRuleSet, default_eu_rule_set, judge_dcc, parse_eu_rule_set
from borderpass.worldcodes.dcc import verify_dcc
from borderpass.worldcodes.facts import certlogic_data
from borderpass.worldcodes.trust import DccTrust
from tests.worldcodes.cases import DccCase, dcc_cases

RULES = default_eu_rule_set()
CASES = {case.name: case for case in dcc_cases()}


def _judge(case: DccCase, *, later: timedelta = timedelta(0)):  # type: ignore[no-untyped-def]
    result = verify_dcc(case.text, case.trust, now=case.clock)
    assert result.valid
    return judge_dcc(result, RULES, now=case.clock + later, country="HK")


def _failing(case: str, **later: float) -> list[str]:
    judgement = _judge(CASES[case], later=timedelta(**later))
    return [rule.identifier for rule in judgement.failing]


def test_vaccinations() -> None:
    assert _failing("AT/2DCode/raw/1.json") == ["VR-HK-0001"]  # dose 1 of 2
    assert _failing("DE/2DCode/raw/1.json") == ["VR-HK-0002"]  # 2 of 2, three days before
    assert _failing("DE/2DCode/raw/1.json", days=12) == []
    assert _failing("BE/2DCode/raw/1.json") == []
    judgement = _judge(CASES["BE/2DCode/raw/1.json"])
    assert judgement.accepted and judgement.certificate_type == "Vaccination"
    assert [rule.identifier for rule in judgement.checked] == [
        "VR-HK-0001", "VR-HK-0002", "VR-HK-0003"]


def test_tests_and_recoveries() -> None:
    assert _failing("SE/2DCode/raw/2.json") == []  # a NAAT sampled 27 hours before
    assert _failing("SE/2DCode/raw/2.json", hours=22) == ["TR-HK-0002"]
    assert _failing("SE/2DCode/raw/4.json") == ["TR-HK-0003"]  # a RAT 29 hours before
    assert _failing("SE/2DCode/raw/4.json", hours=-6) == []
    assert _failing("DE/2DCode/raw/3.json") == []
    assert _failing("DE/2DCode/raw/3.json", days=13) == []  # du is the last day
    assert _failing("DE/2DCode/raw/3.json", days=15) == ["RR-HK-0001"]
    assert _failing("SE/2DCode/raw/5.json") == []
    assert _failing("SE/2DCode/raw/5.json", days=-6) == ["RR-HK-0001"]


def test_a_certificate_that_is_not_valid_is_not_judged() -> None:
    case = CASES["AT/2DCode/raw/1.json"]
    unknown = verify_dcc(case.text, DccTrust(), now=case.clock)
    judgement = judge_dcc(unknown, RULES, now=case.clock, country="HK")
    assert (judgement.accepted, judgement.reason, judgement.checked) == (
        False, "unknown_kid", ())


def test_the_compiled_rules_give_what_the_interpreter_gives() -> None:
    for case in CASES.values():
        result = verify_dcc(case.text, case.trust, now=case.clock)
        if not result.valid:
            continue
        data = certlogic_data(result, now=case.clock, country="HK")
        for rule in RULES.rules:
            try:
                expected = evaluate(rule.logic, data)
            except Exception as error:  # noqa: BLE001 - both must fail alike
                with pytest.raises(type(error)):
                    rule.check(data)
                continue
            assert rule.check(data) == expected, (case.name, rule.identifier)


def test_a_rule_set_that_is_not_valid_is_refused() -> None:
    document = json.loads(json.dumps({"Rules": [
        {"Identifier": "X", "Type": "Acceptance", "Engine": "CERTLOGIC",
         "CertificateType": "Test", "Description": [{"lang": "en", "desc": "x"}],
         "ValidFrom": "2021-01-01T00:00:00Z", "ValidTo": "2030-01-01T00:00:00Z",
         "Logic": {"var": "payload"}}]}))
    with pytest.raises(InvalidEuRuleSet):
        parse_eu_rule_set(json.dumps(document))  # descriptions in one language only
    document["Rules"][0]["Description"] = [
        {"lang": lang, "desc": "x"} for lang in ("zh-Hant", "zh-Hans", "en")]
    assert parse_eu_rule_set(json.dumps(document)).rules[0].identifier == "X"
    document["Rules"][0]["Logic"] = {"nonsense": [1]}
    with pytest.raises(InvalidEuRuleSet):
        parse_eu_rule_set(json.dumps(document))
    with pytest.raises(InvalidEuRuleSet):
        parse_eu_rule_set("{")
