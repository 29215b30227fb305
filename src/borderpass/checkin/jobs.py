"""Venue check-in's background jobs: publishing the exposure list, and deleting uploaded
check-ins after 31 days.

The service imports this module, so that the jobs it sends are declared wherever it is
used; the service is imported here only when a job runs.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from borderpass.kit import jobs
from borderpass.kit.logging import get_logger
from borderpass.kit.published import publish_file

__all__ = ["publish_exposure_list", "purge_uploads"]

log = get_logger(__name__)

PUBLISHED_NAME = "exposure-list.txt"


@jobs.actor("checkin.publish_exposure_list", every=timedelta(hours=1))
def publish_exposure_list(session: Session) -> None:
    """Publish the exposure list now (after each case, and hourly): every web process
    serves it at once, and it is written to the published folder."""
    from borderpass.checkin import service as checkin

    text = checkin.publish_exposure_list(session, now=jobs.now())
    publish_file(PUBLISHED_NAME, text)


@jobs.actor("checkin.purge", every=timedelta(days=1))
def purge_uploads(session: Session) -> None:
    """Delete uploaded check-ins older than 31 days (daily)."""
    from borderpass.checkin import service as checkin

    count = checkin.purge_uploads(session, now=jobs.now())
    log.info("checkin.uploads_purged", count=count)
