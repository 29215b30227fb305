"""Types for values that cross the boundary, bounded to what the database and the
calendar hold: an instant must say its time zone, a day lies between 1900 and 2199, a
sequence number fits a signed 64-bit integer. A value outside is refused with a 422
that names the field, never passed on to fail in the database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

__all__ = ["FIRST_DAY", "LAST_DAY", "Day", "Instant", "Seq"]

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
_FIRST = datetime(1900, 1, 1, tzinfo=UTC)
_AFTER_LAST = datetime(2200, 1, 1, tzinfo=UTC)


def _instant(value: datetime) -> datetime:
    if not _FIRST <= value < _AFTER_LAST:
        raise ValueError("must be between the years 1900 and 2199")
    return value


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError("must be between the years 1900 and 2199")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_instant)]
Day = Annotated[date, AfterValidator(_day)]
Seq = Annotated[int, Field(ge=0, le=2**63 - 1)]
