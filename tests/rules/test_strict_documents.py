"""A rule-set document Python's JSON reader chokes on, or takes too readily, is a 422."""

from __future__ import annotations

import json
from typing import Any

import pytest

from borderpass.rules.ruleset import default_document


def _with_value(path: tuple[Any, ...], raw: str) -> bytes:
    """The packaged rule set with the value at ``path`` written as the raw JSON ``raw``."""
    document = json.loads(default_document())
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = "\x00mark\x00"
    return json.dumps(document).replace(json.dumps("\x00mark\x00"), raw, 1).encode()


@pytest.mark.parametrize(("content", "named"), [
    (b"[" * 5000 + b"]" * 5000, "nest deeper"),
    (_with_value(("Rules", 0, "Logic"), "[" * 300 + "]" * 300), "nest deeper"),
    (_with_value(("Rules", 0, "Version"), "1" * 5000), "more than 30 digits"),
    (_with_value(("Rules", 0, "Logic"), "1e400"), "out of range"),
    (_with_value(("Rules", 0, "Logic"), "NaN"), "NaN is not JSON"),
    (_with_value(("Rules", 0, "Identifier"), '"\\ud800"'), "lone surrogate"),
])
def test_json_python_cannot_read_is_a_422(
    client: Any, staff_token: Any, content: bytes, named: str
) -> None:
    _officer, token = staff_token("health_officer")
    response = client.post("/api/rule-sets", content=content,
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_rule_set" and named in error["message"]
