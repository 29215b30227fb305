"""Tables of the e-Channel. Templates are sealed; documents are found by blind index."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from borderpass.kit.db import Base, UTCDateTime, new_id

__all__ = ["Enrolment", "GuardianConsent", "Passage", "UsedToken"]


class Enrolment(Base):
    """A person enrolled for the e-Channel, with who enrolled them and how."""

    __tablename__ = "echannel_enrolments"
    __table_args__ = (
        Index("ix_echannel_enrolments_doc_index_status", "doc_index", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    doc_index: Mapped[str] = mapped_column(String(64))
    doc_masked: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # app, gate or office
    enrolled_by_kind: Mapped[str] = mapped_column(String(16))  # resident, gate or officer
    enrolled_by: Mapped[str] = mapped_column(String(64))
    device_kid: Mapped[str | None] = mapped_column(String(32), unique=True)
    device_key: Mapped[str | None] = mapped_column(Text)
    template_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    age_at_enrolment: Mapped[int] = mapped_column(Integer)
    guardian_index: Mapped[str | None] = mapped_column(String(64))
    guardian_masked: Mapped[str | None] = mapped_column(String(32))
    guardian_relationship: Mapped[str | None] = mapped_column(String(32))
    guardian_consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # active; pending_guardian (a minor's, until the guardian approves); replaced,
    # withdrawn, refused (the guardian declined) or expired (no approval in time)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))


class UsedToken(Base):
    """A gate-1 token already accepted; a second use of the same nonce is a replay."""

    __tablename__ = "echannel_used_tokens"

    enrolment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("echannel_enrolments.id", ondelete="CASCADE"), primary_key=True
    )
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Passage(Base):
    """One traveller through the two gates. The live photo is never kept, only the result."""

    __tablename__ = "echannel_passages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    enrolment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("echannel_enrolments.id", ondelete="CASCADE"), index=True
    )
    gate: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8))  # qr or card
    gate1_at: Mapped[datetime] = mapped_column(UTCDateTime)
    gate2_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    distance: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16), default="at_gate2")  # open, officer


class GuardianConsent(Base):
    """A minor's request for a guardian's consent, and the guardian's answer.

    The minor names the guardian by HKID number (kept as a blind index and a masked
    number); only the proven holder of that number can answer. Who answered, when and in
    which relationship stay on record after a withdrawal.
    """

    __tablename__ = "echannel_guardian_consents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    enrolment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("echannel_enrolments.id", ondelete="CASCADE"), index=True
    )
    guardian_index: Mapped[str] = mapped_column(String(64), index=True)
    guardian_masked: Mapped[str] = mapped_column(String(32))
    child_masked: Mapped[str] = mapped_column(String(32))
    child_name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    child_age: Mapped[int] = mapped_column(Integer)
    # pending, approved, declined, withdrawn, expired or cancelled (the minor asked again)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    guardian_person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    relationship: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
