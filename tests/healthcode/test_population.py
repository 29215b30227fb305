"""Re-evaluating the population in chunks: any number of workers, a worker that dies, a
chunk run twice and a chunk that keeps failing all end where one process ends."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bench.reevaluate import populate
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from borderpass.healthcode import population
from borderpass.healthcode import population_repository as chunks
from borderpass.healthcode import service as healthcode
from borderpass.healthcode.models import CodeRevocation, HealthCode, PersonStatus
from borderpass.healthcode.population_models import ReevaluationChunk
from borderpass.kit import jobs
from borderpass.kit.db import engine_for, session_factory, unit_of_work
from tests.conftest import Command

PEOPLE = 120


def _units(factory: sessionmaker[Session]) -> Callable[[], AbstractContextManager[Session]]:
    return lambda: unit_of_work(factory)


def _snapshot(unit: Callable[[], AbstractContextManager[Session]]) -> dict[str, Any]:
    """Every status and revocation, as the database holds them."""
    with unit() as session:
        statuses = {row.person_id: (row.colour, row.reasons, row.changes_at, row.evaluated_at)
                    for row in session.scalars(select(PersonStatus))}
        revoked = {(row.code_hash, row.reason) for row in session.scalars(select(CodeRevocation))}
        live = {row.code_hash for row in session.scalars(
            select(HealthCode).where(HealthCode.revoked_at.is_(None)))}
    return {"statuses": statuses, "revoked": revoked, "live": live}


@pytest.fixture()
def people(factory: sessionmaker[Session], now: datetime) -> None:
    with unit_of_work(factory) as session:
        populate(session, PEOPLE, now)


def test_chunks_give_what_one_process_gives(
    connection: Any, factory: sessionmaker[Session], now: datetime, people: None
) -> None:
    unit = _units(factory)
    before = connection.begin_nested()
    with unit() as session:
        run = population.plan(session, now=now, chunk_size=25)
        ids = population.chunk_ids(session, run.id)
    assert run.chunks == len(ids) == 5 and run.people == PEOPLE
    # A worker took the first chunk and died: its lease ran out a while ago.
    with unit() as session:
        assert chunks.claim(session, ids[0], "died", now, now + timedelta(seconds=30))
    later = now + timedelta(minutes=5)
    assert population.work(run.id, unit=unit, clock=lambda: later, page=10) == 5
    with unit() as session:
        done = population.progress(session, run.id)
        first = session.get(ReevaluationChunk, ids[0])
        assert first is not None and first.attempts == 2 and first.state == "done"
    assert (done.done, done.queued, done.running, done.failed) == (5, 0, 0, 0)
    assert done.people == PEOPLE and done.red > 0 and done.green > 0
    chunked = _snapshot(unit)
    assert len(chunked["statuses"]) == PEOPLE and chunked["revoked"]

    # A chunk run again changes nothing, and a chunk done is not taken again.
    assert population.run_chunk(ids[2], unit=unit, clock=lambda: later) == "skipped"
    with unit() as session:
        session.execute(update(ReevaluationChunk).where(ReevaluationChunk.id == ids[2])
                        .values(state="queued"))
    assert population.run_chunk(ids[2], unit=unit, clock=lambda: later, page=7) == "done"
    assert _snapshot(unit) == chunked
    before.rollback()

    with unit() as session:
        counts = healthcode.reevaluate_all(session, now=now, batch=50)
    assert _snapshot(unit) == chunked
    assert counts == done.counts


def test_a_chunk_that_keeps_failing_is_retried_then_given_up(
    factory: sessionmaker[Session], now: datetime, people: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unit = _units(factory)
    with unit() as session:
        run = population.plan(session, now=now, chunk_size=PEOPLE)
        (only,) = population.chunk_ids(session, run.id)

    def broken(*_args: Any, **_kwargs: Any) -> dict[uuid.UUID, str]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(population.healthcode, "reevaluate", broken)
    for attempt in range(1, population.MAX_ATTEMPTS + 1):
        with pytest.raises(RuntimeError):
            population.run_chunk(only, unit=unit, clock=lambda: now)
        with unit() as session:
            chunk = session.get(ReevaluationChunk, only)
            assert chunk is not None and chunk.attempts == attempt
            assert chunk.error == "RuntimeError: the database went away"
            assert chunk.state == ("failed" if attempt == population.MAX_ATTEMPTS else "queued")
    assert population.run_chunk(only, unit=unit, clock=lambda: now) == "skipped"
    assert population.work(run.id, unit=unit, clock=lambda: now) == 0
    with unit() as session:
        final = population.progress(session, run.id)
    assert (final.failed, final.done, final.finished) == (1, 0, True)


def test_a_worker_that_lost_its_chunk_stops(
    factory: sessionmaker[Session], now: datetime, people: None
) -> None:
    unit = _units(factory)
    with unit() as session:
        run = population.plan(session, now=now, chunk_size=PEOPLE)
        (only,) = population.chunk_ids(session, run.id)
    times = iter([now, now + timedelta(minutes=10)])

    def slow_clock() -> datetime:
        # This worker claims, and beats only after its lease ran out and another took it.
        moment = next(times, now + timedelta(minutes=10))
        if moment > now:
            with unit() as session:
                assert chunks.claim(session, only, "faster", moment, moment + timedelta(hours=1))
        return moment

    assert population.run_chunk(only, unit=unit, clock=slow_clock, page=10) == "lost"
    with unit() as session:
        chunk = chunks.get_chunk(session, only)
        assert chunk is not None and chunk.worker == "faster" and chunk.state == "running"


@pytest.fixture()
def own_database(tmp_path: Path, own_settings: Callable[[Path, str], None],
                 now: datetime, cli: Command) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'population.sqlite3'}"
    own_settings(tmp_path, url)
    assert cli("db", "upgrade").exit_code == 0
    engine = engine_for(url)
    with unit_of_work(session_factory(engine)) as session:
        populate(session, 90, now)
    yield url
    engine.dispose()


def test_local_workers_and_jobs_agree(own_database: str, cli: Command) -> None:
    # Two local processes against one are compared by tests/healthcode/test_cli.py.
    one = cli("code", "reevaluate-all", "--processes", "1", "--chunk-size", "20",
              "--batch", "7")
    assert one.exit_code == 0, one.stderr
    assert "5 chunks of up to 20 people" in one.stderr
    assert one.stdout.startswith("90 people re-evaluated in ")
    queued = cli("code", "reevaluate-all", "--queue", "--chunk-size", "30")
    assert queued.exit_code == 0, queued.stderr
    assert queued.stdout.startswith("90 people re-evaluated in ")
    colours = one.stdout.split(": ", 1)[1]
    assert queued.stdout.split(": ", 1)[1] == colours
    assert "green" in colours and " 0 red" not in colours
    # Joining a run that is over finds nothing to take and reports the run.
    run = one.stderr.split()[1].rstrip(":")
    joined = cli("code", "reevaluate-join", run, "--processes", "1")
    assert joined.exit_code == 0, joined.stderr
    assert joined.stdout.split(": ", 1)[1] == colours
    unknown = cli("code", "reevaluate-join", str(uuid.uuid4()))
    assert unknown.exit_code != 0 and "no such re-evaluation run" in unknown.stderr.lower()


def test_a_worker_leaves_what_it_loaded_out_of_the_collector_once(
    monkeypatch: pytest.MonkeyPatch, factory: sessionmaker[Session], now: datetime
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(jobs, "_HEAP_FROZEN", [])
    monkeypatch.setattr(jobs.gc, "collect", lambda: calls.append("collect") or 0)
    monkeypatch.setattr(jobs.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(jobs.gc, "set_threshold",
                        lambda *young: calls.append(f"young passes after {young[0]:,}"))
    unit = _units(factory)
    with unit() as session:
        run = population.plan(session, now=now, chunk_size=25)
    for _ in range(2):
        population.work(run.id, unit=unit, clock=lambda: now)
    # Garbage collected first, then everything held frozen, and the young passes made
    # rarer: once for the process.
    assert calls == ["collect", "freeze", "young passes after 100,000"]
