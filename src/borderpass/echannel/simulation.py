"""A discrete-event simulation (SimPy) of a control point's e-Channel gates.

Travellers arrive at random (a Poisson process), queue for the first free gate and take
the gate's service time (about 7 seconds through gates 1 and 2). The result gives the
throughput, the mean and 95th-percentile wait, the gates' utilisation, the capacity an
hour, and the queue length over time for a plot.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import simpy

__all__ = ["SimulationResult", "plot_queue", "simulate"]


@dataclass
class SimulationResult:
    """What a run measured."""

    gates: int
    arrivals_per_hour: float
    hours: float
    service_seconds: float
    arrived: int
    served: int
    left_queueing: int
    mean_wait: float
    p95_wait: float
    max_queue: int
    utilisation: float
    queue: list[tuple[float, int]] = field(repr=False, default_factory=list)

    @property
    def throughput_per_hour(self) -> float:
        return self.served / self.hours

    @property
    def capacity_per_hour(self) -> float:
        return self.gates * 3600 / self.service_seconds

    def summary(self) -> str:
        """Return the figures on one line."""
        return (
            f"gates={self.gates} service={self.service_seconds:g}s "
            f"arrivals={self.arrivals_per_hour:g}/h hours={self.hours:g} "
            f"capacity={self.capacity_per_hour:.0f}/h "
            f"throughput={self.throughput_per_hour:.0f}/h served={self.served} "
            f"arrived={self.arrived} unserved_at_end={self.left_queueing} "
            f"mean_wait={self.mean_wait:.1f}s "
            f"p95_wait={self.p95_wait:.1f}s max_queue={self.max_queue} "
            f"utilisation={self.utilisation:.1%}"
        )


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def simulate(
    *,
    gates: int,
    arrivals_per_hour: float,
    hours: float,
    service_seconds: float = 7.0,
    service_spread: float = 0.15,
    seed: int = 1,
) -> SimulationResult:
    """Run the simulation.

    Args:
        gates: gates open (each handles one traveller at a time).
        arrivals_per_hour: the mean arrival rate.
        hours: how long travellers arrive and gates are measured; waits count everyone
            who arrived, throughput and utilisation count the window only.
        service_seconds: mean time a traveller occupies a gate.
        service_spread: the service time's coefficient of variation (gamma distributed);
            0 makes it fixed.
        seed: the random seed, so that a run can be repeated.

    Raises:
        ValueError: a count, rate or time that is not positive.
    """
    if gates < 1 or arrivals_per_hour <= 0 or hours <= 0 or service_seconds <= 0:
        raise ValueError("gates, arrivals, hours and service time must be positive")
    if service_spread < 0:
        raise ValueError("the service spread cannot be negative")
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    env = simpy.Environment()
    lanes = simpy.Resource(env, capacity=gates)
    horizon = hours * 3600
    waits: list[float] = []
    queue: list[tuple[float, int]] = [(0.0, 0)]
    state: dict[str, float] = {"arrived": 0, "busy": 0.0, "done": 0}

    def service_time() -> float:
        if service_spread == 0:
            return service_seconds
        shape = 1 / service_spread**2
        return rng.gammavariate(shape, service_seconds / shape)

    def traveller(env: simpy.Environment) -> Any:
        arrived = env.now
        with lanes.request() as turn:
            queue.append((env.now, len(lanes.queue)))
            yield turn
            waits.append(env.now - arrived)
            queue.append((env.now, len(lanes.queue)))
            took = service_time()
            state["busy"] += max(0.0, min(env.now + took, horizon) - env.now)
            yield env.timeout(took)
            if env.now <= horizon:
                state["done"] += 1

    def arrivals(env: simpy.Environment) -> Any:
        rate = arrivals_per_hour / 3600
        while True:
            yield env.timeout(rng.expovariate(rate))
            if env.now >= horizon:
                return
            state["arrived"] += 1
            env.process(traveller(env))

    env.process(arrivals(env))
    env.run()
    return SimulationResult(
        gates=gates,
        arrivals_per_hour=arrivals_per_hour,
        hours=hours,
        service_seconds=service_seconds,
        arrived=int(state["arrived"]),
        served=int(state["done"]),
        left_queueing=int(state["arrived"] - state["done"]),
        mean_wait=sum(waits) / len(waits) if waits else 0.0,
        p95_wait=_percentile(waits, 0.95),
        max_queue=max(length for _at, length in queue),
        utilisation=state["busy"] / (gates * horizon),
        queue=queue,
    )


def plot_queue(result: SimulationResult, path: Path) -> Path:
    """Draw the queue length over time to an image file (needs matplotlib).

    Raises:
        RuntimeError: matplotlib is not installed (``pip install borderpass[plot]``).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("plotting needs matplotlib: pip install 'borderpass[plot]'") from exc
    times = [at / 60 for at, _length in result.queue]
    lengths = [length for _at, length in result.queue]
    figure, axes = plt.subplots(figsize=(9, 4))
    axes.step(times, lengths, where="post", linewidth=0.8)
    axes.set_xlabel("minutes")
    axes.set_ylabel("travellers queueing")
    axes.set_title(f"{result.gates} gates, {result.arrivals_per_hour:g} arrivals/h, "
                   f"{result.service_seconds:g} s each")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
