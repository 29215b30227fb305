"""All SQL of the population re-evaluation: runs, chunks, leases and progress."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from borderpass.healthcode.population_models import ReevaluationChunk, ReevaluationRun

__all__ = [
    "add_chunks",
    "add_run",
    "beat",
    "chunk_ids",
    "claim",
    "counts_by_state",
    "expired",
    "finish",
    "get_chunk",
    "get_run",
    "give_back",
    "latest_run",
    "next_chunk",
    "span",
]

Chunk = ReevaluationChunk


def _table() -> Table:
    table = Chunk.__table__
    assert isinstance(table, Table)  # noqa: S101 - declarative models have tables
    return table


def add_run(session: Session, run: ReevaluationRun) -> None:
    session.add(run)
    session.flush()


def add_chunks(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the chunks of a run, in one statement."""
    if rows:
        session.execute(insert(_table()), list(rows))


def get_run(session: Session, run_id: uuid.UUID) -> ReevaluationRun | None:
    return session.get(ReevaluationRun, run_id)


def latest_run(session: Session) -> ReevaluationRun | None:
    return session.scalars(select(ReevaluationRun)
                           .order_by(ReevaluationRun.created_at.desc()).limit(1)).first()


def get_chunk(session: Session, chunk_id: uuid.UUID) -> ReevaluationChunk | None:
    return session.get(Chunk, chunk_id, populate_existing=True)


def chunk_ids(session: Session, run_id: uuid.UUID) -> list[uuid.UUID]:
    return list(session.scalars(select(Chunk.id).where(Chunk.run_id == run_id)
                                .order_by(Chunk.number)))


def _takeable(now: datetime) -> Any:
    return or_(Chunk.state == "queued",
               and_(Chunk.state == "running", Chunk.leased_until < now))


def next_chunk(session: Session, run_id: uuid.UUID, now: datetime) -> uuid.UUID | None:
    """Return a chunk of the run that is waiting, or whose worker's lease ran out."""
    return session.scalars(select(Chunk.id).where(Chunk.run_id == run_id, _takeable(now))
                           .order_by(Chunk.number).limit(1)).first()


def expired(session: Session, run_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
    """Return the run's chunks still running under a lease that ran out."""
    return list(session.scalars(select(Chunk.id).where(
        Chunk.run_id == run_id, Chunk.state == "running", Chunk.leased_until < now)))


def _changed(session: Session, statement: Any) -> bool:
    result = cast(CursorResult[Any], session.execute(
        statement.execution_options(synchronize_session=False)))
    return result.rowcount == 1


def claim(session: Session, chunk_id: uuid.UUID, token: str, now: datetime,
          until: datetime) -> bool:
    """Take the chunk for the worker ``token`` if it waits or its lease ran out."""
    return _changed(session, update(Chunk).where(Chunk.id == chunk_id, _takeable(now)).values(
        state="running", attempts=Chunk.attempts + 1, worker=token, leased_until=until,
        taken_at=now, heartbeat_at=now, error=None))


def beat(session: Session, chunk_id: uuid.UUID, token: str, now: datetime,
         until: datetime) -> bool:
    """Extend the lease of the worker ``token``; False if the chunk is no longer its own."""
    return _changed(session, update(Chunk).where(
        Chunk.id == chunk_id, Chunk.worker == token, Chunk.state == "running",
    ).values(leased_until=until, heartbeat_at=now))


def finish(session: Session, chunk_id: uuid.UUID, token: str, now: datetime,
           counts: dict[str, int]) -> bool:
    """Mark the chunk done with its colour counts, if the worker ``token`` still holds it."""
    return _changed(session, update(Chunk).where(
        Chunk.id == chunk_id, Chunk.worker == token, Chunk.state == "running",
    ).values(state="done", finished_at=now, leased_until=None, heartbeat_at=now,
             people=sum(counts.values()), green=counts["green"], amber=counts["amber"],
             red=counts["red"]))


def give_back(session: Session, chunk_id: uuid.UUID, token: str | None, *, state: str,
              error: str) -> bool:
    """Put the chunk back in the queue (or mark it failed) with the reason."""
    condition = [Chunk.id == chunk_id, Chunk.state == "running"]
    if token is not None:
        condition.append(Chunk.worker == token)
    return _changed(session, update(Chunk).where(*condition).values(
        state=state, leased_until=None, error=error[:400]))


def counts_by_state(session: Session, run_id: uuid.UUID) -> tuple[dict[str, int], dict[str, int]]:
    """Return the run's chunks per state, and the people and colours of those done."""
    states = {str(state): int(count) for state, count in session.execute(
        select(Chunk.state, func.count()).where(Chunk.run_id == run_id).group_by(Chunk.state))}
    row = session.execute(select(
        func.coalesce(func.sum(Chunk.people), 0), func.coalesce(func.sum(Chunk.green), 0),
        func.coalesce(func.sum(Chunk.amber), 0), func.coalesce(func.sum(Chunk.red), 0),
    ).where(Chunk.run_id == run_id, Chunk.state == "done")).one()
    people, green, amber, red = (int(value) for value in row)
    return states, {"people": people, "green": green, "amber": amber, "red": red}


def span(session: Session, run_id: uuid.UUID) -> tuple[datetime | None, datetime | None]:
    """Return when the first chunk of the run was taken and when the last one was done."""
    first, last = session.execute(select(func.min(Chunk.taken_at), func.max(Chunk.finished_at))
                                  .where(Chunk.run_id == run_id)).one()
    return first, last
