"""Identity's background jobs: the purges of registrations never activated and of old
failed sign-ins."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.kit import jobs
from borderpass.kit.logging import get_logger

__all__ = ["purge_failures", "purge_registrations"]

log = get_logger(__name__)


@jobs.actor("registrations.purge", every=timedelta(hours=1))
def purge_registrations(session: Session) -> None:
    """Delete the registrations not activated in time (hourly)."""
    count = identity.purge_expired_registrations(session, now=jobs.now())
    log.info("registrations.purged", count=count)


@jobs.actor("accounts.purge", every=timedelta(days=1))
def purge_failures(session: Session) -> None:
    """Delete the failed sign-ins older than the throttle's window (daily)."""
    count = identity.purge_sign_in_failures(session, now=jobs.now())
    log.info("sign_in_failures.purged", count=count)
