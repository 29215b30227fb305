"""The status computed from the instants where rules may change is the status the
exhaustive search over every candidate instant gives: colour, reasons and ``changes_at``,
for many generated fact sets and several rule sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderpass.evidence.schemas import PersonFacts
from borderpass.rules.ruleset import RuleSet, compile_rule_set, default_rule_set, parse_rule_set
from borderpass.rules.status import evaluate, evaluate_exhaustive

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
LANGUAGES = ("zh-Hant", "zh-Hans", "en")
CLOCK = {"plusTime": [{"var": "external.validationClock"}, 0, "hour"]}


def _clock(amount: int = 0, unit: str = "hour") -> dict[str, Any]:
    return {"plusTime": [{"var": "external.validationClock"}, amount, unit]}


def _at(fact: str, amount: int = 0, unit: str = "hour") -> dict[str, Any]:
    return {"plusTime": [{"var": f"payload.{fact}"}, amount, unit]}


def _rule(identifier: str, colour: str, logic: Any, *, valid_from: str = "2021-01-01T00:00:00Z",
          valid_to: str = "2030-12-31T23:59:59+08:00") -> dict[str, Any]:
    return {
        "Identifier": identifier, "Type": "Acceptance", "Country": "HK", "Version": "1.0.0",
        "SchemaVersion": "1.0.0", "Engine": "CERTLOGIC", "EngineVersion": "1.3.3",
        "Colour": colour,
        "Description": [{"lang": lang, "desc": identifier} for lang in LANGUAGES],
        "ValidFrom": valid_from, "ValidTo": valid_to, "AffectedFields": ["tests.lastNegative"],
        "Logic": logic,
    }


def _rule_set(identifier: str, rules: list[dict[str, Any]]) -> RuleSet:
    return compile_rule_set(parse_rule_set({
        "Identifier": identifier, "Jurisdiction": "HK", "Version": "1.0.0",
        "ValidFrom": "2021-01-01T00:00:00Z", "ValidTo": "2030-12-31T23:59:59+08:00",
        "Description": [{"lang": lang, "desc": identifier} for lang in LANGUAGES],
        "Rules": rules,
    }))


# Every comparison, the clock on either side, shifted clocks, three operands, windows that
# open and close near NOW, and facts that may be missing.
VARIED = _rule_set("VARIED", [
    _rule("A-AFTER", "red", {"if": [{"var": "payload.tests.lastNegativeRat"},
                                    {"after": [_at("tests.lastNegativeRat", 36), CLOCK]}, True]}),
    _rule("A-NOT-AFTER", "amber", {"!": [{"not-after": [_clock(-2, "day"),
                                                        _at("vaccinations.lastDose", 3, "day")]}]}),
    _rule("A-CHAIN", "red", {"if": [{"var": "payload.flags.since"},
                                    {"!": [{"not-before": [_clock(6), _at("flags.since"),
                                                           _at("tests.lastPositive", -1, "day")]}]},
                                    True]}),
    _rule("A-RIGHT", "amber", {"and": [
        {"if": [{"var": "payload.exposure.at"},
                {"not-after": [_at("exposure.at", 5, "day"), _clock(1, "day")]}, True]},
        {"if": [{"var": "payload.highRiskVisit.at"},
                {"before": [_at("highRiskVisit.at", 7, "day"), CLOCK]}, True]}]}),
    _rule("A-NOT-BEFORE-WINDOW", "red", {"if": [
        {"var": "payload.testingOrder.issuedAt"},
        {"not-before": [_at("tests.lastNegative"), _at("testingOrder.issuedAt")]},
        {"before": [CLOCK, _at("tests.lastNegativePcr", 72)]}]},
        valid_from="2026-11-27T00:00:00Z", valid_to="2026-12-05T12:00:00.500Z"),
    _rule("A-DOSES", "amber", {"if": [{">=": [{"var": "payload.vaccinations.doses"}, 3]},
                                      {"before": [_at("vaccinations.lastDose", 180, "day"),
                                                  _clock(), _at("flags.until", 0, "hour")]},
                                      False]}),
    _rule("A-ERROR", "red", {"before": [CLOCK, _at("tests.lastPositive", 2, "day")]},
          valid_to="2026-11-30T00:00:00Z"),
])

# A clock shifted in months has no fixed flip instant: evaluation falls back to the search.
MONTHS = _rule_set("MONTHS", [
    _rule("M-DOSE", "amber", {"if": [{"var": "payload.vaccinations.lastDose"},
                                     {"before": [_clock(-6, "month"),
                                                 _at("vaccinations.lastDose")]}, False]}),
    _rule("M-TEST", "red", {"if": [{"var": "payload.tests.lastNegative"},
                                   {"before": [CLOCK, _at("tests.lastNegative", 48)]}, False]}),
])

RULE_SETS = {"default": default_rule_set(), "varied": VARIED, "months": MONTHS}

_MS = timedelta(milliseconds=1)
# Offsets from NOW in microseconds: anywhere within a month either way, or close to a
# whole number of hours or days from NOW (where the rules' offsets put flips).
_anywhere = st.integers(min_value=-40 * 86_400_000_000, max_value=40 * 86_400_000_000)
_near_whole = st.builds(lambda hours, jitter: hours * 3_600_000_000 + jitter,
                        st.integers(min_value=-24 * 40, max_value=24 * 40),
                        st.sampled_from([0, 1, 999, 1000, 1001, -1, -999, -1000, -1001, 500]))
_instant = st.one_of(st.none(), st.builds(lambda us: NOW + timedelta(microseconds=us),
                                          st.one_of(_anywhere, _near_whole)))


@st.composite
def _facts(draw: st.DrawFn) -> PersonFacts:
    negative = draw(_instant)
    pcr = draw(st.one_of(st.none(), st.just(negative), _instant))
    since = draw(_instant)
    until = draw(st.one_of(st.none(), _instant)) if since is not None else None
    order = draw(_instant)
    visit = draw(_instant)
    exposure = draw(_instant)
    return PersonFacts(
        last_negative_at=negative, last_positive_at=draw(_instant), flag_since=since,
        flag_until=until, flag_kinds=("close_contact",) if since else (),
        order_issued_at=order, order_reference="ORDER" if order else None,
        high_risk_visit_at=visit, high_risk_region="CN-GD" if visit else None,
        exposure_at=exposure, exposure_venue="V" if exposure else None,
        last_negative_pcr_at=pcr, last_negative_rat_at=draw(_instant),
        doses=draw(st.integers(min_value=0, max_value=4)), last_dose_at=draw(_instant),
    )


_now = st.builds(lambda us: NOW + timedelta(microseconds=us), st.one_of(
    st.just(0), _near_whole, st.integers(min_value=-86_400_000_000, max_value=86_400_000_000)))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=_facts(), now=_now, name=st.sampled_from(sorted(RULE_SETS)))
def test_the_computed_change_is_the_exhaustive_one(facts: PersonFacts, now: datetime,
                                                   name: str) -> None:
    rule_set = RULE_SETS[name]
    assert evaluate(facts, rule_set, now) == evaluate_exhaustive(facts, rule_set, now)


def test_the_plan_is_read_where_the_logic_allows_it() -> None:
    assert default_rule_set().clock is not None
    assert VARIED.clock is not None
    assert MONTHS.clock is None


def test_a_status_that_never_changes_has_no_change() -> None:
    facts = PersonFacts()
    for rule_set in RULE_SETS.values():
        assert evaluate(facts, rule_set, NOW) == evaluate_exhaustive(facts, rule_set, NOW)
    # With no evidence at all, only the rules going out of force changes anything.
    rules = default_rule_set().rules
    assert evaluate(facts, default_rule_set(), NOW).changes_at == min(r.valid_to for r in rules)


def test_flips_a_millisecond_apart_agree() -> None:
    """Facts a millisecond or less apart, where the first candidate is not the cause."""
    base = NOW + timedelta(hours=3, microseconds=400)
    for shift in range(-2_000, 2_001, 250):
        near = base + timedelta(microseconds=shift)
        facts = PersonFacts(last_negative_at=base - timedelta(hours=48), exposure_at=near,
                            last_negative_rat_at=near - timedelta(hours=36),
                            flag_since=near - _MS, flag_until=near + _MS,
                            last_positive_at=near - timedelta(days=2))
        for rule_set in RULE_SETS.values():
            assert evaluate(facts, rule_set, NOW) == evaluate_exhaustive(facts, rule_set, NOW)
