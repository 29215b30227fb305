"""What officers record: health flags, compulsory testing orders, high-risk areas, travel.

Evidence about a document number is kept by its blind index, so it waits for a person not
yet registered; the handlers here attach it when a person proves they hold the document
(a claimed account never gets it) and detach it when their account is deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from borderpass.evidence import repository
from borderpass.evidence.events import EvidenceChanged, TestingOrderRecorded
from borderpass.evidence.models import (
    HealthFlag,
    HighRiskArea,
    TestingOrder,
    TestingOrderPremises,
    TravelRecord,
)
from borderpass.evidence.schemas import FlagIn, HighRiskAreaIn, TestingOrderIn, TravelRecordIn
from borderpass.identity import service as identity
from borderpass.identity.documents import normalise_field
from borderpass.identity.events import HolderProven, PersonDeleted
from borderpass.kit.errors import Conflict, InvalidInput, NotFound
from borderpass.kit.events import publish
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import address_index, document_index

__all__ = [
    "latest_test_collected",
    "lift_flag",
    "on_holder_proven",
    "on_person_deleted",
    "record_flag",
    "record_high_risk_area",
    "record_testing_order",
    "record_travel",
]

log = get_logger(__name__)

def _subject(kind: str, number: str) -> tuple[str, str]:
    normalised = normalise_field(kind, number)
    return kind, document_index(kind, normalised)


def latest_test_collected(
    session: Session, kind: str, number: str, result: str
) -> datetime | None:
    """Return when the latest test of ``result`` for a document was collected, if any."""
    subject_kind, index = _subject(kind, number)
    return repository.latest_collected(session, subject_kind, index, result)


def record_flag(session: Session, data: FlagIn, *, officer: uuid.UUID, now: datetime) -> HealthFlag:
    """Record a confirmed or suspected case, a close contact, or compulsory quarantine."""
    if data.ends_at is not None and data.ends_at <= data.starts_at:
        raise InvalidInput(_("ends_at must be after starts_at."), field="ends_at")
    kind, index = _subject(data.document_kind, data.document_number)
    holder = identity.find_holder(session, kind, data.document_number)
    flag = HealthFlag(
        doc_kind=kind, doc_index=index, person_id=holder.id if holder is not None else None,
        kind=data.kind, starts_at=data.starts_at, ends_at=data.ends_at,
        recorded_by=officer, recorded_at=now,
    )
    repository.add(session, flag)
    log.info("flag.recorded", flag=str(flag.id), kind=data.kind, officer=str(officer))
    if flag.person_id is not None:
        publish(session, EvidenceChanged([flag.person_id], f"flag:{flag.id}", now))
    return flag


def lift_flag(session: Session, flag_id: uuid.UUID, *, officer: uuid.UUID, now: datetime) -> None:
    """Lift a flag recorded in error or no longer in force."""
    flag = session.get(HealthFlag, flag_id)
    if flag is None:
        raise NotFound(_("There is no such record."), field="flag_id")
    flag.lifted_at = now
    session.flush()
    log.info("flag.lifted", flag=str(flag.id), officer=str(officer))
    if flag.person_id is not None:
        publish(session, EvidenceChanged([flag.person_id], f"flag:{flag.id}", now))


def record_testing_order(
    session: Session, data: TestingOrderIn, *, officer: uuid.UUID, now: datetime
) -> TestingOrder:
    """Record a compulsory testing order for premises and a period."""
    if data.period_to <= data.period_from:
        raise InvalidInput(_("period_to must be after period_from."), field="period_to")
    if data.test_by <= data.period_from:
        raise InvalidInput(_("test_by must be after the period begins."), field="test_by")
    if repository.find_order(session, data.reference) is not None:
        raise Conflict(_("An order with that reference exists."), field="reference")
    order = TestingOrder(reference=data.reference, issued_at=now, period_from=data.period_from,
                         period_to=data.period_to, test_by=data.test_by, recorded_by=officer)
    repository.add(session, order)
    repository.add(session, *(
        TestingOrderPremises(order_id=order.id, address=p.address,
                             address_index=address_index(p.address), venue_id=p.venue_id)
        for p in data.premises
    ))
    log.info("order.recorded", order=str(order.id), premises=len(data.premises))
    # Uploaded check-ins at its venues are another domain's to match; it is told here.
    venue_ids = sorted({p.venue_id for p in data.premises if p.venue_id is not None})
    publish(session, TestingOrderRecorded(order.id, venue_ids, now))
    residents = identity.people_at_addresses(
        session, [address_index(p.address) for p in data.premises])
    if residents:
        publish(session, EvidenceChanged(residents, f"order:{order.id}", now))
    return order


def record_high_risk_area(
    session: Session, data: HighRiskAreaIn, *, officer: uuid.UUID, now: datetime
) -> HighRiskArea:
    """Declare a region high-risk for a period."""
    if data.ends_at is not None and data.ends_at <= data.starts_at:
        raise InvalidInput(_("ends_at must be after starts_at."), field="ends_at")
    area = HighRiskArea(region_code=data.region_code, name_en=data.name_en, name_zh=data.name_zh,
                        starts_at=data.starts_at, ends_at=data.ends_at, recorded_by=officer,
                        recorded_at=now)
    repository.add(session, area)
    log.info("area.recorded", area=str(area.id), region=data.region_code)
    return area


def record_travel(
    session: Session, data: TravelRecordIn, *, officer: uuid.UUID, now: datetime
) -> TravelRecord:
    """Record that a person was in a region at a time (a crossing or a partner's record)."""
    if data.at > now:
        raise InvalidInput(_("at cannot be in the future."), field="at")
    kind, index = _subject(data.document_kind, data.document_number)
    holder = identity.find_holder(session, kind, data.document_number)
    record = TravelRecord(
        doc_kind=kind, doc_index=index, person_id=holder.id if holder is not None else None,
        region_code=data.region_code, at=data.at, source=data.source, recorded_by=officer,
        recorded_at=now,
    )
    repository.add(session, record)
    log.info("travel.recorded", record=str(record.id), region=data.region_code)
    if record.person_id is not None:
        publish(session, EvidenceChanged([record.person_id], f"travel:{record.id}", now))
    return record


def on_holder_proven(session: Session, event: HolderProven) -> None:
    """Attach the evidence that waited for a document to the person who proved they hold it
    (detaching it from any other account first), then have their status re-evaluated."""
    repository.attach_person(session, event.person_id, event.doc_kind, event.doc_index)
    publish(session, EvidenceChanged([event.person_id], "holder_proven", event.now))


def on_person_deleted(session: Session, event: PersonDeleted) -> None:
    """Detach a deleted person's evidence (it is kept by document, no longer by person)."""
    repository.detach_person(session, event.person_id)
