"""Endorsement applications: apply, book a slot, review the evidence, decide, issue.

The permits domain's public face: the HTTP layer, the command line, the demo and the
tests call these names. The behaviour lives in modules named for what it does:
``applications`` (apply, find, authorise, the history), ``booking`` (offices, slots,
appointments, reminders), ``review`` (the review at the office and the decision),
``letter`` (the decision letter) and ``policy`` (the policy in force).
"""

from __future__ import annotations

from borderpass.permits.applications import (
    APPLICANT_TOKEN_TTL,
    REVIEWER_ROLES,
    ApplicationNotFound,
    DuplicateApplication,
    InvalidPermitNumber,
    TypeClosed,
    WrongState,
    application_view,
    authorise,
    create_application,
    get_application,
    normalise_permit_number,
    steps_of,
)
from borderpass.permits.booking import (
    OfficeNotFound,
    SlotFull,
    SlotNotFound,
    SlotPast,
    appointments_on,
    book,
    cancel,
    change,
    create_office,
    list_offices,
    list_slots,
    publish_slots,
    queue_reminders,
    slot_view,
)
from borderpass.permits.letter import LetterData, letter_data
from borderpass.permits.policy import policy_view
from borderpass.permits.review import (
    REVIEW_STATES,
    EndorsementRecord,
    ReviewDetails,
    ReviewIncomplete,
    SupervisorRequired,
    awaiting_supervisor,
    decide,
    decisions_on,
    endorsement_record,
    mark_evidence,
    review_details,
)

__all__ = [
    "APPLICANT_TOKEN_TTL",
    "ApplicationNotFound",
    "DuplicateApplication",
    "EndorsementRecord",
    "InvalidPermitNumber",
    "LetterData",
    "OfficeNotFound",
    "REVIEWER_ROLES",
    "REVIEW_STATES",
    "ReviewDetails",
    "ReviewIncomplete",
    "SlotFull",
    "SlotNotFound",
    "SlotPast",
    "SupervisorRequired",
    "TypeClosed",
    "WrongState",
    "application_view",
    "appointments_on",
    "authorise",
    "awaiting_supervisor",
    "book",
    "cancel",
    "change",
    "create_application",
    "create_office",
    "decide",
    "decisions_on",
    "endorsement_record",
    "get_application",
    "letter_data",
    "list_offices",
    "list_slots",
    "mark_evidence",
    "normalise_permit_number",
    "policy_view",
    "publish_slots",
    "queue_reminders",
    "review_details",
    "slot_view",
    "steps_of",
]
