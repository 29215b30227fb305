"""Tables of the crossing's decision at the border: control points, every version of the
crossing policy, the daily quarantine-free quotas and their bookings, and the decisions.

A decision keeps what an audit of it needs (who, when, where, which policy version, the
outcome and its reason codes) and names the traveller only by the blind index of their
document: never a number, a name or the code's text.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from borderpass.kit.booking import Places
from borderpass.kit.db import Base, UTCDateTime, new_id

__all__ = ["ControlPoint", "CrossingDecision", "CrossingPolicyVersion", "Quota", "QuotaBooking"]


class ControlPoint(Base):
    """A place where travellers cross, named in the three languages."""

    __tablename__ = "crossing_control_points"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name_zh_hant: Mapped[str] = mapped_column(String(120))
    name_zh_hans: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CrossingPolicyVersion(Base):
    """One version of a crossing policy, kept for good; at most one per jurisdiction is
    in force."""

    __tablename__ = "crossing_policies"
    __table_args__ = (
        UniqueConstraint("identifier", "version", name="uq_crossing_policies_version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    identifier: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(8), index=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)
    document: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loaded_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Quota(Places, Base):
    """The quarantine-free places of one control point on one Hong Kong day; ``booked``
    never exceeds ``capacity`` (the booking engine of ``kit.booking``)."""

    __tablename__ = "crossing_quotas"
    __table_args__ = (
        UniqueConstraint("control_point_id", "day", name="uq_crossing_quotas_day"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
    )

    control_point_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("crossing_control_points.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date, index=True)
    published_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuotaBooking(Base):
    """A resident's place in a day's quota: booked, then used at the crossing, cancelled,
    or closed as a no-show when the day is over.

    ``holder_day`` is ``person:day`` while the booking holds and empty afterwards: its
    unique constraint keeps a resident to one booking a day, whatever the concurrency.
    """

    __tablename__ = "crossing_bookings"
    __table_args__ = (Index("ix_crossing_bookings_person", "person_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    quota_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("crossing_quotas.id", ondelete="RESTRICT"), index=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    holder_day: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="booked")
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CrossingDecision(Base):
    """One decision at a control point: who took it, when (and the instant it judged, the
    same unless asked otherwise), under which policy version, the outcome and its reason
    codes, and the traveller only as a blind index."""

    __tablename__ = "crossing_decisions"
    __table_args__ = (
        Index("ix_crossing_decisions_place", "control_point", "decided_at"),
        Index("ix_crossing_decisions_endorsement", "endorsement"),
        Index("ix_crossing_decisions_quarantine", "quarantine_place", "quarantine_ends_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    control_point: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(8))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    judged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_role: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    policy: Mapped[str] = mapped_column(String(96))
    policy_digest: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    document_kind: Mapped[str] = mapped_column(String(16))
    document_index: Mapped[str] = mapped_column(String(64), index=True)
    code_issuer: Mapped[str | None] = mapped_column(String(8))
    code_result: Mapped[str] = mapped_column(String(16))
    endorsement: Mapped[str | None] = mapped_column(String(20))
    booking_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crossing_bookings.id", ondelete="SET NULL")
    )
    quarantine_place: Mapped[str | None] = mapped_column(String(16))
    quarantine_ends_on: Mapped[date | None] = mapped_column(Date)
