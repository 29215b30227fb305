"""Tables of the permits domain: offices, slots, applications, review and endorsements.

The applicant's identity number, name and phone are sealed; the application is found
again by a blind index of the identity number, never by the plain number.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from borderpass.kit.booking import Places
from borderpass.kit.db import Base, UTCDateTime, new_id

__all__ = [
    "Appointment",
    "Application",
    "ApplicationStep",
    "Endorsement",
    "EvidenceCheck",
    "Office",
    "Slot",
]


class Office(Base):
    """An exit-entry office (hall) that receives applicants by appointment."""

    __tablename__ = "permit_offices"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Slot(Places, Base):
    """An appointment slot with a capacity; ``booked`` never exceeds it (``kit.booking``)."""

    __tablename__ = "permit_slots"
    __table_args__ = (
        UniqueConstraint("office_id", "starts_at", name="uq_permit_slots_office_start"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
    )

    office_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("permit_offices.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Application(Base):
    """An application for an endorsement, and where it stands."""

    __tablename__ = "permit_applications"
    __table_args__ = (Index("ix_permit_applications_applicant", "applicant_index", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    applicant_index: Mapped[str] = mapped_column(String(64))
    applicant_id_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    applicant_masked: Mapped[str] = mapped_column(String(32))
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    phone_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    permit_number_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    permit_masked: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str | None] = mapped_column(String(32))
    relationship: Mapped[str | None] = mapped_column(String(32))
    relationship_detail: Mapped[str | None] = mapped_column(String(200))
    employer: Mapped[str | None] = mapped_column(String(200))
    inviter: Mapped[str | None] = mapped_column(String(200))
    needs_supervisor: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(8), default="zh_Hans")
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_role: Mapped[str | None] = mapped_column(String(32))
    decision_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    decision_note: Mapped[str | None] = mapped_column(Text)
    office_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("permit_offices.id", ondelete="SET NULL")
    )


class Appointment(Base):
    """A booked place in a slot; cancelled or moved appointments keep their history."""

    __tablename__ = "permit_appointments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("permit_applications.id", ondelete="CASCADE"), index=True
    )
    slot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("permit_slots.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="booked")
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EvidenceCheck(Base):
    """One item of an application's checklist and what the officer found."""

    __tablename__ = "permit_evidence_checks"
    __table_args__ = (
        UniqueConstraint("application_id", "item", name="uq_permit_evidence_checks_item"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("permit_applications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(48))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(500))
    marked_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApplicationStep(Base):
    """Who did what to an application, and when: the application's history."""

    __tablename__ = "permit_steps"
    __table_args__ = (UniqueConstraint("application_id", "seq", name="uq_permit_steps_seq"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("permit_applications.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Endorsement(Base):
    """The endorsement an approval issues."""

    __tablename__ = "permit_endorsements"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("permit_applications.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(2))
    entries: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    stay_days: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[uuid.UUID] = mapped_column(Uuid)
