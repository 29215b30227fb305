"""All SQL of the rules domain."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from borderpass.rules.models import RuleSetVersion

__all__ = ["active", "active_digest", "active_digest_column", "add", "all_versions",
           "deactivate_all", "find", "get"]


def add(session: Session, row: RuleSetVersion) -> None:
    session.add(row)
    session.flush()


def get(session: Session, rule_set_id: uuid.UUID) -> RuleSetVersion | None:
    return session.get(RuleSetVersion, rule_set_id)


def find(session: Session, identifier: str, version: str) -> RuleSetVersion | None:
    return session.scalars(select(RuleSetVersion).where(
        RuleSetVersion.identifier == identifier, RuleSetVersion.version == version
    )).one_or_none()


def active(session: Session, jurisdiction: str) -> RuleSetVersion | None:
    return session.scalars(select(RuleSetVersion).where(
        RuleSetVersion.jurisdiction == jurisdiction, RuleSetVersion.active.is_(True)
    )).first()


def active_digest(session: Session, jurisdiction: str) -> str | None:
    """Return the digest of the active version's document (not the document itself)."""
    return session.scalars(select(RuleSetVersion.digest).where(
        RuleSetVersion.jurisdiction == jurisdiction, RuleSetVersion.active.is_(True)
    )).first()


def active_digest_column(jurisdiction: str) -> Any:
    """Return ``active_digest`` as a scalar subquery, for a query that reads more besides."""
    return select(RuleSetVersion.digest).where(
        RuleSetVersion.jurisdiction == jurisdiction, RuleSetVersion.active.is_(True)
    ).limit(1).scalar_subquery()


def deactivate_all(session: Session, jurisdiction: str) -> None:
    session.execute(update(RuleSetVersion).where(RuleSetVersion.jurisdiction == jurisdiction)
                    .values(active=False))


def all_versions(session: Session) -> list[RuleSetVersion]:
    return list(session.scalars(
        select(RuleSetVersion).order_by(RuleSetVersion.identifier, RuleSetVersion.loaded_at)
    ))
