"""Tables of the identity domain. Personal fields are sealed; lookups use blind indexes."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from borderpass.kit.db import Base, UTCDateTime, new_id

__all__ = [
    "ActivationPin",
    "ApiToken",
    "DocumentRegistry",
    "IdentityCase",
    "Person",
    "ProofAttempt",
    "ProofDocument",
    "ProofLetter",
    "RegistryRecord",
    "Registration",
    "SignInFailure",
    "SignInLock",
    "StaffMember",
]

# At most one active proven holder per document; claimed, pending and suspended accounts
# for the same document may be many (a squatter cannot block the real holder).
_PROVEN_HOLDER = "status = 'active' AND assurance = 'proven'"


class Person(Base):
    """A resident's account. Only sealed values and blind indexes are stored.

    ``assurance`` is ``claimed`` (a typed number and an SMS PIN) or ``proven`` (the card's
    chip and a live face, a help desk, or the issuing registry and a letter). ``status``
    is ``pending`` (not activated yet), ``active`` or ``suspended`` (another person
    proved they hold the document).
    """

    __tablename__ = "people"
    __table_args__ = (
        Index("ix_people_document", "doc_kind", "doc_index"),
        Index("uq_people_proven_holder", "doc_kind", "doc_index", unique=True,
              sqlite_where=text(_PROVEN_HOLDER), postgresql_where=text(_PROVEN_HOLDER)),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    doc_kind: Mapped[str] = mapped_column(String(16))
    doc_index: Mapped[str] = mapped_column(String(64))
    doc_number_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    doc_masked: Mapped[str] = mapped_column(String(32))
    doc_issued_on: Mapped[date] = mapped_column(Date)
    name_zh_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    name_en_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    initials: Mapped[str] = mapped_column(String(16))
    hrp_index: Mapped[str | None] = mapped_column(String(64), index=True)
    hrp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    address_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    address_index: Mapped[str] = mapped_column(String(64), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8), default="zh_Hant")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assurance: Mapped[str] = mapped_column(String(16), default="claimed")
    proven_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proof_method: Mapped[str | None] = mapped_column(String(16))
    proven_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_reason: Mapped[str | None] = mapped_column(String(200))


class ProofDocument(Base):
    """A proof-of-address file, sealed; its type is judged from its content."""

    __tablename__ = "proof_documents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    content_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Registration(Base):
    """A registration in progress: it must be activated before ``expires_at``."""

    __tablename__ = "registrations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="started")
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str | None] = mapped_column(String(16))
    helped_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ActivationPin(Base):
    """A 6-digit PIN sent to activate a registration; hashed, expiring, with few tries.

    The row is made when the PIN is asked for (``sent_at``); the PIN itself is made at
    delivery, when only its hash is kept and its lifetime starts. Until then
    ``pin_hash`` is empty.
    """

    __tablename__ = "activation_pins"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    registration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffMember(Base):
    """An officer or operator who signs in with a user name and password."""

    __tablename__ = "staff"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token or API key, stored as its SHA-256; it names a principal and a role."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal_kind: Mapped[str] = mapped_column(String(16))
    principal_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    role: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProofAttempt(Base):
    """One attempt to prove an account's identity, kept to limit and to audit them."""

    __tablename__ = "identity_proof_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(32))


class ProofLetter(Base):
    """A PIN sent by letter to the address the issuing registry holds; hashed, expiring."""

    __tablename__ = "identity_proof_letters"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DocumentRegistry(Base):
    """An authority that issues one kind of identity document and sends its records."""

    __tablename__ = "document_registries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    doc_kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RegistryRecord(Base):
    """What the issuing registry holds about a document: the holder's name in English,
    date of birth, the document's date of issue and the registered address (sealed)."""

    __tablename__ = "document_registry_records"
    __table_args__ = (
        UniqueConstraint("doc_kind", "doc_index", name="uq_document_registry_records_document"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    registry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("document_registries.id"), index=True
    )
    doc_kind: Mapped[str] = mapped_column(String(16))
    doc_index: Mapped[str] = mapped_column(String(64))
    name_en_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    born_on: Mapped[date] = mapped_column(Date)
    issued_on: Mapped[date] = mapped_column(Date)
    address_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityCase(Base):
    """A claimed account suspended because another person proved they hold the document,
    for an officer to review."""

    __tablename__ = "identity_cases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    doc_kind: Mapped[str] = mapped_column(String(16))
    doc_masked: Mapped[str] = mapped_column(String(32))
    suspended_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    proven_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    method: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    note: Mapped[str | None] = mapped_column(String(500))


class SignInFailure(Base):
    """One failed sign-in, kept for the throttle's sliding window and then purged.

    ``scope`` is ``resident`` (``key``: the document's blind index), ``staff`` (the user
    name as typed) or ``address`` (the client's address). An account that does not exist
    is counted like one that does, so that the answers tell nothing about which exist.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_key", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SignInLock(Base):
    """An account locked after too many failed sign-ins, until an officer lifts it."""

    __tablename__ = "sign_in_locks"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    # What an officer is shown: a masked document number or a staff user name.
    label: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer)
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
