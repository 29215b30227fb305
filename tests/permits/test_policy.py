"""The endorsement policy is data: it loads, validates, and says which types are open."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from borderpass.permits import policy as policies
from borderpass.permits.policy import POLICY_FILE, PolicyError, load_policy

REASONS = {
    "medical_treatment": ["hospital_treatment_plan"],
    "funeral": ["death_certificate", "relationship_proof"],
    "litigation": ["court_summons"],
    "examination": ["exam_admission_ticket"],
    "property": ["property_papers"],
    "academic_exchange": ["academic_invitation"],
    "visit_critically_ill": ["critical_condition_notice", "relationship_proof"],
}


def test_packaged_policy_has_the_seven_reasons_and_their_evidence() -> None:
    policy = load_policy(POLICY_FILE)
    assert {name: list(reason.checklist) for name, reason in policy.reasons.items()} == REASONS
    assert {name for name, r in policy.reasons.items() if r.relationship} == {
        "funeral", "visit_critically_ill"}
    assert set(policy.relationships.direct) == {
        "spouse", "parent", "child", "grandparent", "grandchild", "sibling"}


def test_which_types_are_open_is_dated() -> None:
    policy = load_policy(POLICY_FILE)
    business, regular = policy.types["business"], policy.types["regular"]
    assert not business.is_open(date(2021, 10, 10))
    assert business.is_open(date(2021, 10, 11))  # Guangdong resumed business endorsements
    assert regular.is_open(date(2019, 12, 1))
    assert not regular.is_open(date(2021, 12, 1))
    assert policy.types["emergency"].is_open(date(2021, 12, 1))


def test_business_checklist_names_employer_and_invitation() -> None:
    policy = load_policy(POLICY_FILE)
    items = policy.checklist("business", None)
    assert "employer_licence" in items
    assert "business_invitation" in items


def test_epidemic_conditions_cover_trip_and_return() -> None:
    conditions = load_policy(POLICY_FILE).conditions_on(date(2021, 12, 8))
    assert conditions is not None
    assert any("72" in text.en for text in conditions.trip)
    assert any("quarantine" in text.en for text in conditions.return_)


def _write(tmp_path: Path, change: dict[str, object]) -> Path:
    raw = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    for dotted, value in change.items():
        target = raw
        *parents, last = dotted.split(".")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[last] = value
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"reasons.funeral.checklist": ["death_certificate", "ashes"]}, "unknown evidence item"),
        ({"types.business.open": [{"from": "2021-10-11", "until": "2021-10-01"}]},
         "must not end before it starts"),
        ({"types.business.entries": {"default": 3, "max": 2}}, "default must not exceed"),
        ({"evidence.court_summons": {"en": "Summons", "zh_Hant": "傳票"}}, "zh_Hans"),
        ({"reasons.litigation.checklist": []}, "reasons.litigation.checklist"),
    ],
)
def test_an_invalid_policy_is_refused_with_where(
    tmp_path: Path, change: dict[str, object], problem: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(_write(tmp_path, change))
    assert problem in str(raised.value)


def test_a_policy_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(PolicyError, match="not JSON"):
        load_policy(path)


def test_use_policy_puts_another_policy_in_force(tmp_path: Path) -> None:
    other = load_policy(_write(tmp_path, {"types.regular.open": [{"from": "2021-12-01"}]}))
    with policies.use_policy(other):
        assert policies.current().types["regular"].is_open(date(2021, 12, 1))
    assert not policies.current().types["regular"].is_open(date(2021, 12, 1))
