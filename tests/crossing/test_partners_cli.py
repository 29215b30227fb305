"""The federation's commands in this process: `keys anchor`, `partners add|list|sync|remove`,
`code convert` refusing, and `borderpass verify` accepting a partner's code from an
exported file and saying whose it is. The exchange between two served instances is
tests/crossing/test_federation.py."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from borderpass.crossing import conversion
from borderpass.crossing import partners as federation
from borderpass.healthcode import service as healthcode
from borderpass.kit.clock import utcnow
from borderpass.kit.db import unit_of_work
from tests.conftest import Command
from tests.crossing.fake_partner import FakePartner


def test_partner_commands(tmp_path: Path, cli: Command,
                          own_settings: Callable[[Path, str], None]) -> None:
    own_settings(tmp_path, f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    assert cli("db", "upgrade").exit_code == 0
    anchor = cli("keys", "anchor")
    assert anchor.exit_code == 0 and re.fullmatch(r"[0-9a-f]{16}", anchor.stdout.splitlines()[-1])
    assert cli("keys", "anchor").stdout == anchor.stdout  # the same key, not a new one

    added = cli("partners", "add", "gd", "http://127.0.0.1:9/", "--anchor", "AB" * 8)
    assert added.exit_code == 0, added.stderr
    assert added.stdout.strip() == \
        "partner GD at http://127.0.0.1:9, anchor abababababababab pinned"
    again = cli("partners", "add", "GD", "http://127.0.0.1:9", "--anchor", "ab" * 8)
    assert again.exit_code == 1 and again.stderr.startswith("partner_exists:")
    bad = cli("partners", "add", "MO", "http://127.0.0.1:9", "--anchor", "12345")
    assert bad.exit_code == 1 and bad.stderr.startswith("invalid_partner:")
    assert "16 hexadecimal digits" in bad.stderr
    assert cli("partners", "list").stdout.strip() == (
        "GD http://127.0.0.1:9 anchor abababababababab: never synced; no lists held")

    # Nothing listens on port 9: the sync says so and exits 1, and the failure is kept.
    synced = cli("partners", "sync")
    assert synced.exit_code == 1 and synced.stderr.startswith("GD: unreachable: ")
    [shown] = json.loads(cli("partners", "list", "--json").stdout)
    assert (shown["last_result"], shown["last_success_at"], shown["lists"]) == \
        ("unreachable", None, None)

    garbage = cli("code", "convert", "BPHC1:NOT-A-CODE")
    assert garbage.exit_code == 1 and garbage.stderr.startswith("not_a_code:")
    assert cli("code", "convert", "BPHC1:x", "--at", "tomorrow").exit_code == 2
    assert cli("partners", "remove", "GD").exit_code == 0
    gone = cli("partners", "remove", "GD")
    assert gone.exit_code == 1 and gone.stderr.startswith("partner_not_found:")
    assert cli("partners", "list").stdout.strip() == "no partners"


def test_verify_accepts_a_partners_code_from_the_exported_file(
    tmp_path: Path, cli: Command, own_settings: Callable[[Path, str], None],
    session: Session, factory: sessionmaker[Session],
) -> None:
    now = utcnow()
    gd = FakePartner()
    federation.add_partner(session, "GD", gd.url, gd.kid, now=now)
    federation.sync(lambda: unit_of_work(factory), now=now, get=gd.getter(now))
    green, _hash = gd.code(now)
    converted = conversion.convert(session, green, now=now)
    lists = tmp_path / "lists.json"
    bundle = healthcode.export(session, now=now)
    lists.write_text(json.dumps(bundle))
    kid = bundle["trust_list"]["kid"]

    own_settings(tmp_path, f"sqlite:///{tmp_path / 'none.sqlite3'}")  # no database needed
    checked = cli("verify", green, "--trust-list", str(lists), "--anchor", kid)
    assert checked.exit_code == 0, checked.stderr
    assert checked.stdout.startswith("valid: ok; colour green; issuer GD; holder CTM A1*****(3)")
    ours = cli("verify", converted.text, "--trust-list", str(lists), "--json")
    assert ours.exit_code == 0, ours.stderr
    verdict = json.loads(ours.stdout)
    assert (verdict["issuer"], verdict["original"]["issuer"]) == ("HK", "GD")
    text = cli("verify", converted.text, "--trust-list", str(lists)).stdout
    assert "issuer HK (converted from a GD code)" in text
    # Times are shown in Hong Kong time with its offset, as on the site, not in UTC.
    assert re.search(r"valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$", text.strip()), text
    # A day later the partner's revocation list in the file is too old to rely on.
    late = cli("verify", green, "--trust-list", str(lists), "--json",
               "--at", (now + timedelta(hours=25)).isoformat())
    assert json.loads(late.stdout)["error"] in {"expired", "revocation_list_stale"}
    assert late.exit_code == 1
