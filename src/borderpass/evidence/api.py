"""JSON endpoints of the evidence domain: batches from sources, officers' records."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from borderpass.evidence import service
from borderpass.evidence.schemas import (
    EvidenceView,
    FlagIn,
    HighRiskAreaIn,
    IngestReport,
    TestingOrderIn,
    TravelRecordIn,
    VenueChoice,
)
from borderpass.identity.caller import require
from borderpass.identity.schemas import Principal
from borderpass.kit import offload
from borderpass.kit.errors import Forbidden, InvalidInput
from borderpass.kit.http import DbSession, Now
from borderpass.kit.i18n import _

__all__ = ["router"]

router = APIRouter(prefix="/api/evidence", tags=["evidence"])

Lab = Annotated[Principal, require("lab")]
Registry = Annotated[Principal, require("registry")]
HealthOfficer = Annotated[Principal, require("health_officer")]
Resident = Annotated[Principal, require("resident")]


def _media(request: Request) -> str:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("text/csv", "application/csv"):
        return "csv"
    if content_type == "application/json":
        return "json"
    raise InvalidInput(_("Send the batch as text/csv or application/json."), field="content-type")


async def _batch(request: Request) -> tuple[bytes, str]:
    media = _media(request)
    return await request.body(), media


# The batch, read on the event loop; it is ingested in a worker process (kit.offload).
Batch = Annotated[tuple[bytes, str], Depends(_batch)]


# Past this size (some 2,000 rows, a tenth of a second's work) a batch is ingested in a
# worker process; a smaller one on a thread, where it costs less than handing it over.
_HEAVY_BYTES = 256 * 1024


def _heavy(content: bytes) -> bool:
    return len(content) >= _HEAVY_BYTES


_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.post("/tests", openapi_extra=_BATCH_BODY)
async def ingest_tests(request: Request, batch: Batch, session: DbSession, now: Now,
                       caller: Lab) -> IngestReport:
    """Ingest a batch of test results (CSV or JSON) from a laboratory."""
    content, media = batch
    return await offload.run_unit(request, session, service.ingest, caller.id, "tests",
                                  content, media, now=now, heavy=_heavy(content))


@router.post("/vaccinations", openapi_extra=_BATCH_BODY)
async def ingest_vaccinations(request: Request, batch: Batch, session: DbSession, now: Now,
                              caller: Registry) -> IngestReport:
    """Ingest a batch of vaccination records (CSV or JSON) from the registry."""
    content, media = batch
    return await offload.run_unit(request, session, service.ingest, caller.id,
                                  "vaccinations", content, media, now=now,
                                  heavy=_heavy(content))


@router.post("/flags", status_code=201)
def record_flag(
    body: FlagIn, session: DbSession, now: Now, caller: HealthOfficer
) -> dict[str, str]:
    """Record a case, a close contact or compulsory quarantine."""
    flag = service.record_flag(session, body, officer=caller.id, now=now)
    return {"id": str(flag.id)}


@router.delete("/flags/{flag_id}", status_code=204)
def lift_flag(flag_id: uuid.UUID, session: DbSession, now: Now, caller: HealthOfficer) -> None:
    """Lift a flag."""
    service.lift_flag(session, flag_id, officer=caller.id, now=now)


@router.post("/testing-orders", status_code=201)
def record_testing_order(
    body: TestingOrderIn, session: DbSession, now: Now, caller: HealthOfficer
) -> dict[str, str]:
    """Record a compulsory testing order."""
    order = service.record_testing_order(session, body, officer=caller.id, now=now)
    return {"id": str(order.id)}


@router.get("/venues")
def find_venues(session: DbSession, _caller: HealthOfficer,
                q: Annotated[str, Query(min_length=1, max_length=120)]) -> list[VenueChoice]:
    """Find venues by name or venue id, to name them in a testing order."""
    return service.search_venues(session, q)


@router.post("/high-risk-areas", status_code=201)
def record_high_risk_area(
    body: HighRiskAreaIn, session: DbSession, now: Now, caller: HealthOfficer
) -> dict[str, str]:
    """Declare a high-risk area for a period."""
    area = service.record_high_risk_area(session, body, officer=caller.id, now=now)
    return {"id": str(area.id)}


@router.post("/travel", status_code=201)
def record_travel(
    body: TravelRecordIn, session: DbSession, now: Now, caller: HealthOfficer
) -> dict[str, str]:
    """Record that a person was in a region at a time (a crossing or a partner's record)."""
    record = service.record_travel(session, body, officer=caller.id, now=now)
    return {"id": str(record.id)}


@router.get("/mine")
def my_evidence(session: DbSession, caller: Resident) -> EvidenceView:
    """Return the evidence on file for the signed-in resident."""
    if caller.kind != "resident":
        raise Forbidden()
    return service.evidence_of(session, caller.id)
