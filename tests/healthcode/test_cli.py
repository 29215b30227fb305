"""The demo residents through the command line: issue, export the lists, verify offline."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

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
                  "--trust-on-first-use", env=offline)
    assert checked.exit_code == 0, checked.stderr
    assert "trusting anchor" in checked.stderr
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


def _lists_signed_in(folder: Path, out: Path, patch: pytest.MonkeyPatch) -> str:
    """Write a trust list signed by the anchor kept in ``folder``; return the anchor's id."""
    from borderpass.healthcode import service as healthcode
    from tests.conftest import NOW, _forget_settings

    patch.setenv("BORDERPASS_KEY_DIR", str(folder))
    _forget_settings()
    try:
        envelope = healthcode.trust_list(now=NOW)
    finally:
        patch.delenv("BORDERPASS_KEY_DIR")
        _forget_settings()
    out.write_text(json.dumps({"trust_list": envelope}))
    return envelope["kid"]


def test_verify_pins_the_anchor_of_each_jurisdiction(
    tmp_path: Path, cli: Command, own_settings: Callable[[Path, str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own_settings(tmp_path, f"sqlite:///{tmp_path / 'none.sqlite3'}")  # no database needed
    ours = tmp_path / "ours.json"
    forged = tmp_path / "forged.json"
    kid = _lists_signed_in(tmp_path / "keys-ours", ours, monkeypatch)
    other = _lists_signed_in(tmp_path / "keys-other", forged, monkeypatch)
    assert kid != other
    anchors = tmp_path / "anchors.json"
    code = "BPHC1:NOT-A-CODE"  # the list is judged before the code: a bad code says it passed

    def verify(lists: Path, *extra: str) -> tuple[int, str, str]:
        result = cli("verify", code, "--trust-list", str(lists), "--json", *extra)
        return result.exit_code, json.loads(result.stdout)["error"], result.stderr

    # Never seen: a warning, a refusal, and nothing remembered.
    status, reason, said = verify(ours)
    assert (status, reason) == (1, "unknown_anchor")
    assert "not seen before" in said and f"--anchor {kid}" in said
    assert "--trust-on-first-use" in said
    assert not anchors.exists()

    # Trusted on first use: remembered (owner-only), then accepted without the flag.
    status, reason, said = verify(ours, "--trust-on-first-use")
    assert reason == "bad_base45" and "trusting anchor" in said
    assert json.loads(anchors.read_text()) == {"HK": kid}
    assert stat.S_IMODE(anchors.stat().st_mode) == 0o600
    assert verify(ours)[1] == "bad_base45"

    # A list for the same jurisdiction signed by another key: refused, even on first use.
    for extra in ((), ("--trust-on-first-use",)):
        status, reason, said = verify(forged, *extra)
        assert (status, reason) == (1, "anchor_changed"), extra
        assert f"pinned {kid}" in said and f"--anchor {other}" in said
    assert json.loads(anchors.read_text()) == {"HK": kid}

    # A pinned anchor refuses a list it did not sign; naming the new one moves the pin.
    assert verify(forged, "--anchor", kid)[1] == "wrong_anchor"
    assert verify(forged, "--anchor", other.upper())[1] == "bad_base45"
    assert json.loads(anchors.read_text()) == {"HK": other}
    assert verify(ours)[1] == "anchor_changed"

    bad = cli("verify", code, "--trust-list", str(ours), "--anchor", "not-hex")
    assert bad.exit_code == 2 and "--anchor is not a key id" in bad.stderr
    anchors.write_text("[1, 2]")
    status, reason, said = verify(ours)
    assert (status, reason) == (1, "anchors_unreadable") and "anchors.json" in said
