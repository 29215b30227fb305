"""The bounded fuzz run of each decoder: ``bench.fuzz``'s targets on a few thousand inputs.

``BORDERPASS_TEST_FUZZ_INPUTS`` sets the inputs per decoder (3,000 by default); ``python -m
bench.fuzz`` runs 200,000 per decoder.
"""

from __future__ import annotations

import os

from bench.fuzz import TARGETS, run

INPUTS = int(os.environ.get("BORDERPASS_TEST_FUZZ_INPUTS", "3000"))


def fuzz(name: str) -> None:
    """Fuzz one decoder: nothing escapes, nothing changed is accepted, both sides are hit."""
    outcome = run(TARGETS[name](), INPUTS, seed=1)
    assert outcome.ok, "\n".join([outcome.line(), *outcome.examples])
    assert outcome.refused > INPUTS // 4, outcome.line()
    assert sum(outcome.accepted.values()) > INPUTS // 50, outcome.line()
