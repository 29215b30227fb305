"""All SQL of the health-code domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from borderpass.healthcode.models import CodeRevocation, HealthCode, PersonStatus

__all__ = ["add", "count_issued", "live_codes", "revocations_since", "status_of"]


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)
    session.flush()


def live_codes(session: Session, person_id: uuid.UUID, now: datetime) -> list[HealthCode]:
    """Return the person's codes not revoked and not expired at ``now``, newest first."""
    return list(session.scalars(
        select(HealthCode).where(HealthCode.person_id == person_id,
                                 HealthCode.revoked_at.is_(None), HealthCode.valid_until > now)
        .order_by(HealthCode.issued_at.desc())
    ))


def find_code(session: Session, code_hash: str) -> HealthCode | None:
    return session.scalars(select(HealthCode).where(HealthCode.code_hash == code_hash)).first()


def revocations_since(session: Session, seq: int, now: datetime) -> list[CodeRevocation]:
    """Return revocation entries after ``seq`` whose codes have not expired by ``now``."""
    return list(session.scalars(
        select(CodeRevocation).where(CodeRevocation.seq > seq, CodeRevocation.expires_at > now)
        .order_by(CodeRevocation.seq)
    ))


def last_seq(session: Session) -> int:
    value = session.scalar(select(CodeRevocation.seq).order_by(CodeRevocation.seq.desc()).limit(1))
    return int(value or 0)


def last_revoked_at(session: Session) -> datetime | None:
    """Return when the newest revocation entry was made (None when there is none)."""
    return session.scalar(select(CodeRevocation.revoked_at)
                          .order_by(CodeRevocation.seq.desc()).limit(1))


def live_codes_not_red(
    session: Session, person_ids: Sequence[uuid.UUID], now: datetime
) -> list[HealthCode]:
    """Return these people's live codes that are not red, newest first per person."""
    if not person_ids:
        return []
    return list(session.scalars(
        select(HealthCode).where(HealthCode.person_id.in_(list(person_ids)),
                                 HealthCode.revoked_at.is_(None), HealthCode.valid_until > now,
                                 HealthCode.colour != "red")
        .order_by(HealthCode.person_id, HealthCode.issued_at.desc())
    ))


def save_statuses(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace the last status of each person in ``rows``, in one statement.

    Objects of these statuses already in the session are expired, so they are read anew.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = PersonStatus.__table__
    assert isinstance(table, Table)  # noqa: S101 - declarative models have tables
    statement = insert(table)  # Core, not the ORM's bulk path: it is a plain upsert
    columns = ("colour", "reasons", "changes_at", "evaluated_at", "rule_set")
    session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.person_id],
        set_={name: statement.excluded[name] for name in columns},
    ), list(rows))
    ids = {row["person_id"] for row in rows}
    for held in list(session.identity_map.values()):
        if isinstance(held, PersonStatus) and held.person_id in ids:
            session.expire(held)


def status_of(session: Session, person_id: uuid.UUID) -> PersonStatus | None:
    return session.get(PersonStatus, person_id)


def count_issued(session: Session, edges: list[datetime]) -> list[tuple[int, str, int]]:
    """Count codes issued in each interval ``[edges[i], edges[i + 1])`` by colour.

    Returns ``(interval index, colour, count)`` rows; one query, whatever the database.
    """
    if len(edges) < 2:
        return []
    bucket = case(*((HealthCode.issued_at < edge, index)
                    for index, edge in enumerate(edges[1:])), else_=-1)
    rows = session.execute(
        select(bucket.label("bucket"), HealthCode.colour, func.count())
        .where(HealthCode.issued_at >= edges[0], HealthCode.issued_at < edges[-1])
        .group_by(bucket, HealthCode.colour)
    )
    return [(int(index), str(colour), int(count)) for index, colour, count in rows]
