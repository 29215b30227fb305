"""Time: aware datetimes only, and "today" is a day in Hong Kong."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["HONG_KONG", "end_of_day", "hk_date", "hk_isoformat", "parse_instant", "utcnow"]

HONG_KONG = ZoneInfo("Asia/Hong_Kong")


def utcnow() -> datetime:
    """Return the current instant, aware, in UTC."""
    return datetime.now(UTC)


def hk_date(instant: datetime) -> date:
    """Return the Hong Kong calendar day of an instant."""
    return instant.astimezone(HONG_KONG).date()


def hk_isoformat(instant: datetime) -> str:
    """Return an instant as ISO-8601 in Hong Kong time with its offset, to the second."""
    return instant.astimezone(HONG_KONG).isoformat(timespec="seconds")


def end_of_day(instant: datetime) -> datetime:
    """Return 23:59:59 Hong Kong time on the Hong Kong day of ``instant``."""
    day = hk_date(instant)
    return datetime.combine(day, time(23, 59, 59), tzinfo=HONG_KONG)


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant; one without an offset is taken as Hong Kong time.

    Raises:
        ValueError: the text is not an ISO-8601 date-time.
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=HONG_KONG)
    return value


def as_aware(value: datetime) -> datetime:
    """Return a datetime read back from a database as aware UTC.

    SQLite keeps no offset, so values are stored in UTC and given their zone back here.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


DAY = timedelta(days=1)
