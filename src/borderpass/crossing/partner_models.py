"""Tables of the federation: the partner jurisdictions this instance recognises.

The relationship is kept here (where the partner is, the anchor key pinned for it, how
its last sync went); the lists themselves are the health-code domain's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from borderpass.kit.db import Base, UTCDateTime

__all__ = ["Partner"]


class Partner(Base):
    """Another jurisdiction's instance whose codes this one recognises."""

    __tablename__ = "crossing_partners"

    jurisdiction: Mapped[str] = mapped_column(String(8), primary_key=True)
    url: Mapped[str] = mapped_column(String(300))
    site_url: Mapped[str | None] = mapped_column(String(300))
    anchor: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(String(32))
    last_message: Mapped[str | None] = mapped_column(String(300))
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
