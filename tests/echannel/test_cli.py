"""The e-Channel commands: `card make`, `card verify`, `gates simulate` and `gates purge`."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Command
from tests.echannel.conftest import FACES


def test_the_commands(tmp_path: Path, cli: Command) -> None:
    plot = tmp_path / "queue.png"
    result = cli("gates", "simulate", "--gates", "30", "--arrivals", "12000", "--hours", "0.2",
                 "--plot", str(plot))
    assert result.exit_code == 0, result.output
    assert "capacity=15429/h" in result.output and "p95_wait=" in result.output
    assert plot.read_bytes().startswith(b"\x89PNG")

    card = tmp_path / "obama.card"
    made = cli("card", "make", "--photo", str(FACES / "obama.jpg"), "--number", "A123456(3)",
               "--born", "1961-08-04", "--out", str(card))
    assert made.exit_code == 0, made.output
    checked = cli("card", "verify", str(card))
    assert checked.exit_code == 0 and '"born": "1961-08-04"' in checked.output
    card.write_bytes(card.read_bytes().replace(b"1961-08-04", b"1991-08-04"))
    tampered = cli("card", "verify", str(card))
    assert tampered.exit_code == 1
    assert "card_refused" in tampered.output
    refused = cli("card", "make", "--photo", str(FACES / "obama.jpg"), "--number", "A123456(4)",
                  "--born", "1961-08-04", "--out", str(card))
    assert refused.exit_code == 1


def test_gates_purge(cli: Command) -> None:
    purged = cli("gates", "purge")
    assert purged.exit_code == 0, purged.output
    assert purged.stdout.startswith("purged ") and "used token(s)" in purged.stdout


def test_gates_expire_consents(cli: Command) -> None:
    expired = cli("gates", "expire-consents")
    assert expired.exit_code == 0, expired.output
    assert expired.stdout.startswith("expired ") and "guardian's consent" in expired.stdout
