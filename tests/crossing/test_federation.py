"""Two instances, Hong Kong and Guangdong, each served as the README says (``borderpass
serve`` in a subprocess, its own folder, keys, port and database: SQLite, or a fresh
PostgreSQL database when the suite runs on PostgreSQL), exchange their signed lists over
HTTP; a third, Macau, is no partner of Guangdong's and is not served.

- CHAN Tai Man's green Hong Kong code converts to a Guangdong code that Guangdong's
  verifier accepts as green, naming the original; Guangdong's verifier accepts her Hong
  Kong code too and says it is Hong Kong's.
- LEE Siu Ming's red code is refused with ``not_green``; a Macau code with
  ``unknown_partner``.
- After Hong Kong revokes CHAN's code (a positive test arrives) and Guangdong syncs, her
  Guangdong code verifies as revoked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.crossing.instances import (
    Instance,
    convert_api,
    resident_code,
    serving,
    together,
)
from tests.web.served import call, page_cookie, staff_token

pytestmark = pytest.mark.slow

CHAN, LEE = "A123456(3)", "Z437626(A)"


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Instance]]:
    # Macau is not served: only a code of its is needed.
    with serving(tmp_path_factory.mktemp("federation"), "HK", "GD", unserved=("MO",)) as made:
        yield made


def test_two_instances_recognise_each_other_convert_and_revoke(
    instances: dict[str, Instance],
) -> None:
    hk, gd, mo = instances["HK"], instances["GD"], instances["MO"]
    # Each side pins the other's anchor, read out of band (here: its command line).
    hk_anchor, gd_anchor, mo_lines = together(lambda: hk.ok("keys", "anchor")[-1],
                                              lambda: gd.ok("keys", "anchor")[-1],
                                              lambda: mo.ok("code", "issue", "hkid", CHAN))
    mo_code = mo_lines[-1]
    assert len(hk_anchor) == 16 and hk_anchor != gd_anchor
    together(lambda: gd.ok("partners", "add", "HK", hk.url, "--anchor", hk_anchor),
             lambda: hk.ok("partners", "add", "GD", gd.url, "--anchor", gd_anchor))
    gd_synced, hk_synced = together(lambda: gd.ok("partners", "sync"),
                                    lambda: hk.ok("partners", "sync"))
    assert gd_synced[-1].startswith("HK: ok, 1 key(s), 0 revoked"), gd_synced
    assert hk_synced[-1].startswith("GD: ok"), hk_synced
    border = staff_token(gd.server.port, "border")
    listed = call(gd.server.port, "GET", "/api/partners",
                  headers={"Authorization": f"Bearer {border}"}).json()
    assert [(p["jurisdiction"], p["anchor"], p["last_result"]) for p in listed] == \
        [("HK", hk_anchor, "ok")]

    chan_hk, lee_hk = (resident_code(hk, number) for number in (CHAN, LEE))

    # CHAN's green code converts; LEE's red code and Macau's code are refused.
    converted, lee, stranger = together(lambda: gd.run("code", "convert", chan_hk),
                                        lambda: gd.run("code", "convert", lee_hk),
                                        lambda: gd.run("code", "convert", mo_code))
    assert converted.returncode == 0, converted.stderr
    lines = converted.stdout.splitlines()
    assert lines[0].startswith("converted HK code of CTM A1*****(3): green, valid until")
    chan_gd = lines[-1]
    assert chan_gd.startswith("BPHC1:") and chan_gd != chan_hk
    assert lee.returncode == 1 and lee.stderr.startswith("not_green:"), lee.stderr
    assert stranger.returncode == 1 and stranger.stderr.startswith("unknown_partner:"), \
        stranger.stderr

    # Guangdong's verifier accepts the new code as green, and names the original.
    verdict = gd.verify(chan_gd)
    assert (verdict["valid"], verdict["colour"], verdict["issuer"]) == (True, "green", "GD")
    assert verdict["holder"] == {"initials": "CTM", "document": "A1*****(3)",
                                 "document_kind": "hkid"}
    original = verdict["original"]
    assert isinstance(original, dict) and original["issuer"] == "HK"
    until = datetime.fromisoformat(str(verdict["valid_until"]).replace("Z", "+00:00"))
    assert until <= datetime.fromisoformat(
        str(hk.verify(chan_hk)["valid_until"]).replace("Z", "+00:00"))
    # Guangdong's officers accept her Hong Kong code itself, and say whose it is.
    direct = gd.verify(chan_hk)
    assert (direct["valid"], direct["issuer"], direct["original"]) == (True, "HK", None)
    own = convert_api(gd, chan_gd)
    assert (own.status, own.error_code()) == (422, "own_code")

    # Hong Kong's code page links to Guangdong's conversion page, which answers.
    page = call(hk.server.port, "GET", "/code",
                headers={"Cookie": page_cookie(hk.server.port, CHAN)})
    assert f'href="{gd.url}/convert#code=BPHC1%3A'.encode() in page.body
    assert call(gd.server.port, "GET", "/convert").status == 200

    # Hong Kong revokes CHAN's code: a positive test arrives from its laboratory.
    collected = datetime.now(UTC) - timedelta(hours=1)
    batch = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,"
             f"result,lab\nFED-POSITIVE,hkid,{CHAN},{collected.isoformat()},"
             f"{datetime.now(UTC).isoformat()},PCR,positive,Demo Laboratory\n")
    sent = call(hk.server.port, "POST", "/api/evidence/tests", body=batch.encode(),
                headers={"Content-Type": "text/csv", "X-API-Key": hk.server.keys["lab"]})
    assert sent.status == 200, sent.body
    assert hk.verify(chan_hk)["error"] == "revoked"
    assert gd.verify(chan_gd)["valid"] is True  # Guangdong has not synced since
    synced = gd.ok("partners", "sync")[-1]
    assert synced.startswith("HK: ok, 1 key(s), 1 revoked"), synced
    assert "1 converted code(s) revoked" in synced
    after = gd.verify(chan_gd)
    assert (after["valid"], after["result"], after["error"]) == (False, "invalid", "revoked")
    again = convert_api(gd, chan_hk)
    assert (again.status, again.error_code()) == (422, "revoked")
