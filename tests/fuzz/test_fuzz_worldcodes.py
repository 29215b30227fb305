"""Bounded fuzzing in CI (tests/fuzz/bounded.py) of the EU DCC and SMART Health Card verifiers."""

from __future__ import annotations

import pytest

from tests.fuzz.bounded import fuzz


@pytest.mark.parametrize("name", ["dcc", "shc"])
def test_only_the_decoders_own_error_escapes_and_nothing_changed_is_accepted(name: str) -> None:
    fuzz(name)
