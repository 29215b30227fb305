"""JSON endpoints of the check-in domain: venues, posters, cases, the list, uploads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict

from borderpass.checkin import service
from borderpass.checkin.schemas import CaseIn, CaseView, UploadReceipt, VenueIn, VenueView
from borderpass.identity.caller import require
from borderpass.identity.schemas import Principal
from borderpass.kit.http import DbSession, Now, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/checkin", tags=["checkin"])

Operator = Annotated[Principal, require("venue_operator")]
HealthOfficer = Annotated[Principal, require("health_officer")]
Manager = Annotated[Principal, require("venue_operator", "health_officer")]
Resident = Annotated[Principal, require("resident")]


def _view(venue: object) -> VenueView:
    return VenueView.model_validate(venue, from_attributes=True)


@router.post("/venues", status_code=201)
def register_venue(body: VenueIn, session: DbSession, now: Now, caller: Operator) -> VenueView:
    """Register a venue; a health officer approves it before it gets a QR code."""
    return _view(service.register_venue(session, body, operator=caller.id, now=now))


@router.post("/venues/{code}/approve")
def approve_venue(code: str, session: DbSession, now: Now, caller: HealthOfficer) -> VenueView:
    """Approve a venue: it gets its secret and QR code."""
    return _view(service.approve_venue(session, code, officer=caller.id, now=now))


@router.post("/venues/{code}/rotate")
def rotate_venue(code: str, session: DbSession, now: Now, caller: Manager) -> VenueView:
    """Give a venue a new secret and poster; visits under the old one still match."""
    return _view(service.rotate_venue_secret(session, code, caller=caller, now=now))


@router.get("/venues/{code}/qr", response_class=PlainTextResponse)
def venue_qr(code: str, session: DbSession, caller: Manager) -> str:
    """Return the text of the venue's current QR code."""
    return service.venue_qr(session, code, caller=caller)


@router.get("/venues/{code}/poster.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def venue_poster(code: str, session: DbSession, caller: Manager) -> Response:
    """Return the venue's printable A4 poster."""
    return Response(service.venue_poster(session, code, caller=caller),
                    media_type="application/pdf")


@router.post("/cases", status_code=201)
def record_case(body: CaseIn, session: DbSession, now: Now, caller: HealthOfficer) -> CaseView:
    """Record where and when a case was; it is published within a minute."""
    case = service.record_case(session, body, officer=caller.id, now=now)
    return CaseView.model_validate(case, from_attributes=True)


@router.get("/exposure-list", response_class=PlainTextResponse)
def exposure_list(session: DbSession, now: Now, writer: Writer) -> str:
    """Return the signed exposure list (docs/formats/exposure-list.md); no sign-in needed."""
    return service.exposure_list(session, now=now, writer=writer)


class UploadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consent: bool
    bundle: dict[str, Any]


@router.post("/uploads", status_code=201)
def upload(body: UploadIn, session: DbSession, now: Now, caller: Resident) -> UploadReceipt:
    """Keep the resident's signed check-ins of the last 31 days, with their consent."""
    return service.receive_upload(session, caller.id, body.bundle, consent=body.consent, now=now)


@router.delete("/uploads", status_code=204)
def withdraw(session: DbSession, now: Now, caller: Resident) -> None:
    """Delete everything the resident uploaded."""
    service.withdraw_upload(session, caller.id, now=now)
