"""All SQL of the health-code domain."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, func, select
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
