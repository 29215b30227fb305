"""docs/formats/dcc.md and shc.md: their worked examples are what the verifier prints."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from borderpass.worldcodes import dcc, shc
from tests.conftest import Command
from tests.worldcodes.cases import SHC_ISSUERS, dcc_cases, shc_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats"


def _example(page: str) -> str:
    text = (DOCS / page).read_text(encoding="utf-8")
    worked = text[text.index("## Worked example"):]
    match = re.search(r"```json\n(.*?)\n```", worked, re.S)
    assert match is not None
    return match.group(1)


def _steps(page: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(r"^\| `([a-z0-9_]+)` \|", text, re.M)


def test_the_pages_name_the_steps_in_order() -> None:
    assert _steps("dcc.md") == list(dcc.STEPS)
    assert _steps("shc.md") == list(shc.STEPS)


def test_the_dcc_worked_example(tmp_path: Path) -> None:
    case = next(case for case in dcc_cases() if case.name == "AT/2DCode/raw/1.json")
    pem = tmp_path / "at-dsc.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n" + case.raw["TESTCTX"]["CERTIFICATE"]
                   + "\n-----END CERTIFICATE-----\n")
    assert base64.b64decode(case.raw["TESTCTX"]["CERTIFICATE"])
    printed = Command()("verify", case.text, "--certificate", str(pem), "--at",
                        "2021-05-06T18:00:00Z", "--json")
    assert printed.exit_code == 0, printed.stderr
    shown = json.loads(printed.stdout)
    assert json.dumps(shown, indent=2, ensure_ascii=False) == _example("dcc.md")


def test_the_shc_worked_example() -> None:
    printed = Command()("verify", shc_text("01"), "--issuers", str(SHC_ISSUERS), "--at",
                        "2026-11-30T00:00:00Z", "--json")
    assert printed.exit_code == 0, printed.stderr
    shown = json.loads(printed.stdout)
    assert json.dumps(shown, indent=2, ensure_ascii=False) == _example("shc.md")
