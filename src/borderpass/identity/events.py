"""What the identity domain tells the others: a person became active, or was deleted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

__all__ = ["PersonActivated", "PersonDeleted"]


@dataclass(frozen=True)
class PersonActivated:
    """A registration was activated: evidence waiting for this document can attach."""

    person_id: uuid.UUID
    doc_kind: str
    doc_index: str
    address_index: str | None
    now: datetime


@dataclass(frozen=True)
class PersonDeleted:
    """A resident deleted their account: whatever names them must go with it."""

    person_id: uuid.UUID
    now: datetime
