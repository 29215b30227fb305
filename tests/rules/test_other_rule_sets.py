"""Other rule sets, loaded as data: only PCR tests count, within 72 hours, and fewer than
three vaccine doses gives amber. No code changes; only the rules differ."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from borderpass.evidence import service as evidence
from borderpass.healthcode import service as healthcode
from borderpass.rules import service as rules

H = timedelta(hours=1)
D = timedelta(days=1)
_ = healthcode  # its handlers re-evaluate people when evidence changes


def _describe(text: str) -> list[dict[str, str]]:
    return [{"lang": lang, "desc": text} for lang in ("zh-Hant", "zh-Hans", "en")]


def _rule(identifier: str, colour: str, fields: list[str], logic: Any) -> dict[str, Any]:
    return {
        "Identifier": identifier, "Type": "Acceptance", "Country": "MO", "Version": "1.0.0",
        "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC", "EngineVersion": "1.3.3",
        "Colour": colour, "Description": _describe(identifier),
        "ValidFrom": "2021-01-01T00:00:00+08:00", "ValidTo": "2030-12-31T23:59:59+08:00",
        "AffectedFields": fields, "Logic": logic,
    }


def _within(fact: str, amount: int, unit: str) -> dict[str, Any]:
    return {"if": [{"var": fact},
                   {"before": [{"plusTime": [{"var": "external.validationClock"}, 0, "hour"]},
                               {"plusTime": [{"var": fact}, amount, unit]}]},
                   False]}


OTHER = {
    "Identifier": "HK-HEALTH-CODE-STRICT", "Jurisdiction": "HK", "Version": "2.0.0",
    "ValidFrom": "2021-01-01T00:00:00+08:00", "ValidTo": "2030-12-31T23:59:59+08:00",
    "Description": _describe("Stricter rules"),
    "Rules": [
        _rule("MO-RED-PCR-72H", "red", ["tests.lastNegativePcr"],
              _within("payload.tests.lastNegativePcr", 72, "hour")),
        _rule("MO-AMBER-DOSES", "amber", ["vaccinations.doses"],
              {">=": [{"var": "payload.vaccinations.doses"}, 3]}),
    ],
}

HEADER = "specimen_id,document_kind,document_number,collected_at,reported_at,method,result,lab\n"


def _test(specimen: str, collected: datetime, method: str) -> bytes:
    reported = collected + 2 * H
    return (HEADER + f"{specimen},hkid,A123456(3),{collected.isoformat()},"
            f"{reported.isoformat()},{method},negative,\n").encode()


def _doses(count: int, first: datetime) -> bytes:
    rows = "".join(f"hkid,A123456(3),{n},Comirnaty,{(first + n * 30 * D).date()},Clinic\n"
                   for n in range(1, count + 1))
    return ("document_kind,document_number,dose_number,product,vaccinated_on,provider\n"
            + rows).encode()


def test_another_rule_set_changes_the_outcome_without_code(
    session: Any, now: datetime, register_person: Any, lab: Any
) -> None:
    person = register_person()
    source, _key = lab
    registry, _ = evidence.create_source(session, "Registry", "registry", now=now)
    evidence.ingest(session, source.id, "tests", _test("RAT-1", now - 5 * H, "RAT"), "csv",
                    now=now)
    default = rules.status(session, person.id, now=now)
    assert default.colour == "green"  # the packaged rules count any negative test

    loaded = rules.load(session, json.dumps(OTHER), officer=None, now=now, activate_now=True)
    assert loaded.active
    only_rat = rules.status(session, person.id, now=now)
    assert only_rat.colour == "red"
    failing = [reason.identifier for reason in only_rat.reasons]
    assert failing == ["MO-RED-PCR-72H", "MO-AMBER-DOSES"]

    evidence.ingest(session, source.id, "tests", _test("PCR-1", now - 60 * H, "PCR"), "csv",
                    now=now)
    pcr = rules.status(session, person.id, now=now)
    assert pcr.colour == "amber"
    assert [reason.identifier for reason in pcr.reasons] == ["MO-AMBER-DOSES"]
    assert pcr.changes_at == now - 60 * H + 72 * H  # the 72-hour window closes

    evidence.ingest(session, registry.id, "vaccinations", _doses(3, now - 200 * D),
                    "csv", now=now)
    vaccinated = rules.status(session, person.id, now=now)
    assert vaccinated.colour == "green"
    assert vaccinated.changes_at == now - 60 * H + 72 * H


def test_a_rule_naming_an_unknown_fact_is_refused(session: Any, now: datetime) -> None:
    import pytest

    from borderpass.kit.errors import InvalidInput

    bad = dict(OTHER, Version="2.0.1", Rules=[
        _rule("MO-X", "red", ["vaccinations.boosters"],
              {">=": [{"var": "payload.vaccinations.boosters"}, 1]})])
    with pytest.raises(InvalidInput) as caught:
        rules.load(session, json.dumps(bad), officer=None, now=now)
    assert "vaccinations.boosters" in caught.value.render("en")


def test_another_jurisdictions_rule_set_is_kept_but_not_put_in_force(
    session: Any, now: datetime
) -> None:
    import pytest

    from borderpass.kit.errors import InvalidInput

    foreign = dict(OTHER, Identifier="MO-HEALTH-CODE", Jurisdiction="MO")
    with pytest.raises(InvalidInput) as caught:
        rules.load(session, json.dumps(foreign), officer=None, now=now, activate_now=True)
    assert caught.value.code == "foreign_rule_set"
    assert "MO" in caught.value.render("en")
    kept = rules.load(session, json.dumps(dict(foreign, Version="2.0.1")), officer=None,
                      now=now)
    assert not kept.active
    assert rules.active_rule_set(session).name.startswith("HK-")
