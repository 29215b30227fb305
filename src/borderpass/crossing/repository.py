"""All SQL of the crossing domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from borderpass.crossing.models import (
    ControlPoint,
    CrossingDecision,
    CrossingPolicyVersion,
    Quota,
    QuotaBooking,
)
from borderpass.kit import booking

__all__ = [
    "active_booking",
    "active_policy",
    "add",
    "admitted_with",
    "all_control_points",
    "all_policies",
    "bookings_of",
    "deactivate_policies",
    "decisions_between",
    "find_booking",
    "find_control_point",
    "find_policy",
    "get_booking",
    "get_control_point",
    "get_decision",
    "get_policy",
    "get_quota",
    "open_bookings_before",
    "quarantine_load",
    "quota_on",
    "quotas_between",
    "release_place",
    "take_place",
]


def add(session: Session, *rows: object) -> None:
    """Stage new rows and flush them."""
    session.add_all(rows)
    session.flush()


# --- policies ------------------------------------------------------------------------

def find_policy(session: Session, identifier: str, version: str) -> CrossingPolicyVersion | None:
    return session.scalars(select(CrossingPolicyVersion).where(
        CrossingPolicyVersion.identifier == identifier, CrossingPolicyVersion.version == version
    )).one_or_none()


def get_policy(session: Session, policy_id: uuid.UUID) -> CrossingPolicyVersion | None:
    return session.get(CrossingPolicyVersion, policy_id)


def active_policy(session: Session, jurisdiction: str) -> CrossingPolicyVersion | None:
    return session.scalars(select(CrossingPolicyVersion).where(
        CrossingPolicyVersion.jurisdiction == jurisdiction,
        CrossingPolicyVersion.active.is_(True),
    )).first()


def deactivate_policies(session: Session, jurisdiction: str) -> None:
    session.execute(update(CrossingPolicyVersion)
                    .where(CrossingPolicyVersion.jurisdiction == jurisdiction)
                    .values(active=False))


def all_policies(session: Session) -> list[CrossingPolicyVersion]:
    return list(session.scalars(select(CrossingPolicyVersion).order_by(
        CrossingPolicyVersion.loaded_at.desc(), CrossingPolicyVersion.identifier)))


# --- control points and quotas ---------------------------------------------------------

def find_control_point(session: Session, code: str) -> ControlPoint | None:
    return session.scalars(select(ControlPoint).where(ControlPoint.code == code)).one_or_none()


def get_control_point(session: Session, point_id: uuid.UUID) -> ControlPoint | None:
    return session.get(ControlPoint, point_id)


def all_control_points(session: Session) -> list[ControlPoint]:
    return list(session.scalars(select(ControlPoint).order_by(ControlPoint.code)))


def get_quota(session: Session, quota_id: uuid.UUID) -> Quota | None:
    return session.get(Quota, quota_id)


def quota_on(session: Session, control_point_id: uuid.UUID, day: date) -> Quota | None:
    return session.scalars(select(Quota).where(
        Quota.control_point_id == control_point_id, Quota.day == day)).one_or_none()


def quotas_between(
    session: Session, control_point_ids: Sequence[uuid.UUID], first: date, last: date
) -> list[Quota]:
    return list(session.scalars(
        select(Quota)
        .where(Quota.control_point_id.in_(list(control_point_ids)), Quota.day >= first,
               Quota.day <= last)
        .order_by(Quota.day)
    ))


def take_place(session: Session, quota_id: uuid.UUID) -> bool:
    """Take one quarantine-free place of a day's quota if one is free (``kit.booking``)."""
    return booking.take(session, Quota, quota_id)


def release_place(session: Session, quota_id: uuid.UUID) -> None:
    """Give one place back to a day's quota."""
    booking.release(session, Quota, quota_id)


# --- bookings ------------------------------------------------------------------------

def get_booking(session: Session, booking_id: uuid.UUID, *,
                for_update: bool = False) -> QuotaBooking | None:
    query = select(QuotaBooking).where(QuotaBooking.id == booking_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def find_booking(session: Session, reference: str) -> QuotaBooking | None:
    return session.scalars(
        select(QuotaBooking).where(QuotaBooking.reference == reference)).one_or_none()


def active_booking(session: Session, holder_day: str, *,
                   for_update: bool = False) -> QuotaBooking | None:
    query = select(QuotaBooking).where(QuotaBooking.holder_day == holder_day)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def bookings_of(session: Session, person_id: uuid.UUID, since: date,
                limit: int = 50) -> list[tuple[QuotaBooking, Quota, ControlPoint]]:
    rows = session.execute(
        select(QuotaBooking, Quota, ControlPoint)
        .join(Quota, Quota.id == QuotaBooking.quota_id)
        .join(ControlPoint, ControlPoint.id == Quota.control_point_id)
        .where(QuotaBooking.person_id == person_id, Quota.day >= since)
        .order_by(Quota.day, QuotaBooking.booked_at)
        .limit(limit)
    )
    return [(row[0], row[1], row[2]) for row in rows]


def open_bookings_before(session: Session, day: date, limit: int) -> list[QuotaBooking]:
    return list(session.scalars(
        select(QuotaBooking)
        .join(Quota, Quota.id == QuotaBooking.quota_id)
        .where(QuotaBooking.status == "booked", Quota.day < day)
        .order_by(QuotaBooking.id)
        .limit(limit)
        .with_for_update(of=QuotaBooking, skip_locked=True)
    ))


# --- decisions -----------------------------------------------------------------------

def get_decision(session: Session, decision_id: uuid.UUID) -> CrossingDecision | None:
    return session.get(CrossingDecision, decision_id)


def admitted_with(session: Session, endorsement: str) -> int:
    """Count the decisions that admitted a traveller on this endorsement."""
    return int(session.scalar(
        select(func.count()).select_from(CrossingDecision).where(
            CrossingDecision.endorsement == endorsement,
            CrossingDecision.outcome.in_(("quarantine_free", "quarantine")))) or 0)


def quarantine_load(session: Session, places: Sequence[str], today: date) -> dict[str, int]:
    """Count the travellers each of these places holds now (their quarantine not ended)."""
    rows = session.execute(
        select(CrossingDecision.quarantine_place, func.count())
        .where(CrossingDecision.quarantine_place.in_(list(places)),
               CrossingDecision.quarantine_ends_on > today)
        .group_by(CrossingDecision.quarantine_place)
    )
    return {str(place): int(count) for place, count in rows}


def decisions_between(
    session: Session, control_point: str, start: datetime, end: datetime, limit: int = 200
) -> list[CrossingDecision]:
    return list(session.scalars(
        select(CrossingDecision)
        .where(CrossingDecision.control_point == control_point,
               CrossingDecision.decided_at >= start, CrossingDecision.decided_at < end)
        .order_by(CrossingDecision.decided_at.desc())
        .limit(limit)
    ))
