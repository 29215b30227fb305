"""Bounded fuzzing in CI (tests/fuzz/bounded.py) of venue codes, exposure lists, uploads."""

from __future__ import annotations

import pytest

from tests.fuzz.bounded import fuzz


@pytest.mark.parametrize("name", [
    "venue-qr-bpv1", "venue-qr-hken", "exposure-list", "upload-bundle",
])
def test_only_the_decoders_own_error_escapes_and_nothing_changed_is_accepted(name: str) -> None:
    fuzz(name)
