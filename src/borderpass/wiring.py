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
from borderpass.identity import service as identity
from borderpass.identity.events import AccountSuspended, HolderProven, PersonDeleted
from borderpass.kit import events, outbox

__all__ = ["wire"]


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
    # An activation message's PIN is made as it is delivered, and only its hash kept.
    outbox.reset_fillers()
    outbox.register_filler("activation_pin", identity.fill_activation_pin)
    # So is the PIN of a letter that proves who holds a document.
    outbox.register_filler("identity_letter", identity.fill_letter_pin)
