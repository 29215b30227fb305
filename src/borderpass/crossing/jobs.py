"""The crossing's background job: fetching the partners' lists."""

from __future__ import annotations

from datetime import timedelta

from borderpass.crossing import partners as federation
from borderpass.kit import jobs
from borderpass.kit.config import get_settings
from borderpass.kit.logging import get_logger

__all__ = ["sync_partners"]

log = get_logger(__name__)


def _every() -> timedelta:
    return timedelta(minutes=get_settings().partners_sync_minutes)


@jobs.actor("partners.sync", every=_every, unit=False)
def sync_partners() -> None:
    """Fetch each partner's signed lists (every ``BORDERPASS_PARTNERS_SYNC_MINUTES``).

    A partner that cannot be reached is recorded as such on its row and tried again at
    the next sync; the job itself does not fail for it.
    """
    results = federation.sync(jobs.unit, now=jobs.now())
    failed = [result.jurisdiction for result in results if not result.ok]
    log.info("partners.synced", partners=len(results), failed=failed)
