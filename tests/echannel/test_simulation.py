"""The gate simulation (its command: test_cli.py)."""

from __future__ import annotations

import pytest

from borderpass.echannel.simulation import simulate


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
