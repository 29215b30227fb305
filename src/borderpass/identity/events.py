"""What the identity domain tells the others: a person became the proven holder of a
document, an account was suspended, or an account was deleted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

__all__ = ["AccountSuspended", "HolderProven", "PersonDeleted"]


@dataclass(frozen=True)
class HolderProven:
    """A person proved they hold a document: the evidence waiting for it can attach."""

    person_id: uuid.UUID
    doc_kind: str
    doc_index: str
    now: datetime


@dataclass(frozen=True)
class AccountSuspended:
    """An account was suspended (another person proved they hold its document): whatever
    it was issued must stop working."""

    person_id: uuid.UUID
    reason: str
    now: datetime


@dataclass(frozen=True)
class PersonDeleted:
    """A resident deleted their account: whatever names them must go with it."""

    person_id: uuid.UUID
    now: datetime
