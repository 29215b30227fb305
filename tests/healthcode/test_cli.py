"""The demo residents through the command line: issue, export the lists, verify offline."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Command


def test_demo_codes_verify_green_and_red(
    tmp_path: Path, cli: Command, own_settings: Callable[[Path, str], None]
) -> None:
    own_settings(tmp_path, f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    for args in (("db", "upgrade"), ("demo",)):
        assert cli(*args).exit_code == 0
    green = cli("code", "issue", "hkid", "A123456(3)")
    red = cli("code", "issue", "hkid", "Z437626(A)")
    assert green.exit_code == 0 and red.exit_code == 0, green.stderr + red.stderr
    everyone = cli("code", "reevaluate-all", "--batch", "2", "--workers", "1")
    assert everyone.exit_code == 0, everyone.stderr
    assert "people re-evaluated" in everyone.stdout and "people/s" in everyone.stdout
    assert " 0 red" not in everyone.stdout
    # Worker processes read and evaluate; the colours are the same.
    parallel = cli("code", "reevaluate-all", "--batch", "2", "--workers", "2")
    assert parallel.exit_code == 0, parallel.stderr
    assert parallel.stdout.split(": ", 1)[1] == everyone.stdout.split(": ", 1)[1]
    lists = tmp_path / "trust.json"
    assert cli("trust-list", "export", str(lists)).exit_code == 0

    # The verifier needs no database: point it at one that does not exist.
    offline = {"BORDERPASS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    checked = cli("verify", green.stdout.strip(), "--trust-list", str(lists), "--json",
                  env=offline)
    assert checked.exit_code == 0, checked.stderr
    verdict = json.loads(checked.stdout)
    assert verdict["valid"] is True and verdict["colour"] == "green" and verdict["error"] is None
    assert verdict["holder"]["initials"] == "CTM"

    checked = cli("verify", red.stdout.strip(), "--trust-list", str(lists), "--json", env=offline)
    assert checked.exit_code == 1
    verdict = json.loads(checked.stdout)
    assert verdict["valid"] is True and verdict["colour"] == "red"

    # A code that is not one is an answer, not a crash (an exception would fail the test).
    garbage = cli("verify", "BPHC1:NOT-A-CODE", "--trust-list", str(lists), "--json",
                  env=offline)
    assert garbage.exit_code == 1
    assert json.loads(garbage.stdout)["error"] == "bad_base45"
    assert "Traceback" not in garbage.stderr


def test_keys_rotate(
    tmp_path: Path, cli: Command, own_settings: Callable[[Path, str], None]
) -> None:
    own_settings(tmp_path, f"sqlite:///{tmp_path / 'none.sqlite3'}")  # no database needed
    first, second = cli("keys", "rotate"), cli("keys", "rotate")
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr + second.stderr
    assert first.stdout.strip() and first.stdout != second.stdout
    assert not (tmp_path / "none.sqlite3").exists()
