"""Side effects across domains, connected once at start-up.

A lower domain publishes a typed event; the handler lives in the domain that must react.
``wire()`` is the one place that says which handler answers which event. The app
factory and the command line call it; nothing depends on the order of imports.
"""

from __future__ import annotations

from borderpass.checkin import service as checkin
from borderpass.echannel import service as echannel
from borderpass.evidence import service as evidence
from borderpass.evidence.events import EvidenceChanged, TestingOrderRecorded
from borderpass.healthcode import service as healthcode
from borderpass.identity.events import PersonActivated, PersonDeleted
from borderpass.kit import events

__all__ = ["wire"]


def wire() -> None:
    """Register every domain's event handlers (again, from nothing, if called twice)."""
    events.reset()
    # A person becomes active: results and vaccinations that waited for the document attach.
    events.subscribe(PersonActivated, evidence.on_person_activated)
    # A person is deleted: their evidence is detached, their e-Channel enrolments deleted.
    events.subscribe(PersonDeleted, evidence.on_person_deleted)
    events.subscribe(PersonDeleted, echannel.on_person_deleted)
    # Evidence changed: statuses are re-evaluated and codes of people now red revoked.
    events.subscribe(EvidenceChanged, healthcode.on_evidence_changed)
    # A testing order names venues: uploaders who were there get the order as a fact.
    events.subscribe(TestingOrderRecorded, checkin.on_testing_order)
