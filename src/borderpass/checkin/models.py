"""Tables of the check-in domain.

The server keeps venues, their secrets (sealed), the cases officers record, the
published list, and uploaded visits of residents who consented (deleted after 31 days).
Phones' own check-ins are never sent here unless the resident uploads them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from borderpass.kit.db import Base, UTCDateTime, new_id

__all__ = ["Case", "ExposureListCache", "Upload", "UploadedVisit", "Venue", "VenueSecret"]


class Venue(Base):
    """A registered venue; it gets a QR code once a health officer approves it."""

    __tablename__ = "checkin_venues"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_zh_hans: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160))
    type: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(400))
    operator_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VenueSecret(Base):
    """One generation of a venue's secret: the one its posters carried for a while."""

    __tablename__ = "checkin_venue_secrets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    venue_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("checkin_venues.id", ondelete="CASCADE"), index=True
    )
    generation: Mapped[int] = mapped_column(Integer)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Case(Base):
    """Where a case was: a registered venue, a legacy venue or a taxi, and when."""

    __tablename__ = "checkin_cases"
    __table_args__ = (Index("ix_checkin_cases_place", "place_kind", "place_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    place_kind: Mapped[str] = mapped_column(String(8))  # venue, legacy, taxi
    place_id: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExposureListCache(Base):
    """The last published exposure list; regenerated when older than its maximum age."""

    __tablename__ = "checkin_exposure_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entries: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)


class Upload(Base):
    """A resident's consented upload of their phone's records (the latest one counts)."""

    __tablename__ = "checkin_uploads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    device_key: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    in_use_since: Mapped[datetime] = mapped_column(UTCDateTime)
    records: Mapped[int] = mapped_column(Integer)


class UploadedVisit(Base):
    """One uploaded visit, kept for the Health Code rules and deleted after 31 days."""

    __tablename__ = "checkin_uploaded_visits"
    __table_args__ = (Index("ix_checkin_uploaded_visits_place", "place_kind", "place_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    upload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("checkin_uploads.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    place_kind: Mapped[str] = mapped_column(String(8))
    place_id: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
