"""The health code's background jobs: publishing the lists after a revocation, and
re-evaluating people in chunks.

The service imports this module, so that the jobs it sends are declared wherever it is
used; the service is imported here only when a job runs.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from borderpass.healthcode import population
from borderpass.kit import jobs
from borderpass.kit.logging import get_logger
from borderpass.kit.published import publish_file

__all__ = ["publish_lists", "reevaluate", "reevaluate_chunk"]

log = get_logger(__name__)

PUBLISHED_NAME = "trust-list-export.json"


@jobs.actor("healthcode.publish_lists", every=timedelta(hours=1))
def publish_lists(session: Session) -> None:
    """Publish the verifier's file (trust list, revocation list, partners' lists) after
    each revocation and hourly, as `borderpass trust-list export` writes it."""
    from borderpass.healthcode import service as healthcode

    bundle = healthcode.export(session, now=jobs.now())
    publish_file(PUBLISHED_NAME, json.dumps(bundle, indent=2, sort_keys=True) + "\n")
    log.info("lists.published", file=PUBLISHED_NAME)


@jobs.actor("healthcode.reevaluate", queue="bulk")
def reevaluate(session: Session, people: list[str]) -> None:
    """Re-evaluate a chunk of people and revoke the codes of those now red."""
    from borderpass.healthcode import service as healthcode

    colours = healthcode.reevaluate(session, [uuid.UUID(person) for person in people],
                                    now=jobs.now())
    log.info("status.reevaluated", people=len(colours))


@jobs.actor("healthcode.reevaluate_chunk", queue="bulk", unit=False)
def reevaluate_chunk(chunk_id: str) -> None:
    """Re-evaluate one chunk of a population run (skipped when done or held by a worker
    whose lease still runs; an error puts it back in the queue and is raised, to retry)."""
    outcome = population.run_chunk(uuid.UUID(chunk_id), unit=jobs.unit, clock=jobs.now)
    log.info("reevaluation.chunk_job", chunk=chunk_id, outcome=outcome)
