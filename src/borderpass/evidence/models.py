"""Tables of the evidence domain. Subjects are named by document kind and blind index."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from borderpass.kit.db import Base, UTCDateTime, new_id

__all__ = [
    "CheckinFact",
    "EvidenceSource",
    "HealthFlag",
    "HighRiskArea",
    "IngestBatch",
    "TestingOrder",
    "TestingOrderPremises",
    "TestResult",
    "TravelRecord",
    "Vaccination",
]


class EvidenceSource(Base):
    """A laboratory or registry allowed to send evidence with its own API key."""

    __tablename__ = "evidence_sources"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IngestBatch(Base):
    """One accepted batch from a source, with what it changed."""

    __tablename__ = "ingest_batches"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evidence_sources.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)


class TestResult(Base):
    """A laboratory result for a specimen, unique per source and specimen id."""

    __test__ = False  # not a pytest test class, whatever its name

    __tablename__ = "test_results"
    __table_args__ = (
        UniqueConstraint("source_id", "specimen_id", name="uq_test_results_specimen"),
        Index("ix_test_results_subject", "doc_kind", "doc_index"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evidence_sources.id"))
    specimen_id: Mapped[str] = mapped_column(String(64))
    doc_kind: Mapped[str] = mapped_column(String(16))
    doc_index: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(8))
    result: Mapped[str] = mapped_column(String(16))
    # The name of the source that sent it (``source_id``), for display; never the batch's.
    lab: Mapped[str] = mapped_column(String(128))
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class Vaccination(Base):
    """A vaccine dose from the registry, unique per subject and dose number."""

    __tablename__ = "vaccinations"
    __table_args__ = (
        UniqueConstraint("doc_kind", "doc_index", "dose_number", name="uq_vaccinations_dose"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evidence_sources.id"))
    doc_kind: Mapped[str] = mapped_column(String(16))
    doc_index: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    dose_number: Mapped[int] = mapped_column(Integer)
    product: Mapped[str] = mapped_column(String(64))
    vaccinated_on: Mapped[date] = mapped_column(Date)
    provider: Mapped[str] = mapped_column(String(128))
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class HealthFlag(Base):
    """An officer's record about a person: a case, a close contact, or quarantine."""

    __tablename__ = "health_flags"
    __table_args__ = (Index("ix_health_flags_subject", "doc_kind", "doc_index"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    doc_kind: Mapped[str] = mapped_column(String(16))
    doc_index: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TestingOrder(Base):
    """A compulsory testing order: whoever lived at or was in the premises must test."""

    __test__ = False  # not a pytest test class, whatever its name

    __tablename__ = "testing_orders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    period_from: Mapped[datetime] = mapped_column(UTCDateTime)
    period_to: Mapped[datetime] = mapped_column(UTCDateTime)
    test_by: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)


class TestingOrderPremises(Base):
    """One premises named by an order: a published address, or a registered venue."""

    __test__ = False  # not a pytest test class, whatever its name

    __tablename__ = "testing_order_premises"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("testing_orders.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(400))
    address_index: Mapped[str] = mapped_column(String(64), index=True)
    venue_id: Mapped[str | None] = mapped_column(String(64), index=True)


class HighRiskArea(Base):
    """A region an officer declared high-risk for a period."""

    __tablename__ = "high_risk_areas"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    region_code: Mapped[str] = mapped_column(String(16), index=True)
    name_en: Mapped[str] = mapped_column(String(128))
    name_zh: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TravelRecord(Base):
    """Where a person was and when, from a crossing or a partner's travel record."""

    __tablename__ = "travel_records"
    __table_args__ = (Index("ix_travel_records_subject", "doc_kind", "doc_index"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    doc_kind: Mapped[str] = mapped_column(String(16))
    doc_index: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    region_code: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CheckinFact(Base):
    """What a resident's uploaded check-ins tell the rules, derived from them and kept with them.

    ``exposure``: a visit to a place while a case was there (or a taxi ride just after).
    ``order``: a visit to a venue that a compulsory testing order (``order_id``) names,
    during the order's period. Deleted with the uploads, after 31 days or on withdrawal.
    """

    __tablename__ = "evidence_checkin_facts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    place_id: Mapped[str] = mapped_column(String(16))
    visit_from: Mapped[datetime] = mapped_column(UTCDateTime)
    visit_to: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("testing_orders.id", ondelete="CASCADE"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
