"""Status evaluations per second over synthetic people with realistic evidence.

Builds facts for a population of 1,000,000 synthetic residents (most tested within two
days, some untested, a few cases, contacts, testing orders, high-risk travel and venue
exposures), evaluates every one of them with the packaged Hong Kong rule set on all cores
(a sample of 100,000 with ``--sample``), and extrapolates to all 7.5 million Hong Kong
residents. The one-core rate is measured on every 20th person first. Prints one line.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from borderpass.evidence.schemas import PersonFacts
from borderpass.rules.ruleset import default_rule_set
from borderpass.rules.status import evaluate

POPULATION = 1_000_000
SAMPLE = 100_000
HONG_KONG = 7_500_000
TARGET_SECONDS = 600


def synthetic(rng: random.Random, now: datetime) -> PersonFacts:
    """Return one resident's facts, drawn from a plausible mix."""
    hours = timedelta(hours=1)
    roll = rng.random()
    negative = now - rng.uniform(0, 47) * hours if roll < 0.80 else (
        now - rng.uniform(48, 24 * 10) * hours if roll < 0.92 else None)
    positive = now - rng.uniform(0, 24 * 30) * hours if rng.random() < 0.01 else None
    flag_since = flag_until = None
    kinds: tuple[str, ...] = ()
    if rng.random() < 0.02:
        flag_since = now - rng.uniform(0, 24 * 10) * hours
        flag_until = flag_since + timedelta(days=14)
        kinds = (rng.choice(["close_contact", "quarantine", "confirmed", "suspected"]),)
    order = now - rng.uniform(0, 24 * 7) * hours if rng.random() < 0.03 else None
    visit = now - rng.uniform(0, 24 * 30) * hours if rng.random() < 0.005 else None
    exposure = now - rng.uniform(0, 24 * 30) * hours if rng.random() < 0.02 else None
    return PersonFacts(
        last_negative_at=negative, last_positive_at=positive, flag_since=flag_since,
        flag_until=flag_until, flag_kinds=kinds, order_issued_at=order,
        order_reference="ORDER-1" if order else None, high_risk_visit_at=visit,
        high_risk_region="CN-GD-SZ" if visit else None, exposure_at=exposure,
        exposure_venue="V-1" if exposure else None,
    )


_PEOPLE: list[PersonFacts] = []


def _evaluate_slice(start: int, step: int, now: datetime) -> dict[str, int]:
    # Workers are forked after the population is built, so they read it without copying.
    colours = {"green": 0, "amber": 0, "red": 0}
    rule_set = default_rule_set()
    for facts in _PEOPLE[start::step]:
        colours[evaluate(facts, rule_set, now).colour] += 1
    return colours


def main() -> None:
    rng = random.Random(2021)
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    default_rule_set()  # compiled once, before the workers fork
    size = SAMPLE if "--sample" in sys.argv else POPULATION
    _PEOPLE[:] = [synthetic(rng, now) for _ in range(size)]
    started = time.perf_counter()
    _evaluate_slice(0, 20, now)
    one_core = len(_PEOPLE[::20]) / (time.perf_counter() - started)
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        counts = pool.starmap(_evaluate_slice,
                              [(n, workers, now) for n in range(workers)])
    elapsed = time.perf_counter() - started
    rate = size / elapsed
    colours = {colour: sum(c[colour] for c in counts) for colour in ("green", "amber", "red")}
    whole = HONG_KONG / rate
    verdict = "met" if whole < TARGET_SECONDS else "not met"
    measured = f"all {size:,}" if size == POPULATION else f"a sample of {size:,}"
    print(f"evaluate: {rate:,.0f} statuses/s on {workers} cores ({one_core:,.0f}/s on one) "
          f"over {measured} synthetic people "
          f"({colours['green']:,} green, {colours['amber']:,} amber, {colours['red']:,} red) "
          f"in {elapsed:,.1f} s; 7.5 million in {whole / 60:.1f} min "
          f"(target < {TARGET_SECONDS // 60} min: {verdict})")


if __name__ == "__main__":
    main()
