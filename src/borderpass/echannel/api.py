"""JSON endpoints of the e-Channel: enrolment, withdrawal, the gates' decisions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from borderpass.echannel import service
from borderpass.echannel.models import Enrolment
from borderpass.echannel.schemas import (
    AppEnrolmentRequest,
    CardGateRequest,
    CardProofRequest,
    ConsentApproval,
    ConsentView,
    EnrolmentView,
    Gate1Decision,
    Gate2Decision,
    Gate2Request,
    GateEnrolmentRequest,
    MyEnrolment,
    OfficeEnrolmentRequest,
    QrGateRequest,
)
from borderpass.identity.caller import Caller, require
from borderpass.identity.schemas import Principal, ProofView
from borderpass.kit.http import DbSession, Now

__all__ = ["proof_router", "router"]

router = APIRouter(prefix="/api/echannel", tags=["e-Channel"])
# Proving who holds a document with the card and a live face: the e-Channel reads cards
# and matches faces, so the endpoint is here, beside the resident's other proofs.
proof_router = APIRouter(prefix="/api/me/proof", tags=["identity"])
Officer = Annotated[Principal, require("border_officer", "supervisor")]
Resident = Annotated[Principal, require("resident")]


def _view(enrolment: Enrolment) -> EnrolmentView:
    return EnrolmentView.model_validate(enrolment, from_attributes=True)


class GatesKey(BaseModel):
    public_key: str


@router.get("/gates/key")
def gates_key() -> GatesKey:
    """Return the gates' public key, which the app encrypts its QR tokens to."""
    return GatesKey(public_key=service.gates_public_key())


@router.post("/enrolments/app", status_code=201)
def enrol_in_app(
    body: AppEnrolmentRequest, session: DbSession, now: Now, caller: Resident
) -> EnrolmentView:
    """Enrol the signed-in resident with their card, a live photo and the phone's key."""
    return _view(service.enrol_in_app(
        session, person_id=caller.id, card=body.card, live_photo=body.live_photo,
        device_public_key=body.device_public_key, guardian=body.guardian, now=now))


@router.get("/enrolments/mine")
def my_enrolments(session: DbSession, caller: Resident) -> list[MyEnrolment]:
    """List the signed-in resident's enrolments, with a guardian's answer for a minor."""
    return service.my_enrolments(session, caller.id)


@router.get("/guardian/requests")
def guardian_requests(session: DbSession, now: Now, caller: Resident) -> list[ConsentView]:
    """List the children's requests naming the signed-in guardian (a proven HKID holder)."""
    return service.consents_for_guardian(session, caller.id, now=now)


@router.post("/guardian/requests/{consent_id}/approve")
def approve_request(
    consent_id: uuid.UUID, body: ConsentApproval, session: DbSession, now: Now,
    caller: Resident,
) -> ConsentView:
    """Approve a child's enrolment as their guardian, stating the relationship."""
    return service.approve_consent(session, consent_id, person_id=caller.id,
                                   relationship=body.relationship, now=now)


@router.post("/guardian/requests/{consent_id}/withdraw")
def withdraw_request(
    consent_id: uuid.UUID, session: DbSession, now: Now, caller: Resident
) -> ConsentView:
    """Decline a child's pending request, or withdraw a consent given: the enrolment closes."""
    return service.withdraw_consent(session, consent_id, person_id=caller.id, now=now)


@router.post("/enrolments/gate", status_code=201)
def enrol_at_gate(
    body: GateEnrolmentRequest, session: DbSession, now: Now,
    caller: Officer,
) -> EnrolmentView:
    """Enrol a card holder aged 18 or over at a gate, on their consent."""
    return _view(service.enrol_at_gate(session, gate=body.gate, card=body.card,
                                       live_photo=body.live_photo, consent=body.consent, now=now))


@router.post("/enrolments/office", status_code=201)
def enrol_at_office(
    body: OfficeEnrolmentRequest, session: DbSession, now: Now,
    caller: Officer,
) -> EnrolmentView:
    """Enrol a card holder at an enrolment office (the officer is recorded)."""
    return _view(service.enrol_at_office(session, officer=caller.id, card=body.card,
                                         live_photo=body.live_photo, guardian=body.guardian,
                                         now=now))


@router.delete("/enrolments/{enrolment_id}")
def withdraw(
    enrolment_id: uuid.UUID, session: DbSession, now: Now, caller: Caller
) -> EnrolmentView:
    """Withdraw an enrolment; the face template is deleted."""
    return _view(service.withdraw_as(session, enrolment_id, caller, now=now))


@router.post("/gate1/qr")
def gate1_qr(
    body: QrGateRequest, session: DbSession, now: Now, caller: Officer
) -> Gate1Decision:
    """Decide at gate 1 on the app's QR."""
    return service.gate1_qr(session, gate=body.gate, token=body.token, now=now)


@router.post("/gate1/card")
def gate1_card(
    body: CardGateRequest, session: DbSession, now: Now, caller: Officer
) -> Gate1Decision:
    """Decide at gate 1 on the identity card."""
    return service.gate1_card(session, gate=body.gate, card=body.card, now=now)


@router.post("/gate2")
def gate2(
    body: Gate2Request, session: DbSession, now: Now, caller: Officer
) -> Gate2Decision:
    """Decide at gate 2 on the live face: open, or send the traveller to an officer."""
    return service.gate2_face(session, passage_id=body.passage_id, live_photo=body.live_photo,
                              now=now)


@proof_router.post("/card")
def prove_with_card(
    body: CardProofRequest, session: DbSession, now: Now, caller: Resident
) -> ProofView:
    """Prove the signed-in resident holds their identity card: the chip and a live face."""
    return service.prove_with_card(session, person_id=caller.id, card=body.card,
                                   live_photo=body.live_photo, now=now)
