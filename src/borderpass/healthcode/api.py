"""JSON endpoints of the health-code domain: today's code, verification, the signed lists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from borderpass.healthcode import service
from borderpass.healthcode.qr import MEDIA_TYPES, qr_image
from borderpass.healthcode.schemas import CodeView, VerifyRequest, VerifyResult
from borderpass.healthcode.verifier import Verdict
from borderpass.identity import service as identity
from borderpass.identity.caller import require
from borderpass.identity.schemas import Principal
from borderpass.kit.http import DbSession, Now, Writer, read_unit
from borderpass.rules import service as rules

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["health code"])

Resident = Annotated[Principal, require("resident")]


@router.get("/health-code")
def my_code(session: DbSession, now: Now, caller: Resident, writer: Writer) -> CodeView:
    """Return today's health code of the signed-in resident, with the reasons for its colour."""
    issued = service.todays_code(session, caller.id, now=now, writer=writer)
    return CodeView(text=issued.text, colour=issued.colour, issued_at=issued.issued_at,
                    valid_until=issued.valid_until,
                    status=rules.status_view(issued.status, now=now),
                    identity="proven" if identity.is_proven(session, caller.id) else "claimed")


@router.get("/health-code.{kind}", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}})
def my_code_image(kind: str, session: DbSession, now: Now, caller: Resident,
                  writer: Writer) -> Response:
    """Return today's health code of the signed-in resident as a PNG or SVG QR image."""
    if kind not in MEDIA_TYPES:
        from borderpass.kit.errors import NotFound

        raise NotFound(field="kind")
    issued = service.todays_code(session, caller.id, now=now, writer=writer)
    return Response(qr_image(issued.text, kind), media_type=MEDIA_TYPES[kind],
                    headers={"Cache-Control": "no-store"})


def _verifier(request: Request) -> service.CachedVerifier:
    verifier: service.CachedVerifier | None = getattr(request.app.state, "verifier", None)
    if verifier is None:
        verifier = request.app.state.verifier = service.CachedVerifier()
    return verifier


def _refresh(request: Request, verifier: service.CachedVerifier, now: datetime) -> None:
    with read_unit(request) as session:
        verifier.refresh(session, now=now)


def _verify_at(request: Request, text: str, at: datetime) -> Verdict:
    with read_unit(request) as session:
        return service.verify_code(session, text, now=at)


@router.post("/health-codes/verify")
async def verify_code(body: VerifyRequest, request: Request, now: Now) -> VerifyResult:
    """Check a health code as an offline verifier would, with the current lists.

    The lists are held in memory and rebuilt when they change; only that rebuild (at
    most once a second) reads the database, on a worker thread.
    """
    if body.at is not None:
        verdict = await run_in_threadpool(_verify_at, request, body.text, body.at)
    else:
        verifier = _verifier(request)
        if verifier.stale():
            await run_in_threadpool(_refresh, request, verifier, now)
        verdict = verifier.verify(body.text, now=now)
    return VerifyResult.model_validate(verdict.as_json())


@router.get("/trust-list")
def trust_list(now: Now) -> dict[str, str]:
    """Return the signed trust list of issuer keys."""
    return service.trust_list(now=now)


@router.get("/trust-list/revocations")
def revocations(
    session: DbSession, now: Now,
    since: Annotated[int, Query(ge=0, le=2**63 - 1,
                                description="The `through` of the last list you hold")] = 0,
) -> dict[str, str]:
    """Return the signed revocation list, or only what changed after ``since``."""
    return service.revocation_list(session, since=since, now=now)


@router.get("/trust-list/export")
def export(session: DbSession, now: Now) -> dict[str, Any]:
    """Return the trust list and the revocation list in one file for an offline verifier."""
    return service.export(session, now=now)


@router.get("/trust-list/rule-set")
def rule_set(session: DbSession, now: Now) -> dict[str, str]:
    """Return the rule set in force, signed by the anchor key, for partner jurisdictions."""
    return service.rule_set_list(session, now=now)
