"""JSON endpoints of the crossing: control points, quotas and bookings, the crossing
policy, and the decision at a control point."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from borderpass.crossing import service
from borderpass.crossing.schemas import (
    BookingIn,
    BookingView,
    ControlPointView,
    DecisionIn,
    DecisionRecordView,
    DecisionView,
    PolicyView,
    QuotaIn,
    QuotaView,
)
from borderpass.identity.caller import require
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import hk_date
from borderpass.kit.http import Body, DbSession, Now, request_locale

__all__ = ["router"]

router = APIRouter(prefix="/api/crossing", tags=["crossing"])

Resident = Annotated[Principal, require("resident")]
BorderOfficer = Annotated[Principal, require(*service.DECIDER_ROLES)]
QuotaOfficer = Annotated[Principal, require(*service.QUOTA_ROLES)]
PolicyOfficer = Annotated[Principal, require("health_officer", "supervisor")]
Officer = Annotated[Principal, require("border_officer", "health_officer", "supervisor")]


@router.get("/control-points")
def control_points(session: DbSession) -> list[ControlPointView]:
    """List the control points and their names in the three languages."""
    return service.list_control_points(session)


@router.get("/quotas")
def quotas(
    session: DbSession, now: Now,
    control_point: Annotated[str | None, Query(max_length=8,
                                               description="A control point code")] = None,
    day: Annotated[date | None, Query(description="The first day (default today)")] = None,
    days: Annotated[int, Query(ge=1, le=60)] = 7,
) -> list[QuotaView]:
    """Show the quarantine-free places, booked and free, day by day."""
    return service.quotas(session, control_point, day or hk_date(now), days)


@router.post("/quotas")
def set_quota(data: QuotaIn, session: DbSession, now: Now, caller: QuotaOfficer) -> list[QuotaView]:
    """Set the quarantine-free places of a control point on a run of days."""
    rows = service.set_quota(session, data, officer=caller, now=now)
    return service.quotas(session, data.control_point, rows[0].day, len(rows))


@router.post("/bookings", status_code=201)
def book(data: BookingIn, session: DbSession, now: Now, caller: Resident) -> BookingView:
    """Book a quarantine-free place for the signed-in resident; a full day is refused."""
    return service.booking_view(session, service.book(session, data, caller=caller, now=now))


@router.get("/bookings")
def my_bookings(session: DbSession, now: Now, caller: Resident) -> list[BookingView]:
    """List the signed-in resident's bookings."""
    return service.my_bookings(session, caller, now=now)


@router.post("/bookings/{booking_id}/cancel")
def cancel(booking_id: uuid.UUID, session: DbSession, now: Now,
           caller: Resident) -> BookingView:
    """Cancel a booking; its place is free for someone else at once."""
    return service.booking_view(session, service.cancel(session, booking_id, caller=caller,
                                                        now=now))


@router.post("/decisions", status_code=201)
def decide(data: DecisionIn, request: Request, session: DbSession, now: Now,
           caller: BorderOfficer) -> DecisionView:
    """Decide a crossing at a control point: quarantine-free, quarantine or refused, with
    every reason in the officer's language."""
    decision = service.decide(session, data, officer=caller, channel="api", now=now)
    return service.decision_view(decision, locale=data.language or request_locale(request))


@router.get("/decisions")
def decisions_today(session: DbSession, now: Now, _caller: BorderOfficer,
                    control_point: Annotated[str, Query(max_length=8)]) -> list[DecisionRecordView]:
    """List today's decisions at a control point, the latest first, as they are on record."""
    return [service.record_view(record)
            for record in service.decisions_today(session, control_point, now=now)]


@router.get("/decisions/{decision_id}")
def decision(decision_id: uuid.UUID, session: DbSession,
             _caller: BorderOfficer) -> DecisionRecordView:
    """Return a decision as it is on record."""
    return service.record_view(service.get_decision(session, decision_id))


@router.get("/policy")
def policy(request: Request, session: DbSession, _caller: Officer) -> dict[str, Any]:
    """Show the crossing policy in force: per control point and direction, each rule."""
    return service.policy_view(service.active_policy(session), locale=request_locale(request))


@router.get("/policies")
def policies(session: DbSession, _caller: PolicyOfficer) -> list[PolicyView]:
    """List every version of every crossing policy."""
    return service.list_policies(session)


@router.post("/policies", status_code=201, openapi_extra={"requestBody": {
    "required": True, "content": {"application/json": {"schema": {"type": "object"}}}}})
def load_policy(content: Body, session: DbSession, now: Now, caller: PolicyOfficer,
                activate: bool = False) -> PolicyView:
    """Validate and keep a new crossing-policy version; activate it if asked."""
    row = service.load(session, content, officer=caller.id, now=now, activate_now=activate)
    return service.version_view(row)


@router.post("/policies/{policy_id}/activate")
def activate_policy(policy_id: uuid.UUID, session: DbSession, now: Now,
                    caller: PolicyOfficer) -> PolicyView:
    """Put a loaded crossing-policy version in force."""
    return service.version_view(service.activate(session, policy_id, officer=caller.id,
                                                 now=now))
