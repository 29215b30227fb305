"""The check-in commands: `venue parse`, `checkin purge` and the phone's own `phone …`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.checkin.conftest import LEGACY_CODE
from tests.checkin.test_qr import _with_hash_char_changed
from tests.conftest import Command


def test_venue_parse_command(make_venue: Any, cli: Command) -> None:
    result = cli("venue", "parse", LEGACY_CODE, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "format": "legacy", "venue_id": "WHBvLDSa", "name_zh": "荃新天地", "name_en": "CityWalk",
        "type": "IMPORT", "type_en": "Stores/Shopping Malls", "type_zh": "商店/商場"}
    bad = cli("venue", "parse", _with_hash_char_changed(LEGACY_CODE), "--json")
    assert bad.exit_code == 1
    assert "invalid_venue_code" in bad.stderr and "hash" in bad.stderr
    venue, text = make_venue()
    ours = cli("venue", "parse", text, "--json")
    assert ours.exit_code == 0, ours.output
    data = json.loads(ours.stdout)
    assert data["format"] == "signed" and data["venue_id"] == venue.code
    assert "secret" not in ours.stdout and "s" not in data


def test_purge_command(cli: Command) -> None:
    result = cli("checkin", "purge")
    assert result.exit_code == 0 and "deleted" in result.stdout


def test_the_phone_command(make_venue: Any, tmp_path: Path, cli: Command) -> None:
    _venue, code = make_venue()
    store = str(tmp_path / "cli-phone.sqlite3")

    def run(*args: str, input: str | None = None) -> Any:
        return cli("phone", "--store", store, "--now", "2026-11-26T10:00", *args, input=input)

    assert run("checkin", code).exit_code == 0
    taxi = run("checkin", "--taxi", "XY99")
    assert taxi.exit_code == 0 and "Taxi XY99" in taxi.stdout
    assert run("checkin", "--taxi", "XY0").exit_code == 1
    assert run("checkin", "HKEN:nonsense").exit_code == 1
    listed = run("list")
    assert "Golden Dragon Restaurant" in listed.stdout and "Taxi XY99" in listed.stdout
    assert "Taxi XY99" in run("checkout").stdout
    assert "no active check-in" in run("checkout").stdout
    exported = json.loads(run("export").stdout)
    assert len(exported["checkins"]) == 2
    assert run("bookmark", LEGACY_CODE).exit_code == 0
    assert "WHBvLDSa" in run("bookmarks").stdout
    assert "deleted 0" in run("purge").stdout
    refused = run("upload", "--server", "http://127.0.0.1:9", "--token", "x", input="n\n")
    assert refused.exit_code == 1 and "nothing was sent" in refused.output
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM checkins").fetchone() == (2,)


def test_phone_help_works_without_a_store_and_times_are_hong_kong_times(
        make_venue: Any, tmp_path: Path, cli: Command) -> None:
    for args in (("phone", "--help"), ("phone", "checkin", "--help"),
                 ("phone", "list", "--help")):
        shown = cli(*args)
        assert shown.exit_code == 0, (args, shown.output)
        assert "Usage:" in shown.stdout
    missing = cli("phone", "list")
    assert missing.exit_code == 2 and "--store" in missing.stderr

    _venue, code = make_venue()
    store = str(tmp_path / "hk-phone.sqlite3")
    # 10:00 in Hong Kong is 02:00 UTC; a check-in leaves by itself 4 hours later.
    done = cli("phone", "--store", store, "--now", "2026-11-26T10:00:00+08:00", "checkin", code)
    assert done.exit_code == 0, done.output
    assert "2026-11-26T10:00:00+08:00  active until 2026-11-26T14:00:00+08:00" in done.stdout
    assert "+00:00" not in done.stdout
    left = cli("phone", "--store", store, "--now", "2026-11-26T11:30:00+08:00", "checkout")
    assert "2026-11-26T10:00:00+08:00  left 2026-11-26T11:30:00+08:00" in left.stdout
