"""Re-evaluating every active resident in chunks that any number of workers take.

``plan`` splits the active residents by id into ranges of ``chunk_size`` people, each a
row of ``reevaluation_chunks``, all judged at the run's instant. A worker takes a chunk
(``run_chunk``) under a lease: it re-evaluates the chunk's people a page at a time, each
page committed with its statuses, the revocations of those now red and a beat that
extends the lease, and the last with the chunk marked done and its colour counts. A
worker that dies stops beating; once its lease runs out, the next worker takes the chunk
again. Running a chunk twice is harmless: statuses are upserted, and a code is revoked
once. So any number of workers (``work``: local processes, `borderpass code
reevaluate-join` on other machines, or jobs on the queue) give what one process gives.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from borderpass.healthcode import population_repository as repository
from borderpass.healthcode import service as healthcode
from borderpass.healthcode.population_models import ReevaluationRun
from borderpass.identity import service as identity
from borderpass.kit import jobs
from borderpass.kit.clock import utcnow
from borderpass.kit.db import unit_of_work
from borderpass.kit.errors import NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger

__all__ = [
    "CHUNK_SIZE",
    "LEASE_SECONDS",
    "MAX_ATTEMPTS",
    "RunProgress",
    "busy_seconds",
    "chunk_ids",
    "plan",
    "progress",
    "requeue_expired",
    "run_chunk",
    "run_locally",
    "work",
    "worker_name",
]

log = get_logger(__name__)

CHUNK_SIZE = 5_000
PAGE = 2_000
LEASE_SECONDS = 120.0
MAX_ATTEMPTS = 3

Unit = Callable[[], AbstractContextManager[Session]]
"""Opens a unit of work (``kit.db.unit_of_work`` by default; a job's own for jobs)."""
Clock = Callable[[], datetime]


class RunNotFound(NotFound):
    code = "reevaluation_run_not_found"
    message = _("There is no such re-evaluation run.")


@dataclass(frozen=True)
class RunProgress:
    """How far a run is: its chunks by state, and the people and colours of those done."""

    run_id: uuid.UUID
    evaluated_at: datetime
    chunks: int
    queued: int
    running: int
    done: int
    failed: int
    people: int
    green: int
    amber: int
    red: int

    @property
    def finished(self) -> bool:
        return self.queued == 0 and self.running == 0

    @property
    def counts(self) -> dict[str, int]:
        return {"green": self.green, "amber": self.amber, "red": self.red}


def worker_name() -> str:
    """Name this worker process uniquely (host, process and a random part)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def plan(session: Session, *, now: datetime, chunk_size: int = CHUNK_SIZE) -> ReevaluationRun:
    """Split the active residents into chunks of ``chunk_size`` by id, queued, to be judged
    at ``now``; return the run."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    people, marks = identity.active_people_ranges(session, size=chunk_size)
    run = ReevaluationRun(evaluated_at=now, created_at=now, chunk_size=chunk_size,
                          chunks=max(1, len(marks)), people=people)
    repository.add_run(session, run)
    # The first range has no lower bound and the last no upper one: people registered
    # while the run goes fall in some chunk.
    lows: list[uuid.UUID | None] = [None, *marks[1:]] if marks else [None]
    highs: list[uuid.UUID | None] = [*marks[1:], None] if marks else [None]
    repository.add_chunks(session, [
        {"id": uuid.uuid4(), "run_id": run.id, "number": number, "low": low, "high": high,
         "state": "queued", "attempts": 0}
        for number, (low, high) in enumerate(zip(lows, highs, strict=True))])
    log.info("reevaluation.planned", run=str(run.id), people=people, chunks=run.chunks)
    return run


def progress(session: Session, run_id: uuid.UUID) -> RunProgress:
    """Return how far a run is, from its chunks.

    Raises:
        RunNotFound: there is no such run.
    """
    run = repository.get_run(session, run_id)
    if run is None:
        raise RunNotFound(field="run")
    states, done = repository.counts_by_state(session, run_id)
    return RunProgress(run.id, run.evaluated_at, run.chunks, states.get("queued", 0),
                       states.get("running", 0), states.get("done", 0),
                       states.get("failed", 0), done["people"], done["green"], done["amber"],
                       done["red"])


def chunk_ids(session: Session, run_id: uuid.UUID) -> list[uuid.UUID]:
    """Return the ids of the run's chunks, in order."""
    return repository.chunk_ids(session, run_id)


def busy_seconds(session: Session, run_id: uuid.UUID) -> float | None:
    """Return the seconds from the first chunk taken to the last one done (None before)."""
    first, last = repository.span(session, run_id)
    if first is None or last is None:
        return None
    return (last - first).total_seconds()


def requeue_expired(session: Session, run_id: uuid.UUID, *, now: datetime) -> list[uuid.UUID]:
    """Return the run's chunks whose worker stopped beating (to be sent as jobs again)."""
    return repository.expired(session, run_id, now)


def run_chunk(chunk_id: uuid.UUID, *, worker: str | None = None, unit: Unit = unit_of_work,
              clock: Clock = utcnow, page: int = PAGE,
              lease_seconds: float = LEASE_SECONDS) -> str:
    """Take a chunk and re-evaluate its people; return what became of it.

    ``done``: this worker did it. ``skipped``: it was done, failed for good, or is held by
    a worker whose lease still runs. ``lost``: another worker took it over while this one
    was too slow to beat (what was written stays: it is what that worker writes too).
    ``failed``: it has been tried ``MAX_ATTEMPTS`` times. An error while evaluating puts
    the chunk back in the queue (or marks it failed at the last attempt) and is raised.
    """
    token = worker or worker_name()
    lease = timedelta(seconds=lease_seconds)
    with unit() as session:
        started = clock()
        if not repository.claim(session, chunk_id, token, started, started + lease):
            return "skipped"
        chunk = repository.get_chunk(session, chunk_id)
        assert chunk is not None  # noqa: S101 - it was just claimed
        run = repository.get_run(session, chunk.run_id)
        assert run is not None  # noqa: S101 - chunks are deleted with their run
        if chunk.attempts > MAX_ATTEMPTS:
            repository.give_back(session, chunk_id, token, state="failed",
                                 error=f"given up after {MAX_ATTEMPTS} attempts")
            log.error("reevaluation.chunk_failed", chunk=str(chunk_id), attempts=MAX_ATTEMPTS)
            return "failed"
        low, high, attempts, at = chunk.low, chunk.high, chunk.attempts, run.evaluated_at
    try:
        with unit() as session:
            people = identity.active_people_between(session, low=low, high=high)
        counts = {"green": 0, "amber": 0, "red": 0}
        for start in range(0, max(1, len(people)), page):
            with unit() as session:
                for colour in healthcode.reevaluate(session, people[start:start + page],
                                                    now=at, contiguous=True).values():
                    counts[colour] += 1
                moment = clock()
                last = start + page >= len(people)
                held = (repository.finish(session, chunk_id, token, moment, counts) if last
                        else repository.beat(session, chunk_id, token, moment, moment + lease))
            if not held:
                log.warning("reevaluation.chunk_lost", chunk=str(chunk_id), worker=token)
                return "lost"
    except Exception as error:
        state = "failed" if attempts >= MAX_ATTEMPTS else "queued"
        with unit() as session:
            repository.give_back(session, chunk_id, token, state=state,
                                 error=f"{type(error).__name__}: {error}")
        log.warning("reevaluation.chunk_error", chunk=str(chunk_id), attempts=attempts,
                    state=state, error=type(error).__name__)
        raise
    log.info("reevaluation.chunk_done", chunk=str(chunk_id), people=len(people), **counts)
    return "done"


def work(run_id: uuid.UUID, *, worker: str | None = None, unit: Unit = unit_of_work,
         clock: Clock = utcnow, page: int = PAGE, lease_seconds: float = LEASE_SECONDS,
         idle_seconds: float = 0.25, after_chunk: Callable[[], object] | None = None) -> int:
    """Take the run's chunks one after another until none is waiting or held; return how
    many this worker did. A chunk whose worker stopped beating is taken again when its
    lease runs out, so this waits for the chunks other workers hold."""
    jobs.freeze_heap(batch=True)  # a worker of a run: what it has loaded stays
    token = worker or worker_name()
    did = 0
    while True:
        with unit() as session:
            found = repository.next_chunk(session, run_id, clock())
            left = None if found is not None else progress(session, run_id)
        if found is None:
            assert left is not None  # noqa: S101 - read when nothing was found
            if left.finished:
                return did
            time.sleep(idle_seconds)
            continue
        try:
            outcome = run_chunk(found, worker=token, unit=unit, clock=clock, page=page,
                                lease_seconds=lease_seconds)
        except Exception:  # noqa: BLE001 - it is back in the queue with its reason; go on
            outcome = "error"
        did += outcome == "done"
        if after_chunk is not None:
            after_chunk()


def _work_in_process(run_id: str, page: int, lease_seconds: float) -> int:
    """In a worker process: take the run's chunks (the settings come from the environment)."""
    from borderpass.healthcode import jobs  # noqa: F401 - declares the job a revocation sends
    from borderpass.kit.config import get_settings
    from borderpass.kit.logging import configure_logging

    configure_logging(get_settings().log_level, get_settings().log_file)
    return work(uuid.UUID(run_id), page=page, lease_seconds=lease_seconds)


def run_locally(run_id: uuid.UUID, processes: int, *, page: int = PAGE,
                lease_seconds: float = LEASE_SECONDS,
                watch: Callable[[RunProgress], None] | None = None,
                poll_seconds: float = 0.5) -> RunProgress:
    """Run the chunks of a run in ``processes`` local worker processes (in this one for 1);
    call ``watch`` with the progress as it goes; return the final progress."""
    def report() -> RunProgress:
        with unit_of_work() as session:
            current = progress(session, run_id)
        if watch is not None:
            watch(current)
        return current

    if processes <= 1:
        work(run_id, page=page, lease_seconds=lease_seconds, after_chunk=report)
        return report()
    context = multiprocessing.get_context("spawn")
    children: list[Any] = []
    for _number in range(processes):
        child = context.Process(target=_work_in_process,
                                args=(str(run_id), page, lease_seconds),
                                name="borderpass-reevaluate")
        child.start()
        children.append(child)
    try:
        while any(child.is_alive() for child in children):
            report()
            time.sleep(poll_seconds)
    finally:
        for child in children:
            child.join()
    current = report()
    if not current.finished:
        # Every worker process died: whoever is left (this process) finishes the run.
        work(run_id, page=page, lease_seconds=lease_seconds, after_chunk=report)
        current = report()
    return current
