"""The e-Channel's background jobs: forgetting the gate-1 tokens already used, and closing
minors' enrolments whose guardian did not approve in time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from borderpass.echannel import service as echannel
from borderpass.kit import jobs
from borderpass.kit.logging import get_logger

__all__ = ["expire_consents", "purge_tokens"]

log = get_logger(__name__)


@jobs.actor("gates.purge", every=timedelta(minutes=5))
def purge_tokens(session: Session) -> None:
    """Delete the used gate-1 nonces that can no longer be replayed (every 5 minutes)."""
    count = echannel.purge_used_tokens(session, now=jobs.now())
    log.info("gate_tokens.purged", count=count)


@jobs.actor("gates.expire_consents", every=timedelta(hours=1))
def expire_consents(session: Session) -> None:
    """Expire minors' enrolments whose guardian did not approve in 7 days (every hour)."""
    count = echannel.expire_consents(session, now=jobs.now())
    log.info("guardian_consents.expired", count=count)
