"""`borderpass cross`: journey 5 at the command line, on a demo database of its own.

`cross decide` gives the three outcomes for the demo travellers, each with its reasons, in
the three languages; it exits 0 when the traveller may cross and 1 when refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Command
from tests.crossing.conftest import CHAN, ENDORSEMENT, LEE, LI

Settings = Callable[[Path, str], None]


def run(cli: Command, *args: str, code: int = 0) -> Any:
    done = cli(*args)
    assert done.exit_code == code, (done.stdout, done.stderr)
    return done


@pytest.fixture()
def demo_cli(tmp_path: Path, cli: Command, own_settings: Settings) -> tuple[Command, str]:
    """The command line on a database of its own with the demo loaded; its endorsement."""
    var = tmp_path / "var"
    own_settings(var, f"sqlite:///{var / 'crossing.sqlite3'}")
    run(cli, "db", "upgrade")
    shown = run(cli, "demo").stdout
    found = ENDORSEMENT.search(shown)
    assert found is not None, shown
    assert "booked a quarantine-free place at Lo Wu today" in shown
    return cli, found.group(1)


def decide(cli: Command, document: tuple[str, str], language: str, *extra: str,
           code: int) -> dict[str, Any]:
    text = run(cli, "code", "issue", *document).stdout.strip().splitlines()[-1]
    done = run(cli, "cross", "decide", "--control-point", "LWU", "--direction", "south",
               "--document", *document, "--code", text, "--json", "--language", language,
               *extra, code=code)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


MESSAGES = {
    "zh_Hant": ("健康碼為綠碼。", "健康碼不是綠碼", "免檢疫安排只適用於香港居民", "竹篙灣檢疫中心"),
    "zh_Hans": ("健康码为绿码。", "健康码不是绿码", "免检疫安排只适用于香港居民", "竹篙湾检疫中心"),
    "en": ("The health code is green.", "The health code is not green",
           "The quarantine-free arrangement is for Hong Kong residents",
           "Penny's Bay Quarantine Centre"),
}


@pytest.mark.parametrize("language", ["zh_Hant", "zh_Hans", "en"])
def test_the_three_outcomes_for_the_demo_travellers(demo_cli: tuple[Command, str],
                                                    language: str) -> None:
    cli, endorsement = demo_cli
    green, not_green, residents_only, place = MESSAGES[language]

    chan = decide(cli, CHAN, language, code=0)
    assert (chan["outcome"], chan["may_cross"], chan["language"]) == (
        "quarantine_free", True, language)
    assert [r["code"] for r in chan["reasons"]] == [
        "code_valid", "code_holders", "code_recognised", "code_green", "checkin_14_days",
        "vaccinated", "quota_booked", "hong_kong_resident"]
    assert green in [r["message"] for r in chan["reasons"]]
    assert re.fullmatch(r"QF[0-9A-Z]{8}", chan["booking"])

    lee = decide(cli, LEE, language, code=1)
    assert (lee["outcome"], lee["may_cross"]) == ("refused", False)
    assert [r["code"] for r in lee["reasons"]] == ["code_not_green", "checkin_days_short",
                                                   "not_vaccinated"]
    assert lee["reasons"][0]["message"].startswith(not_green)
    assert lee["code"]["colour"] == "red"

    li = decide(cli, LI, language, "--endorsement", endorsement, code=0)
    assert (li["outcome"], li["may_cross"]) == ("quarantine", True)
    assert [r["code"] for r in li["reasons"]] == ["quarantine_free_for_residents"]
    assert li["reasons"][0]["message"].startswith(residents_only)
    assert (li["quarantine"]["days"], li["quarantine"]["place_name"]) == (14, place)
    assert li["endorsement"]["number"] == endorsement
    assert li["policy"] == "HK-CROSSING@1.0.0"


def test_the_plain_output_and_the_refusals(demo_cli: tuple[Command, str]) -> None:
    cli, endorsement = demo_cli
    text = run(cli, "code", "issue", *LI).stdout.strip()
    done = run(cli, "cross", "decide", "--control-point", "lwu", "--direction", "south",
               "--document", *LI, "--code", text, code=1)
    assert done.stdout.startswith("refused: Lo Wu (LWU) south, policy HK-CROSSING@1.0.0")
    assert "  no_endorsement: A mainland resident needs an endorsement" in done.stdout
    admitted = run(cli, "cross", "decide", "--control-point", "LWU", "--direction", "south",
                   "--document", *LI, "--code", text, "--endorsement", endorsement,
                   "--language", "zh_Hant", "--officer", "border")
    assert admitted.stdout.startswith("quarantine: 羅湖 (LWU) south")
    assert "  quarantine: 竹篙灣檢疫中心 (PBH), 14 days, until " in admitted.stdout
    unknown = run(cli, "cross", "decide", "--control-point", "XYZ", "--direction", "south",
                  "--document", *LI, "--code", text, code=1)
    assert "control_point_not_found: There is no control point XYZ." in unknown.stderr
    wrong = run(cli, "cross", "decide", "--control-point", "LWU", "--direction", "east",
                "--document", *LI, "--code", text, code=2)
    assert "direction" in wrong.stderr
    late = run(cli, "cross", "decide", "--control-point", "LWU", "--direction", "south",
               "--document", *LI, "--code", text, "--at", "tomorrow", code=2)
    assert "--at is not an ISO-8601 instant" in late.stderr
    bad = run(cli, "cross", "decide", "--control-point", "LWU", "--direction", "south",
              "--document", "hkid", "A123456(4)", "--code", text, code=1)
    assert "invalid_document_number" in bad.stderr


def test_quota_policy_and_control_point_commands(demo_cli: tuple[Command, str],
                                                 tmp_path: Path) -> None:
    cli, _endorsement = demo_cli
    points = run(cli, "cross", "control-points", "list").stdout.splitlines()
    assert points[0] == "AIR 香港國際機場 / 香港国际机场 / Hong Kong International Airport"
    assert len(points) == 5
    assert "every packaged control point is open" in run(cli, "cross", "control-points",
                                                         "init").stdout
    shown = run(cli, "cross", "quota", "show", "LWU").stdout.splitlines()
    assert len(shown) == 7 and shown[0].endswith("LWU: 49 free of 50 (1 booked)")
    set_ = run(cli, "cross", "quota", "set", "SBC", "--places", "80", "--days", "2").stdout
    assert set_.count("80 places, 0 booked") == 2
    refused = run(cli, "cross", "quota", "set", "SBC", "--places", "5", "--day", "2001-01-01",
                  code=1)
    assert "Places cannot be set for a past day." in refused.stderr
    assert "closed 0 booking(s)" in run(cli, "cross", "quota", "close-days").stdout

    assert "no policy loaded" in run(cli, "cross", "policy", "list").stdout
    policy = run(cli, "cross", "policy", "show", "--language", "zh_Hans").stdout
    assert policy.startswith("HK-CROSSING@1.0.0: 香港与内地及澳门之间的通关安排")
    assert "XS-QUOTA [quarantine if not met] 已预约今天在此口岸的免检疫名额。" in policy
    shown_json = json.loads(run(cli, "cross", "policy", "show", "--json").stdout)
    assert shown_json["crossings"][0]["direction"] == "south"
    document = tmp_path / "policy.json"
    from borderpass.crossing.policy import default_document

    text = json.loads(default_document())
    text["Version"] = "1.0.1"
    document.write_text(json.dumps(text))
    assert run(cli, "cross", "policy", "load", str(document), "--no-activate").stdout.strip() \
        == "loaded HK-CROSSING 1.0.1 (inactive)"
    listed = run(cli, "cross", "policy", "list").stdout.split()
    assert run(cli, "cross", "policy", "activate", listed[0]).stdout.strip() == \
        "HK-CROSSING 1.0.1 is in force"
    document.write_text("{broken")
    broken = run(cli, "cross", "policy", "load", str(document), code=1)
    assert "invalid_crossing_policy" in broken.stderr
