"""The ``borderpass`` command as a whole: the installed entry point starts (once, in a
process of its own), and every command the documentation names is there."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Command

ROOT = Path(__file__).resolve().parent.parent
GROUPS = ["db", "ids", "ingest", "sources", "staff", "outbox", "sessions", "registrations", "card",
          "gates", "code", "rules", "trust-list", "keys", "permits", "venue", "checkin",
          "phone"]


def test_the_installed_command_starts() -> None:
    command = Path(sys.executable).with_name("borderpass")
    assert command.is_file(), "the package is installed with its `borderpass` script"
    shown = subprocess.run([str(command), "--help"], capture_output=True, text=True,
                           timeout=120, check=False)
    assert shown.returncode == 0, shown.stderr
    for name in ["serve", "demo", "verify", *GROUPS]:
        assert re.search(rf"^\W*{re.escape(name)}\s", shown.stdout, re.MULTILINE), name
    checked = subprocess.run([str(command), "ids", "check", "hkid", "a1234563"],
                             capture_output=True, text=True, timeout=120, check=False)
    assert (checked.returncode, checked.stdout) == (0, "A123456(3)\n"), checked.stderr


def _documented() -> list[tuple[str, ...]]:
    """Return each ``borderpass …`` command written in the README and docs/ (code only)."""
    found: set[tuple[str, ...]] = set()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        code = re.findall(r"`([^`]*)`", text) + re.findall(r"^    .*$", text, re.MULTILINE)
        for span in code:
            for match in re.finditer(r"(?<![(\w])borderpass((?: [a-z][a-z|-]*){1,2})", span):
                first, *rest = match.group(1).split()  # `permits office|slots`: each
                choices = rest[0].split("|") if rest else []
                found.update([(first, choice) for choice in choices] or [(first,)])
    return sorted(found)


DOCUMENTED = _documented()


def test_the_documentation_names_commands() -> None:
    assert ("ids", "check") in DOCUMENTED and ("verify",) in DOCUMENTED
    assert len(DOCUMENTED) > 30


@pytest.mark.parametrize("words", DOCUMENTED, ids=" ".join)
def test_each_documented_command_is_there(cli: Command, words: tuple[str, ...]) -> None:
    shown = cli(*words, "--help")
    assert shown.exit_code == 0, shown.output
    assert "Usage:" in shown.stdout


def test_a_group_without_a_command_shows_its_help(cli: Command) -> None:
    for name in GROUPS:
        shown = cli(name)
        assert "Usage:" in shown.output and shown.exit_code in (0, 2), name
