"""Side effects across domains, connected once at start-up.

A lower domain publishes a typed event; the handler lives in the domain that must react.
``wire()`` is the one place that says which handler answers which event. The app
factory and the command line call it; nothing depends on the order of imports.

The background jobs are declared in each domain's ``jobs.py``; they are imported here, so
that every process that wires (the web processes, the commands, ``borderpass worker``)
knows every job by name.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from borderpass.checkin import jobs as _checkin_jobs
from borderpass.checkin import service as checkin
from borderpass.crossing import jobs as _crossing_jobs
from borderpass.echannel import jobs as _echannel_jobs
from borderpass.echannel import service as echannel
from borderpass.evidence import pages as evidence_pages
from borderpass.evidence import service as evidence
from borderpass.evidence.events import EvidenceChanged, TestingOrderRecorded
from borderpass.healthcode import jobs as _healthcode_jobs
from borderpass.healthcode import service as healthcode
from borderpass.identity import jobs as _identity_jobs
from borderpass.identity import service as identity
from borderpass.identity.events import AccountSuspended, HolderProven, PersonDeleted
from borderpass.kit import events, outbox, sessions
from borderpass.permits import jobs as _permits_jobs

__all__ = ["JOB_MODULES", "wire"]

# The modules that declare jobs (imported for that).
JOB_MODULES = (_checkin_jobs, _crossing_jobs, _echannel_jobs, _healthcode_jobs, _identity_jobs,
               _permits_jobs, outbox, sessions)


def wire() -> None:
    """Register every domain's event handlers (again, from nothing, if called twice)."""
    events.reset()
    # A person proves they hold a document: the evidence that waited for it attaches.
    events.subscribe(HolderProven, evidence.on_holder_proven)
    # An account is suspended (another person proved they hold its document): its codes
    # are revoked.
    events.subscribe(AccountSuspended, healthcode.on_account_suspended)
    # A person is deleted: their evidence is detached, their e-Channel enrolments deleted.
    events.subscribe(PersonDeleted, evidence.on_person_deleted)
    events.subscribe(PersonDeleted, echannel.on_person_deleted)
    # Evidence changed: statuses are re-evaluated and codes of people now red revoked.
    events.subscribe(EvidenceChanged, healthcode.on_evidence_changed)
    # A testing order names venues: uploaders who were there get the order as a fact.
    events.subscribe(TestingOrderRecorded, checkin.on_testing_order)
    # The evidence page says how much of the last 14 days the uploaded check-ins cover.
    evidence_pages.register_upload_coverage(_upload_coverage)
    # A testing order's venues are found in check-in, which evidence cannot import.
    evidence.reset_venue_directory()
    evidence.use_venue_directory(checkin.search_venues, checkin.venues_by_code)
    # An activation message's PIN is made as it is delivered, and only its hash kept.
    outbox.reset_fillers()
    outbox.register_filler("activation_pin", identity.fill_activation_pin)
    # So is the PIN of a letter that proves who holds a document.
    outbox.register_filler("identity_letter", identity.fill_letter_pin)


def _upload_coverage(session: Session, person_id: uuid.UUID,
                     now: datetime) -> evidence_pages.UploadCoverage | None:
    found = checkin.recent_coverage(session, person_id, now=now)
    if found is None:
        return None
    return evidence_pages.UploadCoverage(uploaded_at=found[0], covered_days=found[1])
