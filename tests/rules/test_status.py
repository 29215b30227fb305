"""Status evaluation with compiled rules agrees with the CertLogic interpreter, and
``changes_at`` is where the status first changes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bench.evaluate import synthetic

from borderpass.evidence.schemas import PersonFacts
from borderpass.rules.certlogic import CertLogicError, evaluate_valid
from borderpass.rules.ruleset import default_rule_set
from borderpass.rules.status import certlogic_data, evaluate, instant_text

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def _interpreted(facts: PersonFacts, at: datetime) -> tuple[str, ...]:
    data = certlogic_data(facts)
    data["external"]["validationClock"] = instant_text(at)
    failing = []
    for rule in default_rule_set().rules:
        if not rule.valid_from <= at < rule.valid_to:
            continue
        try:
            passed = evaluate_valid(rule.logic, data) is True
        except CertLogicError:
            passed = False
        if not passed:
            failing.append(rule.identifier)
    return tuple(failing)


def test_compiled_status_agrees_with_the_interpreter() -> None:
    rng = random.Random(7)  # noqa: S311 - a repeatable synthetic population, not a secret
    rule_set = default_rule_set()
    changes = 0
    for _ in range(1500):
        facts = synthetic(rng, NOW)
        status = evaluate(facts, rule_set, NOW)
        assert status.rule_ids == _interpreted(facts, NOW)
        if status.changes_at is not None:
            changes += 1
            assert _interpreted(facts, status.changes_at - MS) == status.rule_ids
            assert _interpreted(facts, status.changes_at) != status.rule_ids
    assert changes > 1000
