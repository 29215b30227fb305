"""Tables of the health-code domain: issued codes, revocations and the last status."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from borderpass.kit.db import Base, UTCDateTime, new_id

__all__ = ["CodeRevocation", "HealthCode", "PersonStatus"]


class HealthCode(Base):
    """A code issued to a person; the code id itself is only kept as its hash."""

    __tablename__ = "health_codes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(32), unique=True)
    colour: Mapped[str] = mapped_column(String(8))
    kid: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    text: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CodeRevocation(Base):
    """An entry of the revocation list; ``seq`` orders entries so verifiers fetch only news."""

    __tablename__ = "code_revocations"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    code_hash: Mapped[str] = mapped_column(String(32), unique=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(String(32))


class PersonStatus(Base):
    """The last evaluation of a person's status, refreshed when their evidence changes."""

    __tablename__ = "person_statuses"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    colour: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[str] = mapped_column(String(400))
    changes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When an evaluation gave this status; a later one that gives the same status (every
    other column equal) leaves the row as it is."""
    rule_set: Mapped[str] = mapped_column(String(96))
    fresh_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Until when this status holds with no new evidence: its ``changes_at``, or earlier
    when the facts it was evaluated from change with the clock. NULL while it is not known
    to hold: the person's evidence changed and their re-evaluation is queued (a row whose
    ``colour`` is empty was never evaluated), or it was evaluated from facts read before
    its row was held."""
    basis: Mapped[str | None] = mapped_column(String(160))
    """What the evaluation rested on besides the person's own evidence: the digest of the
    rule set in force and the version of the high-risk areas."""
