"""Places with a capacity, taken and given back atomically: the one booking engine that
appointment slots (permits) and quarantine-free quotas (crossing) share.

A table of places mixes in :class:`Places` (its ``capacity`` and ``booked`` columns;
the table adds ``CHECK (booked >= 0 AND booked <= capacity)``). :func:`take` is one
conditional UPDATE: the database re-checks ``booked < capacity`` on the row it locks,
so concurrent bookers cannot both take the last place, on PostgreSQL (row lock,
re-evaluated after the competing transaction commits) or on SQLite (one writer at a
time). Nothing is read first and decided in Python, which is where overbooking comes from.
"""

from __future__ import annotations

import uuid

from sqlalchemy import CursorResult, Integer, Uuid, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from borderpass.kit.db import new_id

__all__ = ["Places", "free", "release", "take"]


class Places:
    """A row of places: an id, a ``capacity`` and how many are ``booked`` (never more)."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


def free(row: Places) -> int:
    """Return how many places of a row are still free."""
    return max(row.capacity - row.booked, 0)


def _changed(session: Session, table: type[Places], row_id: uuid.UUID, step: int) -> bool:
    condition = table.booked < table.capacity if step > 0 else table.booked > 0
    result = session.execute(
        update(table)
        .where(table.id == row_id, condition)
        .values(booked=table.booked + step)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)  # noqa: S101 - an UPDATE always gives one
    row = session.get(table, row_id)
    if row is not None:  # the copy in the session shows the count the database now holds
        session.refresh(row, attribute_names=["booked"])
    return result.rowcount == 1


def take(session: Session, table: type[Places], row_id: uuid.UUID) -> bool:
    """Take one place of a row if one is free; tell whether it was taken.

    Args:
        session: the unit of work (the place is held until it commits; a rollback gives
            it back).
        table: the mapped class of places (it mixes in :class:`Places`).
        row_id: the row's id.

    Returns:
        True when a place was taken; False when the row is full or does not exist.
    """
    return _changed(session, table, row_id, +1)


def release(session: Session, table: type[Places], row_id: uuid.UUID) -> bool:
    """Give one place of a row back; tell whether one was booked to give back."""
    return _changed(session, table, row_id, -1)
