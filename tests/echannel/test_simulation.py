"""The gate simulation and the e-Channel commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from borderpass.cli import app
from borderpass.echannel.simulation import simulate
from tests.echannel.conftest import FACES


def test_light_traffic_flows_and_overload_queues() -> None:
    light = simulate(gates=30, arrivals_per_hour=6000, hours=0.5, seed=3)
    assert light.capacity_per_hour == pytest.approx(30 * 3600 / 7)
    assert light.p95_wait < 5
    assert 0.3 < light.utilisation < 0.5
    heavy = simulate(gates=30, arrivals_per_hour=20000, hours=0.5, seed=3)
    assert heavy.throughput_per_hour <= heavy.capacity_per_hour * 1.02
    assert heavy.utilisation > 0.97
    assert heavy.p95_wait > 60 and heavy.max_queue > 500
    fixed = simulate(gates=1, arrivals_per_hour=100, hours=1, service_spread=0)
    assert fixed.served == fixed.arrived or fixed.left_queueing <= 1


def test_bad_figures_are_refused() -> None:
    with pytest.raises(ValueError):
        simulate(gates=0, arrivals_per_hour=10, hours=1)


def test_the_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    plot = tmp_path / "queue.png"
    result = runner.invoke(app, ["gates", "simulate", "--gates", "30", "--arrivals", "12000",
                                 "--hours", "0.2", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "capacity=15429/h" in result.output and "p95_wait=" in result.output
    assert plot.read_bytes().startswith(b"\x89PNG")

    card = tmp_path / "obama.card"
    made = runner.invoke(app, ["card", "make", "--photo", str(FACES / "obama.jpg"), "--number",
                               "A123456(3)", "--born", "1961-08-04", "--out", str(card)])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(app, ["card", "verify", str(card)])
    assert checked.exit_code == 0 and '"born": "1961-08-04"' in checked.output
    card.write_bytes(card.read_bytes().replace(b"1961-08-04", b"1991-08-04"))
    tampered = runner.invoke(app, ["card", "verify", str(card)])
    assert tampered.exit_code == 1
    assert "card_refused" in tampered.output
    refused = runner.invoke(app, ["card", "make", "--photo", str(FACES / "obama.jpg"),
                                  "--number", "A123456(4)", "--born", "1961-08-04",
                                  "--out", str(card)])
    assert refused.exit_code == 1
