"""The demo residents through the command line: issue, export the lists, verify offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "borderpass", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_demo_codes_verify_green_and_red(tmp_path: Path) -> None:
    env = {**os.environ, "BORDERPASS_VAR_DIR": str(tmp_path),
           "BORDERPASS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    for args in (("db", "upgrade"), ("demo",)):
        assert _run(env, *args).returncode == 0
    green = _run(env, "code", "issue", "hkid", "A123456(3)")
    red = _run(env, "code", "issue", "hkid", "Z437626(A)")
    assert green.returncode == 0 and red.returncode == 0, green.stderr + red.stderr
    everyone = _run(env, "code", "reevaluate-all", "--batch", "2", "--workers", "1")
    assert everyone.returncode == 0, everyone.stderr
    assert "people re-evaluated" in everyone.stdout and "people/s" in everyone.stdout
    assert " 0 red" not in everyone.stdout
    # Worker processes read and evaluate; the colours are the same.
    parallel = _run(env, "code", "reevaluate-all", "--batch", "2", "--workers", "2")
    assert parallel.returncode == 0, parallel.stderr
    assert parallel.stdout.split(": ", 1)[1] == everyone.stdout.split(": ", 1)[1]
    lists = tmp_path / "trust.json"
    assert _run(env, "trust-list", "export", str(lists)).returncode == 0

    # The verifier needs no database: point it at one that does not exist.
    offline = {**env, "BORDERPASS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    checked = _run(offline, "verify", green.stdout.strip(), "--trust-list", str(lists), "--json")
    assert checked.returncode == 0, checked.stderr
    verdict = json.loads(checked.stdout)
    assert verdict["valid"] is True and verdict["colour"] == "green" and verdict["error"] is None
    assert verdict["holder"]["initials"] == "CTM"

    checked = _run(offline, "verify", red.stdout.strip(), "--trust-list", str(lists), "--json")
    assert checked.returncode == 1
    verdict = json.loads(checked.stdout)
    assert verdict["valid"] is True and verdict["colour"] == "red"

    garbage = _run(offline, "verify", "BPHC1:NOT-A-CODE", "--trust-list", str(lists), "--json")
    assert garbage.returncode == 1
    assert json.loads(garbage.stdout)["error"] == "bad_base45"
    assert "Traceback" not in garbage.stderr
