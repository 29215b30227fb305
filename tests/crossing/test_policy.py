"""The crossing policy as data: validated when loaded, versioned, and evaluated by the
rules' CertLogic compiler into one outcome with its reasons."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from borderpass.crossing import policy as policies
from borderpass.crossing import service
from borderpass.kit.errors import Conflict, InvalidInput
from tests.crossing.conftest import CHAN, Demo

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
POINTS = ["LWU", "LMC", "SBC", "HZM", "AIR"]


def document() -> dict[str, Any]:
    return json.loads(policies.default_document())


def facts(**overrides: Any) -> policies.CrossingFacts:
    """A Hong Kong resident who meets every condition, unless overridden."""
    fields: dict[str, Any] = {
        "control_point": "LWU", "direction": "south", "jurisdiction": "HK", "residence": "HK",
        "document_kind": "hkid", "code_result": "valid", "code_jurisdiction": "HK",
        "code_colour": "green", "code_issued_at": NOW - timedelta(hours=1),
        "code_valid_until": NOW + timedelta(hours=10), "code_holder_matches": True,
        "checkin_days": 14, "doses": 3, "quota_booked": True,
    }
    fields.update(overrides)
    return policies.CrossingFacts(**fields)


def endorsement(**overrides: Any) -> policies.EndorsementFacts:
    fields: dict[str, Any] = {
        "number": "EE0123456789", "kind": "emergency", "reason": "visit_critically_ill",
        "destination": "HK", "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=89), "entries_left": 1, "stay_days": 7,
        "holder_matches": True,
    }
    fields.update(overrides)
    return policies.EndorsementFacts(**fields)


def judge(**overrides: Any) -> policies.Judgement:
    return policies.evaluate(policies.default_policy(), facts(**overrides), NOW)


def test_the_packaged_policy_covers_every_control_point_both_ways() -> None:
    policy = policies.default_policy()
    assert policy.name == "HK-CROSSING@1.0.0"
    for point in POINTS:
        for direction in ("north", "south"):
            crossing = policy.crossing(point, direction)
            assert crossing is not None and crossing.quarantine_days == 14
            assert crossing.places_for(point)
    assert [p.code for p in policy.crossing("HZM", "north").places_for("HZM")] == ["ZH-DQH"]
    assert [p.code for p in policy.crossing("LWU", "north").places_for("LWU")] == ["SZ-DQH"]
    for crossing in policy.crossings:
        for rule in crossing.rules:
            assert set(rule.description) == set(rule.met_description) == {
                "zh_Hant", "zh_Hans", "en"}


def test_a_resident_who_meets_every_condition_crosses_quarantine_free() -> None:
    judged = judge()
    assert judged.outcome == "quarantine_free"
    assert judged.reason_codes == ["code_valid", "code_holders", "code_recognised", "code_green",
                                   "checkin_14_days", "vaccinated", "quota_booked",
                                   "hong_kong_resident"]


@pytest.mark.parametrize(("overrides", "outcome", "reasons"), [
    ({"quota_booked": False}, "quarantine", ["no_quota_booking"]),
    ({"code_colour": "red"}, "refused", ["code_not_green"]),
    ({"code_colour": "red", "quota_booked": False, "checkin_days": 13}, "refused",
     ["code_not_green", "checkin_days_short"]),
    ({"doses": 1}, "refused", ["not_vaccinated"]),
    ({"code_holder_matches": False}, "refused", ["code_not_holders"]),
    ({"code_jurisdiction": "XX"}, "refused", ["code_not_recognised"]),
    ({"code_jurisdiction": "GD"}, "quarantine_free", None),
    # An invalid code says nothing about its holder: only its invalidity is a reason.
    ({"code_result": "invalid", "code_reason": "expired", "code_colour": None,
      "code_holder_matches": False}, "refused", ["code_not_valid"]),
    ({"residence": "MO", "document_kind": "macau", "checkin_days": 0, "doses": 0,
      "quota_booked": False}, "quarantine", ["quarantine_free_for_residents"]),
])
def test_each_condition_leads_to_its_outcome(overrides: dict[str, Any], outcome: str,
                                             reasons: list[str] | None) -> None:
    judged = judge(**overrides)
    assert judged.outcome == outcome
    if reasons is not None:
        assert judged.reason_codes == reasons


def test_a_mainland_resident_needs_a_valid_endorsement_of_their_own() -> None:
    mainland = {"residence": "CN", "document_kind": "mainland", "checkin_days": 0, "doses": 0,
                "quota_booked": False}
    assert judge(**mainland).reason_codes == ["no_endorsement"]
    admitted = judge(**mainland, endorsement=endorsement())
    assert admitted.outcome == "quarantine"
    assert admitted.reason_codes == ["quarantine_free_for_residents"]
    for wrong, code in (
        ({"holder_matches": False}, "endorsement_not_holders"),
        ({"destination": "MO"}, "endorsement_not_valid"),
        ({"entries_left": 0}, "endorsement_not_valid"),
        ({"valid_from": NOW + timedelta(days=1)}, "endorsement_not_valid"),
        ({"valid_until": NOW}, "endorsement_not_valid"),
    ):
        refused = judge(**mainland, endorsement=endorsement(**wrong))
        assert (refused.outcome, refused.reason_codes) == ("refused", [code]), wrong
    # Only a mainland resident is asked for one.
    assert "endorsement_presented" not in judge().reason_codes


def test_northbound_a_mainland_resident_shows_a_test_taken_on_arrival() -> None:
    mainland = {"residence": "CN", "document_kind": "mainland", "checkin_days": 0, "doses": 0,
                "quota_booked": False, "direction": "north"}
    assert judge(**mainland).reason_codes == ["no_arrival_test"]
    assert judge(**mainland, last_negative_at=NOW - timedelta(hours=25)).outcome == "refused"
    returned = judge(**mainland, last_negative_at=NOW - timedelta(hours=3))
    assert (returned.outcome, returned.reason_codes) == ("quarantine",
                                                         ["quarantine_free_for_residents"])


def test_the_policy_names_no_crossing_it_lacks() -> None:
    with pytest.raises(policies.NoCrossingPolicy) as raised:
        judge(control_point="XYZ")
    assert raised.value.code == "no_crossing_policy" and raised.value.field == "control_point"


def _with_rule(change: Callable[[dict[str, Any]], None]) -> policies.CrossingPolicy:
    changed = document()
    change(changed["Crossings"][0]["Rules"][0])
    return policies.compile_policy(policies.parse_policy(changed))


def test_rules_in_force_and_applying_are_the_only_ones_applied() -> None:
    later = _with_rule(lambda rule: rule.update(ValidFrom="2027-01-01T00:00:00+08:00"))
    judged = policies.evaluate(later, facts(code_result="invalid"), NOW)
    assert "code_not_valid" not in judged.reason_codes
    skipped = _with_rule(lambda rule: rule.update(Applies=False))
    assert [r.rule.identifier for r in policies.evaluate(skipped, facts(), NOW).results][0] \
        == "XS-CODE-HOLDER"


def test_a_rule_that_cannot_be_decided_does_not_let_anyone_through() -> None:
    # plusTime of a missing instant is an evaluation error: the rule fails.
    broken = _with_rule(lambda rule: rule.update(Logic={"before": [
        {"plusTime": [{"var": "external.validationClock"}, 0, "hour"]},
        {"plusTime": [{"var": "payload.checkin.uploadedAt"}, 1, "day"]}]}))
    assert policies.evaluate(broken, facts(), NOW).reason_codes == ["code_not_valid"]
    # An applicability that cannot be decided applies the rule.
    doubtful = _with_rule(lambda rule: rule.update(Applies={"after": [
        {"plusTime": [{"var": "payload.checkin.uploadedAt"}, 0, "day"]},
        {"plusTime": [{"var": "external.validationClock"}, 0, "day"]}]}))
    assert policies.evaluate(doubtful, facts(), NOW).results[0].rule.identifier == "XS-CODE-VALID"


@pytest.mark.parametrize(("change", "field", "problem"), [
    (lambda d: d["Crossings"][0]["Rules"][0].update(Logic={"var": "payload.name"}),
     "Crossings.0.Rules.0.Logic", "unknown fact payload.name"),
    (lambda d: d["Crossings"][0]["Rules"][0].update(Logic={"nope": [1]}),
     "Crossings.0.Rules.0.Logic", "Crossings.0.Rules.0.Logic"),
    (lambda d: d["Crossings"][0]["Rules"][0].update(Applies={"var": "data.x"}),
     "Crossings.0.Rules.0.Applies", "unknown fact data.x"),
    (lambda d: d["Crossings"][0]["Rules"][0]["Description"].pop(),
     "Crossings.0.Rules.0.Description", "Description"),
    (lambda d: d["Crossings"][0]["Rules"][0]["Met"]["Description"][2].update(lang="zh-Hant"),
     "Crossings.0.Rules.0.Met.Description", "zh-Hant, zh-Hans and en"),
    (lambda d: d["Crossings"][0]["Rules"][1].update(Identifier="XS-CODE-VALID"),
     "Crossings.0.Rules.1.Identifier", "repeats"),
    (lambda d: d["Crossings"][1].update(Direction="south"),
     "Crossings.1.ControlPoints", "LWU south has rules twice"),
    (lambda d: d["Crossings"][0].pop("Quarantine"),
     "Crossings.0.Quarantine", "leads to quarantine"),
    (lambda d: d["Crossings"][1]["Quarantine"]["Places"][1].update(ControlPoints=["XYZ"]),
     "Crossings.1.Quarantine.Places.1.ControlPoints", "XYZ is not among"),
    (lambda d: d["Crossings"][1]["Quarantine"]["Places"].pop(1),
     "Crossings.1.Quarantine.Places", "no quarantine place serves HZM"),
    (lambda d: d["Crossings"][0]["Rules"][0].update(Outcome="maybe"),
     "Crossings.0.Rules.0.Outcome", "Crossings.0.Rules.0.Outcome"),
    (lambda d: d["Crossings"][0]["Rules"][0].update(AffectedFields=["code.text"]),
     "Crossings.0.Rules.0.AffectedFields", "unknown fact code.text"),
    (lambda d: d.update(ValidTo="2020-01-01T00:00:00+08:00"), "ValidTo", "ValidTo"),
])
def test_a_bad_document_is_refused_naming_the_place(change: Callable[[dict[str, Any]], None],
                                                   field: str, problem: str) -> None:
    bad = copy.deepcopy(document())
    change(bad)
    with pytest.raises(policies.InvalidPolicy) as raised:
        policies.parse_policy(bad)
    assert raised.value.field == field
    assert problem in raised.value.render("en")


def test_not_json_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput) as raised:
        service.load(session, b"{not json", officer=None, now=NOW)
    assert raised.value.code == "invalid_crossing_policy"


def _version(version: str, change: Callable[[dict[str, Any]], None] | None = None) -> bytes:
    changed = document()
    changed["Version"] = version
    if change is not None:
        change(changed)
    return json.dumps(changed).encode()


def test_versions_are_kept_and_one_is_in_force(
    session: Session, demo: Demo, decide: Callable[..., Any]
) -> None:
    assert service.active_policy(session).name == "HK-CROSSING@1.0.0"  # packaged, none loaded
    first = service.load(session, _version("1.0.0"), officer=None, now=NOW)
    assert not first.active

    def no_quota_needed(changed: dict[str, Any]) -> None:
        rules = changed["Crossings"][0]["Rules"]
        changed["Crossings"][0]["Rules"] = [r for r in rules if r["Identifier"] != "XS-QUOTA"]

    second = service.load(session, _version("1.1.0", no_quota_needed), officer=None, now=NOW,
                          activate_now=True)
    assert second.active and service.active_policy(session).name == "HK-CROSSING@1.1.0"
    with pytest.raises(Conflict) as raised:
        service.load(session, _version("1.1.0"), officer=None, now=NOW)
    assert raised.value.code == "crossing_policy_exists"
    listed = service.list_policies(session)
    assert {(v.version, v.active) for v in listed} == {("1.0.0", False), ("1.1.0", True)}
    # Without the quota rule, CHAN crosses quarantine-free at a point she did not book.
    decision = decide(CHAN, point="SBC")
    assert decision.outcome == "quarantine_free"
    assert decision.record.policy == "HK-CROSSING@1.1.0"
    assert decision.record.policy_digest == second.digest
    service.activate(session, first.id, officer=None, now=NOW)
    assert decide(CHAN, point="SBC").outcome == "quarantine"


def test_another_jurisdictions_policy_is_kept_but_not_put_in_force(session: Session) -> None:
    foreign = service.load(session, _version("2.0.0", lambda d: d.update(Jurisdiction="GD")),
                           officer=None, now=NOW)
    with pytest.raises(InvalidInput) as raised:
        service.activate(session, foreign.id, officer=None, now=NOW)
    assert raised.value.code == "foreign_crossing_policy"
    assert service.active_policy(session).jurisdiction == "HK"


def test_the_officers_view_says_each_rule_in_their_language() -> None:
    shown = service.policy_view(policies.default_policy(), locale="zh_Hant")
    south = shown["crossings"][0]
    assert south["direction"] == "south" and south["control_points"] == POINTS
    green = next(rule for rule in south["rules"] if rule["identifier"] == "XS-CODE-GREEN")
    assert green["requirement"] == "健康碼為綠碼。" and green["outcome"] == "refused"
    assert [place["code"] for place in south["places"]] == ["PBH", "DQH-KLN"]
