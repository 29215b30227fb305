"""All SQL of what the health-code domain holds of its partners."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from borderpass.healthcode.partner_models import ConvertedCode, PartnerLists, PartnerRevocation
from borderpass.kit.db import Prepared, among

__all__ = [
    "add",
    "all_lists",
    "converted_of",
    "converted_revoked_by",
    "count_revocations",
    "delete_lists",
    "drop_expired",
    "drop_revocations",
    "get_lists",
    "revocations_of",
    "save_revocations",
    "version",
]


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)
    session.flush()


def get_lists(session: Session, jurisdiction: str) -> PartnerLists | None:
    return session.get(PartnerLists, jurisdiction)


def all_lists(session: Session) -> list[PartnerLists]:
    return list(session.scalars(select(PartnerLists).order_by(PartnerLists.jurisdiction)))


_SITES = Prepared(select(PartnerLists.jurisdiction, PartnerLists.site_url).order_by(
    PartnerLists.jurisdiction))


def sites(session: Session) -> list[tuple[str, str | None]]:
    """Return (jurisdiction, site URL) of each partner whose lists are held, by jurisdiction
    (not the lists themselves)."""
    # Read on every view of a green code: a statement compiled once, plain rows from the
    # driver, none of the ORM's bookkeeping.
    return [(jurisdiction, site) for jurisdiction, site in _SITES.rows(session.connection(), {})]


def delete_lists(session: Session, jurisdiction: str) -> int:
    """Delete a partner's lists and its revocations; return how many lists were deleted."""
    drop_revocations(session, jurisdiction)
    result = session.execute(delete(PartnerLists).where(PartnerLists.jurisdiction == jurisdiction))
    return int(getattr(result, "rowcount", 0) or 0)


def drop_revocations(session: Session, jurisdiction: str) -> None:
    session.execute(delete(PartnerRevocation)
                    .where(PartnerRevocation.jurisdiction == jurisdiction))


def save_revocations(session: Session, jurisdiction: str,
                     entries: Sequence[tuple[str, datetime]]) -> None:
    """Add a partner's revocation entries; those already held are kept as they are."""
    if not entries:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = PartnerRevocation.__table__
    assert isinstance(table, Table)  # noqa: S101 - declarative models have tables
    rows: list[dict[str, Any]] = [
        {"jurisdiction": jurisdiction, "code_hash": code, "expires_at": expires}
        for code, expires in entries]
    session.execute(insert(table).on_conflict_do_nothing(
        index_elements=[table.c.jurisdiction, table.c.code_hash]), rows)


def drop_expired(session: Session, jurisdiction: str, now: datetime) -> None:
    """Delete a partner's revocation entries whose codes have expired."""
    session.execute(delete(PartnerRevocation).where(
        PartnerRevocation.jurisdiction == jurisdiction, PartnerRevocation.expires_at <= now))


def revocations_of(session: Session, jurisdiction: str) -> list[tuple[str, datetime]]:
    """Return a partner's revocation entries held: (code hash, expires at)."""
    return [(str(code), expires) for code, expires in session.execute(
        select(PartnerRevocation.code_hash, PartnerRevocation.expires_at)
        .where(PartnerRevocation.jurisdiction == jurisdiction)
        .order_by(PartnerRevocation.code_hash))]


def count_revocations(session: Session) -> dict[str, int]:
    """Count the revocation entries held for each partner."""
    return {str(jurisdiction): int(count) for jurisdiction, count in session.execute(
        select(PartnerRevocation.jurisdiction, func.count())
        .group_by(PartnerRevocation.jurisdiction))}


def version(session: Session) -> tuple[Any, ...]:
    """Return what changes whenever a partner's lists are accepted or forgotten."""
    row = session.execute(select(func.count(), func.max(PartnerLists.accepted_at))).one()
    return tuple(row)


def converted_of(session: Session, issuer: str, original_hash: str,
                 now: datetime) -> ConvertedCode | None:
    """Return the live code converted from a partner's code, if there is one."""
    return session.scalars(select(ConvertedCode).where(
        ConvertedCode.original_issuer == issuer, ConvertedCode.original_hash == original_hash,
        ConvertedCode.revoked_at.is_(None), ConvertedCode.valid_until > now,
    ).order_by(ConvertedCode.issued_at.desc())).first()


def converted_revoked_by(session: Session, issuer: str, hashes: Sequence[str],
                         now: datetime) -> list[ConvertedCode]:
    """Return the live converted codes whose originals are among ``hashes`` of ``issuer``."""
    if not hashes:
        return []
    return list(session.scalars(select(ConvertedCode).where(
        ConvertedCode.original_issuer == issuer,
        among(session, ConvertedCode.original_hash, list(hashes)),
        ConvertedCode.revoked_at.is_(None), ConvertedCode.valid_until > now,
    )))
