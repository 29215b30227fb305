"""Tables of what the health-code domain holds of its partners: their accepted lists,
the revocations they published, and the codes converted from theirs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from borderpass.kit.db import Base, UTCDateTime, new_id

__all__ = ["ConvertedCode", "PartnerLists", "PartnerRevocation"]


class PartnerLists(Base):
    """A partner's lists as last accepted, checked against the anchor pinned for it.

    The trust list and the rule set are kept as the partner signed them, so that they
    can be checked again and handed on; the revocations are merged into
    ``partner_revocations`` up to ``revocations_through``.
    """

    __tablename__ = "partner_lists"

    jurisdiction: Mapped[str] = mapped_column(String(8), primary_key=True)
    anchor: Mapped[str] = mapped_column(String(16))
    trust_list: Mapped[str] = mapped_column(Text)
    trust_issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revocations_issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revocations_max_age: Mapped[int] = mapped_column(Integer)
    revocations_through: Mapped[int] = mapped_column(BigInteger)
    rule_set: Mapped[str | None] = mapped_column(Text)
    rule_set_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    site_url: Mapped[str | None] = mapped_column(String(300))
    """Where the partner's site converts our codes to its own (linked from the code page)."""
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PartnerRevocation(Base):
    """A code a partner revoked: the hash its revocation list gives, until the code expires."""

    __tablename__ = "partner_revocations"

    jurisdiction: Mapped[str] = mapped_column(
        ForeignKey("partner_lists.jurisdiction", ondelete="CASCADE"), primary_key=True
    )
    code_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ConvertedCode(Base):
    """A code this jurisdiction issued in place of a partner's green code.

    It names no person: only the original's jurisdiction and hash, so that it is revoked
    when the partner revokes the original. ``text`` holds only what the original showed.
    """

    __tablename__ = "converted_codes"
    __table_args__ = (Index("ix_converted_codes_original", "original_issuer", "original_hash"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(32), unique=True)
    original_issuer: Mapped[str] = mapped_column(String(8))
    original_hash: Mapped[str] = mapped_column(String(32))
    colour: Mapped[str] = mapped_column(String(8))
    kid: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    text: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
