"""Rule sets loaded and listed through the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Command
from tests.rules.test_rule_sets import _bad_rule, _document


def test_rules_load_command(
    tmp_path: Path, cli: Command, own_settings: Callable[[Path, str], None]
) -> None:
    own_settings(tmp_path, f"sqlite:///{tmp_path / 'rules.sqlite3'}")
    assert cli("db", "upgrade").exit_code == 0
    first = tmp_path / "first.json"
    first.write_text(json.dumps(_document("1.1.0")))
    second = tmp_path / "second.json"
    second.write_text(json.dumps(_document("1.2.0")))
    loaded = cli("rules", "load", str(first))
    assert loaded.exit_code == 0 and "loaded HK-HEALTH-CODE 1.1.0 (active)" in loaded.stdout
    loaded = cli("rules", "load", str(second), "--no-activate")
    assert loaded.exit_code == 0 and "1.2.0 (inactive)" in loaded.stdout
    listed = cli("rules", "list").stdout.splitlines()
    assert [line.split()[2:4] for line in listed] == [["1.1.0", "active"], ["1.2.0", "-"]]

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_bad_rule(Logic={"or": [True]})))
    refused = cli("rules", "load", str(bad))
    assert refused.exit_code == 1 and "Traceback" not in refused.stderr
    assert "invalid_rule_set" in refused.stderr and "Rules.0.Logic" in refused.stderr
    again = cli("rules", "load", str(first))
    assert again.exit_code == 1 and "rule_set_exists" in again.stderr
    assert cli("rules", "load", str(tmp_path / "none.json")).exit_code == 2
    assert len(cli("rules", "list").stdout.splitlines()) == 2
