"""Database-backed re-evaluation of every resident, per second, on PostgreSQL and SQLite.

Creates N synthetic registered residents (100,000 unless given) with realistic evidence
by bulk inserts into a throwaway database: tests of both methods and results, vaccine
doses, a few flags, testing orders naming home addresses, uploaded visits under orders and
where cases were, high-risk travel, and live codes for some. Then re-evaluates all of them
as `borderpass code reevaluate-all` does (a run split into chunks by person id, facts
read set-based, statuses upserted, codes of people now red revoked). The first run
evaluates everyone for the first time (every status written). Then the next day's run,
the one a jurisdiction makes every day (only the statuses that changed are written), is
timed twice from the same saved state: with one worker, then with two worker processes
taking chunks. Each rate is extrapolated to all 7.5 million Hong Kong residents.
PostgreSQL is used when one answers (BORDERPASS_BENCH_PG_URL, else a throwaway database
on 127.0.0.1:5432, dropped afterwards). Prints one line, with the load average when it
started (the machine may be shared).
Run: ``python -m bench.reevaluate [N] [--only=postgresql|sqlite]``.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from bench.ingest import _drop, _postgres_url

PEOPLE = 100_000
HONG_KONG = 7_500_000
TARGET_SECONDS = 360
CHUNK = 5_000
_ROWS = 5_000


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)  # noqa: S101 - declarative models have tables
    return table


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), _ROWS):
        yield rows[start:start + _ROWS]


def populate(session: Session, size: int, now: datetime) -> None:  # noqa: PLR0915
    """Insert ``size`` active residents and their evidence, in bulk."""
    from borderpass.evidence.models import (
        CheckinFact,
        EvidenceSource,
        HealthFlag,
        HighRiskArea,
        TestingOrder,
        TestingOrderPremises,
        TestResult,
        TravelRecord,
        Vaccination,
    )
    from borderpass.healthcode.models import HealthCode
    from borderpass.identity.models import Person

    rng = random.Random(2021)  # noqa: S311 - a reproducible synthetic population
    hour = timedelta(hours=1)
    officer = uuid.uuid4()
    source_id, batch_id = uuid.uuid4(), uuid.uuid4()
    session.execute(insert(_table(EvidenceSource)),
                    [{"id": source_id, "name": "Bench Lab", "kind": "lab", "created_at": now}])
    homes = [f"bench-home-{n}" for n in range(max(1, size // 3))]
    orders = []
    for n in range(50):
        issued = now - rng.uniform(0, 24 * 7) * hour
        orders.append({"id": uuid.uuid4(), "reference": f"BENCH-CTO-{n}", "issued_at": issued,
                       "period_from": issued - 2 * 24 * hour, "period_to": issued - 24 * hour,
                       "test_by": issued + 48 * hour, "recorded_by": officer})
    session.execute(insert(_table(TestingOrder)), orders)
    session.execute(insert(_table(TestingOrderPremises)), [
        {"id": uuid.uuid4(), "order_id": order["id"], "address": "premises",
         "address_index": rng.choice(homes), "venue_id": None}
        for order in orders for _ in range(20)])
    session.execute(insert(_table(HighRiskArea)), [
        {"id": uuid.uuid4(), "region_code": region, "name_en": region, "name_zh": region,
         "starts_at": now - 30 * 24 * hour, "ends_at": None, "recorded_by": officer,
         "recorded_at": now} for region in ("CN-GD", "TW")])
    people: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    doses: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    travel: list[dict[str, Any]] = []
    facts: list[dict[str, Any]] = []
    codes: list[dict[str, Any]] = []
    for n in range(size):
        person_id = uuid.uuid4()
        doc_index = f"bench-{n}"
        people.append({
            "id": person_id, "doc_kind": "hkid", "doc_index": doc_index,
            "doc_number_sealed": b"-", "doc_masked": "A1*****(3)",
            "doc_issued_on": date(2015, 1, 1), "name_zh_sealed": b"-", "name_en_sealed": b"-",
            "initials": "CTM", "phone_sealed": b"-", "address_sealed": b"-",
            "address_index": rng.choice(homes), "locale": "en", "status": "active",
            "created_at": now - 60 * 24 * hour, "activated_at": now - 60 * 24 * hour})
        subject = {"doc_kind": "hkid", "doc_index": doc_index, "person_id": person_id}
        roll = rng.random()
        collected_times = []
        if roll < 0.92:
            collected_times.append(now - rng.uniform(0, 47 if roll < 0.80 else 240) * hour)
        if rng.random() < 0.5:
            collected_times.append(now - rng.uniform(48, 24 * 14) * hour)
        for collected in collected_times:
            positive = rng.random() < 0.01
            tests.append({**subject, "source_id": source_id, "batch_id": batch_id,
                          "specimen_id": f"BENCH-{len(tests)}", "collected_at": collected,
                          "reported_at": collected + 6 * hour,
                          "method": "PCR" if rng.random() < 0.7 else "RAT",
                          "result": "positive" if positive else "negative", "lab": "Bench Lab"})
        if rng.random() < 0.9:
            for dose in range(1, rng.randrange(2, 5)):
                doses.append({**subject, "source_id": source_id, "batch_id": batch_id,
                              "dose_number": dose, "product": "Comirnaty",
                              "vaccinated_on": date(2021, 3, 1) + timedelta(days=90 * dose),
                              "provider": "Bench Clinic"})
        if rng.random() < 0.02:
            starts = now - rng.uniform(0, 24 * 10) * hour
            flags.append({**subject, "id": uuid.uuid4(),
                          "kind": rng.choice(["close_contact", "quarantine", "confirmed"]),
                          "starts_at": starts, "ends_at": starts + 14 * 24 * hour,
                          "recorded_by": officer, "recorded_at": starts, "lifted_at": None})
        if rng.random() < 0.02:
            travel.append({**subject, "id": uuid.uuid4(),
                           "region_code": rng.choice(["CN-GD-SZ", "MO", "TW-TPE"]),
                           "at": now - rng.uniform(0, 24 * 20) * hour, "source": "crossing",
                           "recorded_by": officer, "recorded_at": now})
        if rng.random() < 0.02:
            begun = now - rng.uniform(2, 24 * 20) * hour
            facts.append({"id": uuid.uuid4(), "person_id": person_id, "kind": "exposure",
                          "place_id": f"V{rng.randrange(1000)}", "visit_from": begun,
                          "visit_to": begun + hour, "order_id": None, "recorded_at": now})
        if rng.random() < 0.01:
            order = rng.choice(orders)
            facts.append({"id": uuid.uuid4(), "person_id": person_id, "kind": "order",
                          "place_id": "V-ORDER", "visit_from": order["period_from"],
                          "visit_to": order["period_from"] + hour, "order_id": order["id"],
                          "recorded_at": now})
        if rng.random() < 0.1:
            codes.append({"id": uuid.uuid4(), "person_id": person_id,
                          "code_hash": uuid.uuid4().hex, "colour": "green", "kid": "0" * 16,
                          "issued_at": now - hour, "valid_until": now + 12 * hour,
                          "text": "-", "revoked_at": None})
    for model, rows in ((Person, people), (TestResult, tests), (Vaccination, doses),
                        (HealthFlag, flags), (TravelRecord, travel), (CheckinFact, facts),
                        (HealthCode, codes)):
        for chunk in _chunks(rows):
            session.execute(insert(_table(model)), chunk)


@dataclass
class Rates:
    """People re-evaluated per second: the first run, then the next day's with one and with
    two workers; how many of the next day's statuses changed, and the colours."""

    first: float
    one: float
    two: float
    changed: int
    counts: dict[str, int]


_SAVED = ("person_statuses", "code_revocations")
"""What a run writes, kept after the first run and put back before the two-worker run, so
that both next-day runs start from the same state."""


def _keep(session: Session) -> None:
    for table in _SAVED:  # the bench's own table names, no input
        session.execute(text(f"CREATE TABLE bench_{table} AS SELECT * FROM {table}"))  # noqa: S608


def _put_back(session: Session) -> None:
    for table in _SAVED:
        session.execute(text(f"DELETE FROM {table}"))  # noqa: S608
        session.execute(text(f"INSERT INTO {table} SELECT * FROM bench_{table}"))  # noqa: S608


def _timed_run(size: int, now: datetime, workers: int, chunk_size: int,
               cpu_of: str | None = None) -> tuple[float, dict[str, int]]:
    """Plan a run at ``now`` and let ``workers`` take its chunks; return people per second
    and the colours. With ``cpu_of``, record the CPU per person of this process and of
    PostgreSQL under that name."""
    from borderpass.healthcode import population
    from borderpass.kit.db import unit_of_work

    planning = time.perf_counter()
    with unit_of_work() as session:
        run = population.plan(session, now=now, chunk_size=chunk_size)
    planned = time.perf_counter() - planning
    if cpu_of:
        with unit_of_work() as session:
            server = _server_cpu(session, {})
        ours = time.process_time()
    # The workers' start-up (importing the code) is left out: it does not grow with the
    # population. The time is planning, then first chunk taken to last one done.
    final = population.run_locally(run.id, workers)
    if cpu_of:
        ours = time.process_time() - ours
        with unit_of_work() as session:
            server = _server_cpu(session, server)
        CPU[cpu_of] = (ours / size, sum(server.values()) / size)
    with unit_of_work() as session:
        busy = population.busy_seconds(session, run.id)
    assert busy is not None and final.people == size, final  # noqa: S101 - a sanity check
    return size / (planned + busy), final.counts


def run_one(url: str, var: Path, size: int, now: datetime,
            chunk_size: int = CHUNK) -> Rates:
    """Populate a fresh database at ``url``; time the first run with one worker, then the
    next day's run with one worker and, from the same state, with two worker processes."""
    os.environ["BORDERPASS_DATABASE_URL"] = url
    os.environ["BORDERPASS_VAR_DIR"] = str(var)
    os.environ["BORDERPASS_LOG_LEVEL"] = "WARNING"
    from borderpass.kit.config import reset_settings

    reset_settings()
    from borderpass.kit.logging import configure_logging

    configure_logging("WARNING", None)
    from borderpass.kit.db import engine_for, get_engine, session_factory, unit_of_work
    from borderpass.migrations import upgrade
    from borderpass.wiring import wire

    wire()  # a revocation sends a job: the jobs must be declared
    upgrade(url)
    engine = engine_for(url)
    with unit_of_work(session_factory(engine)) as session:
        populate(session, size, now)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    first, _counts = _timed_run(size, now, 1, chunk_size)
    with unit_of_work() as session:
        _keep(session)
    tomorrow = now + timedelta(days=1)
    one, counts = _timed_run(size, tomorrow, 1, chunk_size, cpu_of=url)
    with unit_of_work() as session:
        # A status keeps its row, and its evaluation time, when it did not change.
        changed = session.scalar(text("SELECT count(*) FROM person_statuses "
                                      "WHERE evaluated_at >= :at"), {"at": tomorrow}) or 0
        _put_back(session)
    two, _counts = _timed_run(size, tomorrow, 2, chunk_size)
    get_engine().dispose()
    return Rates(first, one, two, changed, counts)


CPU: dict[str, tuple[float, float]] = {}
"""Per database: CPU seconds per person of the one worker, and of PostgreSQL serving it."""


def _server_cpu(session: Session, before: dict[int, float]) -> dict[int, float]:
    """Return the CPU seconds each PostgreSQL process serving this database used since
    ``before`` (read from /proc: PostgreSQL runs on this machine); nothing on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        return {}
    from sqlalchemy import text

    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in session.scalars(text("SELECT pid FROM pg_stat_activity "
                                    "WHERE datname = current_database()")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime and stime
        used[int(pid)] = seconds - before.get(int(pid), 0.0) if before else seconds
    return used


def _figures(name: str, rates: Rates, size: int) -> str:
    def whole(rate: float) -> str:
        minutes = HONG_KONG / rate / 60
        return f"{minutes:.1f} min ({'met' if minutes * 60 < TARGET_SECONDS else 'not met'})"

    return (f"{name} first run (every status new) one worker {rates.first:,.0f} people/s, "
            f"7.5 million in {HONG_KONG / rates.first / 60:.1f} min; the next day's run "
            f"({rates.changed:,} of {size:,} statuses changed) one worker "
            f"{rates.one:,.0f} people/s, 7.5 million in {whole(rates.one)}; two workers "
            f"{rates.two:,.0f} people/s, 7.5 million in {whole(rates.two)} "
            f"(target < {TARGET_SECONDS // 60} min)")


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    only = next((arg.removeprefix("--only=") for arg in sys.argv[1:]
                 if arg.startswith("--only=")), None)
    size = int(args[0]) if args and args[0].isdigit() else PEOPLE
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    load = os.getloadavg()[0]
    parts = []
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-reevaluate-") as tmp:
        work = Path(tmp)
        if only in (None, "postgresql"):
            try:
                pg_url, created = _postgres_url()
            except Exception as error:  # noqa: BLE001 - report and go on without PostgreSQL
                parts.append(f"postgresql unavailable ({type(error).__name__})")
            else:
                try:
                    rates = run_one(pg_url, work / "var", size, now)
                finally:
                    if created:
                        _drop(created)
                counts = rates.counts
                parts.append(_figures("postgresql", rates, size))
                if CPU.get(pg_url, (0.0, 0.0))[1] > 0:
                    python, server = CPU[pg_url]
                    idle = 2 / (python + server)
                    parts.append(
                        f"postgresql CPU per person of the next day's run with one worker "
                        f"{python * 1e6:.0f} µs in "
                        f"the worker + {server * 1e6:.0f} µs in PostgreSQL: two idle cores "
                        f"would do {idle:,.0f} people/s, 7.5 million in "
                        f"{HONG_KONG / idle / 60:.1f} min")
        if only in (None, "sqlite"):
            rates = run_one(f"sqlite:///{work / 'bench.sqlite3'}", work / "var", size, now)
            counts = rates.counts
            parts.append(_figures("sqlite", rates, size))
    head = (f"reevaluate: N={size:,} residents from the database, chunks of {CHUNK:,} "
            f"({counts.get('green', 0):,} green, {counts.get('amber', 0):,} amber, "
            f"{counts.get('red', 0):,} red; load average {load:.1f} on {os.cpu_count()} cores)")
    print("; ".join([head, *parts]))


if __name__ == "__main__":
    main()
