"""Tables of a population re-evaluation run: the run, and its chunks of people (by id
range) that any number of workers take, each under a lease they keep beating."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from borderpass.kit.db import Base, UTCDateTime, new_id

__all__ = ["ReevaluationChunk", "ReevaluationRun"]


class ReevaluationRun(Base):
    """One re-evaluation of every active resident, at one instant."""

    __tablename__ = "reevaluation_runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The instant every chunk judges at, whenever it runs (or runs again)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    chunk_size: Mapped[int] = mapped_column(Integer)
    chunks: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)
    """Active residents when the run was planned (those registered later are counted
    by the chunk whose range they fall in)."""


class ReevaluationChunk(Base):
    """People with ``low <= id < high`` (no bound when None), re-evaluated together.

    ``state`` is queued, running (``leased_until`` says until when the worker that took
    it holds it; it beats to keep it), done or failed (after ``attempts`` reached the
    limit). A running chunk whose lease ran out is taken again by the next worker.
    """

    __tablename__ = "reevaluation_chunks"
    __table_args__ = (Index("ix_reevaluation_chunks_run_id_state", "run_id", "state"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reevaluation_runs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    low: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    high: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    state: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    people: Mapped[int | None] = mapped_column(Integer)
    green: Mapped[int | None] = mapped_column(Integer)
    amber: Mapped[int | None] = mapped_column(Integer)
    red: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(400))
