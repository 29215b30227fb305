"""All SQL of the federation's partners."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from borderpass.crossing.partner_models import Partner

__all__ = ["add", "all_partners", "delete_partner", "get"]


def add(session: Session, partner: Partner) -> None:
    session.add(partner)
    session.flush()


def get(session: Session, jurisdiction: str) -> Partner | None:
    return session.get(Partner, jurisdiction)


def all_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.jurisdiction)))


def delete_partner(session: Session, jurisdiction: str) -> None:
    session.execute(delete(Partner).where(Partner.jurisdiction == jurisdiction))
