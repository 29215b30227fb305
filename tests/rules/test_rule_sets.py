"""Rule sets loaded, validated and activated (the command line: test_cli.py); each default
rule through real evidence, with ``changes_at``."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from borderpass.evidence import service as evidence
from borderpass.evidence.schemas import (
    FlagIn,
    HighRiskAreaIn,
    TestingOrderIn,
    TravelRecordIn,
)
from borderpass.healthcode import service as healthcode
from borderpass.healthcode.models import PersonStatus
from borderpass.rules import service as rules
from borderpass.rules.ruleset import default_document
from tests.healthcode.test_end_to_end import _batch

H = timedelta(hours=1)
D = timedelta(days=1)
HOME = "Flat A, 12/F, 1 Test Road, Tsuen Wan"
_ = healthcode  # its handlers re-evaluate people when evidence changes


def _document(version: str, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(default_document())
    document["Version"] = version
    document.update(changes)
    return document


# --------------------------------------------------------------------------- loading


def test_load_validate_activate_through_the_api(
    client: Any, staff_token: Any, session: Any, now: datetime
) -> None:
    _officer, token = staff_token("health_officer")
    headers = {"Authorization": f"Bearer {token}"}
    loaded = client.post("/api/rule-sets", headers=headers, json=_document("1.1.0"))
    assert loaded.status_code == 201, loaded.text
    first = loaded.json()
    assert (first["version"], first["active"], first["rules"]) == ("1.1.0", False, 6)
    assert rules.active_rule_set(session).version != "1.1.0"

    active = client.post(f"/api/rule-sets/{first['id']}/activate", headers=headers)
    assert active.status_code == 200 and active.json()["active"] is True
    assert rules.active_rule_set(session).name == "HK-HEALTH-CODE@1.1.0"

    second = client.post("/api/rule-sets", headers=headers, params={"activate": True},
                         json=_document("1.2.0"))
    assert second.status_code == 201 and second.json()["active"] is True
    assert rules.active_rule_set(session).name == "HK-HEALTH-CODE@1.2.0"
    listed = {item["version"]: item["active"]
              for item in client.get("/api/rule-sets", headers=headers).json()}
    assert listed == {"1.1.0": False, "1.2.0": True}  # every version kept, one in force

    again = client.post("/api/rule-sets", headers=headers, json=_document("1.1.0"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "rule_set_exists"
    missing = client.post(f"/api/rule-sets/{uuid.uuid4()}/activate", headers=headers)
    assert missing.status_code == 404
    _resident, resident_token = staff_token("help_desk")
    refused = client.post("/api/rule-sets", json=_document("1.3.0"),
                          headers={"Authorization": f"Bearer {resident_token}"})
    assert refused.status_code == 403
    assert client.post("/api/rule-sets", json=_document("1.3.0")).status_code == 401


def _bad_rule(**changes: Any) -> dict[str, Any]:
    document = _document("2.0.0")
    document["Rules"][0] = {**document["Rules"][0], **changes}
    return document


@pytest.mark.parametrize(("document", "field", "words"), [
    (_bad_rule(Logic={"or": [True, False]}), "Rules.0.Logic", "unrecognised operator"),
    (_bad_rule(Logic={"var": "payload.tests.lastNegtive"}), "Rules.0.Logic",
     "unknown fact payload.tests.lastNegtive"),
    (_bad_rule(Logic={"if": [True, False]}), "Rules.0.Logic", "exactly 3 operands"),
    (_bad_rule(Colour="blue"), "Rules.0.Colour", "Colour"),
    (_bad_rule(Description=[{"lang": "en", "desc": "x"}] * 3), "Rules.0.Description",
     "zh-Hant, zh-Hans and en"),
    (_bad_rule(ValidTo="2020-01-01T00:00:00Z"), "Rules.0.ValidTo", "ValidTo"),
    (_bad_rule(AffectedFields=["tests.nothing"]), "Rules.0.AffectedFields", "unknown fact"),
    (_document("2.0.0", Rules=[]), "Rules", "Rules"),
    (_document("x"), "Version", "Version"),
    ({"Rules": "all"}, None, None),
])
def test_a_bad_rule_set_is_refused_with_a_clear_error(
    client: Any, staff_token: Any, document: Any, field: str | None, words: str | None
) -> None:
    _officer, token = staff_token("health_officer")
    headers = {"Authorization": f"Bearer {token}"}
    before = len(client.get("/api/rule-sets", headers=headers).json())
    response = client.post("/api/rule-sets", headers=headers, json=document)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_rule_set"
    if field is not None:
        assert error["field"] == field
    if words is not None:
        assert words in error["message"]
    assert len(client.get("/api/rule-sets", headers=headers).json()) == before


def test_not_json_is_refused(client: Any, staff_token: Any) -> None:
    _officer, token = staff_token("health_officer")
    response = client.post("/api/rule-sets", content=b"{not json",
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_rule_set"
    assert "not JSON" in response.json()["error"]["message"]


# --------------------------------------------------------------------------- the rules


def _test(session: Any, source: Any, collected: datetime, result: str, now: datetime,
          number: str = "A123456(3)") -> None:
    evidence.ingest(session, source.id, "tests",
                    _batch(number, f"S-{uuid.uuid4().hex[:10]}", collected, result), "csv",
                    now=now)


def test_the_48_hour_test_rule(session: Any, now: datetime, register_person: Any,
                               lab: Any) -> None:
    person = register_person()
    untested = rules.status(session, person.id, now=now)
    assert (untested.colour, untested.rule_ids) == ("red", ("HK-RED-TEST-48H",))
    source, _key = lab
    tested = now - 3 * H
    _test(session, source, tested, "negative", now)
    status = rules.status(session, person.id, now=now)
    assert (status.colour, status.changes_at) == ("green", tested + 48 * H)
    assert rules.status(session, person.id, now=tested + 48 * H).colour == "red"
    assert rules.status(session, person.id, now=tested + 48 * H - timedelta(seconds=1)
                        ).colour == "green"


def test_a_positive_test(session: Any, now: datetime, register_person: Any, lab: Any) -> None:
    person = register_person()
    source, _key = lab
    positive = now - 2 * H
    _test(session, source, positive, "positive", now)
    status = rules.status(session, person.id, now=now)
    assert status.colour == "red"
    assert status.rule_ids == ("HK-RED-TEST-48H", "HK-RED-POSITIVE")
    assert status.changes_at == positive + 14 * D  # then only the missing test remains
    view = rules.status_view(status, now=now)
    positive_reason = view.reasons[1]
    assert set(positive_reason.description) == {"zh-Hant", "zh-Hans", "en"}
    assert positive_reason.description["en"] == (
        "A positive test collected within the last 14 days.")
    # A later negative test does not clear a positive one.
    _test(session, source, now - H, "negative", now)
    assert rules.status(session, person.id, now=now).rule_ids == ("HK-RED-POSITIVE",)


@pytest.mark.parametrize("kind", ["confirmed", "suspected", "close_contact", "quarantine"])
def test_each_flag_kind(session: Any, now: datetime, register_person: Any, lab: Any,
                        kind: str) -> None:
    person = register_person()
    source, _key = lab
    _test(session, source, now - H, "negative", now)
    ends = now + 13 * D
    evidence.record_flag(session, FlagIn(document_kind="hkid", document_number="A123456(3)",
                                         kind=kind, starts_at=now - D, ends_at=ends),
                         officer=uuid.uuid4(), now=now)
    status = rules.status(session, person.id, now=now)
    assert (status.colour, status.rule_ids) == ("red", ("HK-RED-FLAG",))
    assert evidence.facts_for(session, person.id, now).flag_kinds == (kind,)
    # The code turned red when the flag was recorded; the status changes when the first rule
    # does: the 48-hour window closes before the flag ends.
    saved = session.get(PersonStatus, person.id)
    assert saved is not None and saved.colour == "red" and saved.reasons == "HK-RED-FLAG"
    assert status.changes_at == now - H + 48 * H


def test_a_flag_in_the_future_and_one_lifted(session: Any, now: datetime,
                                             register_person: Any, lab: Any) -> None:
    person = register_person()
    source, _key = lab
    _test(session, source, now - H, "negative", now)
    starts = now + 5 * H
    flag = evidence.record_flag(session, FlagIn(document_kind="hkid",
                                                document_number="A123456(3)", kind="quarantine",
                                                starts_at=starts),
                                officer=uuid.uuid4(), now=now)
    status = rules.status(session, person.id, now=now)
    assert (status.colour, status.changes_at) == ("green", starts)
    assert rules.status(session, person.id, now=starts).rule_ids == ("HK-RED-FLAG",)
    evidence.lift_flag(session, flag.id, officer=uuid.uuid4(), now=now + H)
    assert rules.status(session, person.id, now=starts).colour == "green"


def _order(session: Any, now: datetime, address: str, reference: str = "CTO-1") -> Any:
    return evidence.record_testing_order(session, TestingOrderIn.model_validate({
        "reference": reference, "period_from": (now - 3 * D).isoformat(),
        "period_to": (now - 2 * D).isoformat(), "test_by": (now + 2 * D).isoformat(),
        "premises": [{"address": address}],
    }), officer=uuid.uuid4(), now=now)


def test_a_testing_order_re_evaluates_the_residents_at_its_premises(
    session: Any, now: datetime, register_person: Any, lab: Any
) -> None:
    resident = register_person()
    elsewhere = register_person("Z437626(A)", address="Flat B, 3/F, 99 Other Street, Sha Tin")
    source, _key = lab
    _test(session, source, now - 5 * H, "negative", now)
    _test(session, source, now - 5 * H, "negative", now, number="Z437626(A)")
    code = healthcode.issue(session, resident.id, now=now)
    other = healthcode.issue(session, elsewhere.id, now=now)
    assert code.colour == other.colour == "green"
    before = session.get(PersonStatus, elsewhere.id).evaluated_at

    ordered_at = now + H
    # The address as the order publishes it, written a little differently.
    _order(session, ordered_at, "flat a, 12/F, 1 TEST ROAD,  Tsuen Wan")
    saved = session.get(PersonStatus, resident.id)
    assert (saved.colour, saved.reasons) == ("red", "HK-RED-TESTING-ORDER")
    assert saved.evaluated_at == ordered_at
    assert session.get(PersonStatus, elsewhere.id).evaluated_at == before  # not touched
    verdict = healthcode.verify_code(session, code.text, now=ordered_at)
    assert verdict.reason == "revoked"
    assert healthcode.verify_code(session, other.text, now=ordered_at).valid

    # A negative test collected before the order does not help; one after it does.
    _test(session, source, ordered_at - 10 * timedelta(minutes=1), "negative", ordered_at + H)
    assert rules.status(session, resident.id, now=ordered_at).colour == "red"
    _test(session, source, ordered_at + H, "negative", ordered_at + 2 * H)
    assert session.get(PersonStatus, resident.id).colour == "green"
    assert rules.status(session, resident.id, now=ordered_at + 2 * H).rule_ids == ()


def test_travel_in_a_high_risk_area_within_14_days(
    session: Any, now: datetime, register_person: Any, lab: Any
) -> None:
    person = register_person()
    source, _key = lab
    _test(session, source, now - H, "negative", now)
    officer = uuid.uuid4()
    evidence.record_high_risk_area(session, HighRiskAreaIn(
        region_code="CN-GD", name_en="Guangdong", name_zh="廣東", starts_at=now - 20 * D,
        ends_at=now - 5 * D), officer=officer, now=now)

    def travel(at: datetime, region: str) -> None:
        evidence.record_travel(session, TravelRecordIn(
            document_kind="hkid", document_number="A123456(3)", region_code=region, at=at),
            officer=officer, now=now)

    travel(now - 25 * D, "CN-GD-SZ")  # before the area was high-risk
    travel(now - 3 * D, "CN-GD-SZ")  # after it no longer was
    travel(now - 2 * D, "MO")  # never high-risk
    assert rules.status(session, person.id, now=now).colour == "green"
    visited = now - 10 * D
    travel(visited, "CN-GD-SZ")  # inside a region of the area, while it was high-risk
    status = rules.status(session, person.id, now=now)
    assert (status.colour, status.rule_ids) == ("red", ("HK-RED-HIGH-RISK-AREA",))
    assert status.changes_at == now + 47 * H  # the test's 48 hours close first
    _test(session, source, visited + 14 * D - 2 * H, "negative", visited + 14 * D - H)
    assert rules.status(session, person.id, now=visited + 14 * D - timedelta(seconds=1)
                        ).rule_ids == ("HK-RED-HIGH-RISK-AREA",)
    assert rules.status(session, person.id, now=visited + 14 * D).colour == "green"
    facts = evidence.facts_for(session, person.id, now)
    assert (facts.high_risk_visit_at, facts.high_risk_region) == (visited, "CN-GD-SZ")
    assert session.get(PersonStatus, person.id).colour == "red"
