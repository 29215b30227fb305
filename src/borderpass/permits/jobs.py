"""Endorsements' background job: tomorrow's appointment reminders."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from borderpass.kit import jobs
from borderpass.kit.logging import get_logger
from borderpass.permits import service as permits

__all__ = ["remind"]

log = get_logger(__name__)


@jobs.actor("permits.remind", every=timedelta(hours=1))
def remind(session: Session) -> None:
    """Queue tomorrow's appointment reminders (hourly; each goes out once)."""
    count = permits.queue_reminders(session, now=jobs.now())
    log.info("permits.reminders_queued", count=count)
