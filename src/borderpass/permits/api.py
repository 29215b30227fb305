"""JSON endpoints of the permits domain: applications, booking, review and decisions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from borderpass.identity.caller import Caller, require
from borderpass.identity.schemas import Principal, TokenView
from borderpass.kit.clock import hk_date
from borderpass.kit.http import DbSession, Now
from borderpass.kit.types import Day
from borderpass.permits import service
from borderpass.permits.letter import render_letter
from borderpass.permits.schemas import (
    ApplicationCreated,
    ApplicationIn,
    ApplicationView,
    BookingIn,
    DecisionIn,
    EvidenceMarkIn,
    OfficeIn,
    OfficeView,
    SlotsIn,
    SlotView,
    StepView,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/permits", tags=["permits"])

Reviewer = Annotated[Principal, require(*service.REVIEWER_ROLES)]
Supervisor = Annotated[Principal, require("supervisor")]
Locale = Annotated[str, Query(pattern="^(zh_Hant|zh_Hans|en)$")]


@router.get("/policy")
def policy(now: Now, locale: Locale = "zh_Hans") -> dict[str, Any]:
    """Describe which endorsement types are open today, the reasons and their checklists."""
    return service.policy_view(locale=locale, now=now)


@router.post("/applications", status_code=201)
def apply(body: ApplicationIn, session: DbSession, now: Now) -> ApplicationCreated:
    """Apply for an endorsement; the answer carries the application's access token."""
    application, token, expires = service.create_application(session, body, now=now)
    return ApplicationCreated(application=service.application_view(session, application),
                              access=TokenView(token=token, expires_at=expires))


@router.get("/applications/{application_id}")
def show(application_id: uuid.UUID, session: DbSession, caller: Caller) -> ApplicationView:
    """Show an application to its applicant or to a reviewing officer."""
    service.authorise(caller, application_id)
    return service.application_view(session, service.get_application(session, application_id))


@router.post("/applications/{application_id}/appointment", status_code=201)
def book(
    application_id: uuid.UUID, body: BookingIn, session: DbSession, now: Now, caller: Caller
) -> ApplicationView:
    """Book a place in a slot for the application."""
    service.book(session, application_id, body.slot_id, caller=caller, now=now)
    return service.application_view(session, service.get_application(session, application_id))


@router.put("/applications/{application_id}/appointment")
def change(
    application_id: uuid.UUID, body: BookingIn, session: DbSession, now: Now, caller: Caller
) -> ApplicationView:
    """Move the application's appointment to another slot."""
    service.change(session, application_id, body.slot_id, caller=caller, now=now)
    return service.application_view(session, service.get_application(session, application_id))


@router.delete("/applications/{application_id}/appointment", status_code=204)
def cancel(application_id: uuid.UUID, session: DbSession, now: Now, caller: Caller) -> None:
    """Cancel the application's appointment; its place is freed at once."""
    service.cancel(session, application_id, caller=caller, now=now)


@router.get("/applications/{application_id}/letter")
def letter(
    application_id: uuid.UUID, session: DbSession, caller: Caller, locale: Locale | None = None
) -> Response:
    """Return the decision letter as a PDF."""
    data = service.letter_data(session, application_id, caller=caller, locale=locale)
    return Response(
        render_letter(data), media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="decision-{data.reference}.pdf"'},
    )


@router.get("/offices/{code}/slots")
def slots(code: str, session: DbSession, now: Now, day: Day | None = None) -> list[SlotView]:
    """List an office's slots on a day (today by default) with their free places."""
    return service.list_slots(session, code, day or hk_date(now))


@router.post("/offices", status_code=201)
def create_office(
    body: OfficeIn, session: DbSession, now: Now, _caller: Supervisor
) -> OfficeView:
    """Open an office for appointments."""
    office = service.create_office(session, body, now=now)
    return OfficeView.model_validate(office, from_attributes=True)


@router.post("/offices/{code}/slots", status_code=201)
def publish_slots(
    code: str, body: SlotsIn, session: DbSession, now: Now, caller: Reviewer
) -> list[SlotView]:
    """Publish a day's appointment slots with their capacity."""
    published = service.publish_slots(session, code, body, officer=caller, now=now)
    return [service.slot_view(slot, code) for slot in published]


@router.get("/offices/{code}/appointments")
def appointments(
    code: str, session: DbSession, now: Now, _caller: Reviewer, day: Day | None = None
) -> list[dict[str, Any]]:
    """List an office's appointments on a day (today by default)."""
    return service.appointments_on(session, code, day or hk_date(now))


@router.put("/applications/{application_id}/evidence/{item}")
def mark_evidence(
    application_id: uuid.UUID, item: str, body: EvidenceMarkIn, session: DbSession, now: Now,
    caller: Reviewer,
) -> ApplicationView:
    """Mark one evidence item seen, missing, or not acceptable with a reason."""
    service.mark_evidence(session, application_id, item, body, officer=caller, now=now)
    return service.application_view(session, service.get_application(session, application_id))


@router.post("/applications/{application_id}/decision")
def decide(
    application_id: uuid.UUID, body: DecisionIn, session: DbSession, now: Now, caller: Reviewer
) -> ApplicationView:
    """Approve, refuse with reasons, or escalate to a supervisor."""
    application = service.decide(session, application_id, body, officer=caller, now=now)
    return service.application_view(session, application)


@router.get("/applications/{application_id}/steps")
def steps(application_id: uuid.UUID, session: DbSession, _caller: Reviewer) -> list[StepView]:
    """Return the application's history: who did what, and when."""
    return service.steps_of(session, application_id)


@router.get("/decisions")
def decisions(
    session: DbSession, now: Now, _caller: Reviewer, day: Day | None = None,
    office: str | None = None,
) -> list[dict[str, Any]]:
    """List the decisions taken on a day (today by default)."""
    return service.decisions_on(session, day or hk_date(now), office)
