"""Display names for the codes in foreign certificates (``data/valuesets.json``)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

__all__ = ["display", "value_sets"]

_FILE = Path(__file__).with_name("data") / "valuesets.json"


@cache
def _sets() -> dict[str, dict[str, str]]:
    loaded = json.loads(_FILE.read_text(encoding="utf-8"))
    return {name: values for name, values in loaded.items() if isinstance(values, dict)}


def value_sets() -> dict[str, dict[str, str]]:
    """Return every value set: the English display name of each code, by value set name."""
    return {name: dict(values) for name, values in _sets().items()}


def display(value_set: str, code: object) -> str | None:
    """Return the English name of ``code`` in a value set, or the code itself if unknown.

    Returns None for no code (None or not a string).
    """
    if not isinstance(code, str) or not code:
        return None
    return _sets().get(value_set, {}).get(code, code)


# Our value sets by the EU gateway's value set identifiers, as business rules name them
# in ``external.valueSets``.
_EU_IDS = {
    "disease": "disease-agent-targeted", "vaccine": "sct-vaccines-covid-19",
    "product": "vaccines-covid-19-names", "manufacturer": "vaccines-covid-19-auth-holders",
    "test_type": "covid-19-lab-test-type", "test_result": "covid-19-lab-result",
}


def eu_value_sets() -> dict[str, list[str]]:
    """Return the codes of each value set under its EU identifier, for business rules."""
    return {eu: sorted(_sets().get(ours, {})) for ours, eu in _EU_IDS.items()}
