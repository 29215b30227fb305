"""What the evidence domain tells the others: someone's evidence changed, or a
compulsory testing order was recorded."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["EvidenceChanged", "TestingOrderRecorded"]


@dataclass(frozen=True)
class EvidenceChanged:
    """The evidence of ``people`` changed (a batch, a flag, an order, uploaded visits)."""

    people: Sequence[uuid.UUID]
    cause: str
    now: datetime


@dataclass(frozen=True)
class TestingOrderRecorded:
    """A compulsory testing order was recorded, naming these venues."""

    order_id: uuid.UUID
    venue_ids: Sequence[str]
    now: datetime
