"""Evidence: ingestion of lab results and vaccinations, and officers' records.

A batch is atomic: either every row is valid and the batch lands (rows already on file
are skipped, so sending it twice changes nothing), or nothing is written and every
rejected row is reported with its line and reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, time
from typing import Any

from sqlalchemy.orm import Session

from borderpass.evidence import repository
from borderpass.evidence.events import EvidenceChanged, TestingOrderRecorded
from borderpass.evidence.ingestion import (
    TEST_FIELDS,
    VACCINATION_FIELDS,
    BatchFormatError,
    Problem,
    make_indexer,
    read_rows,
    test_row,
    vaccination_row,
)
from borderpass.evidence.models import (
    CheckinFact,
    EvidenceSource,
    HealthFlag,
    HighRiskArea,
    IngestBatch,
    TestingOrder,
    TestingOrderPremises,
    TravelRecord,
)
from borderpass.evidence.schemas import (
    CheckinExposure,
    CheckinOrderVisit,
    EvidenceView,
    FlagIn,
    FlagView,
    HighRiskAreaIn,
    HighRiskAreaView,
    IngestReport,
    PersonFacts,
    RowProblem,
    TestingOrderIn,
    TestingOrderView,
    TestResultView,
    TravelRecordIn,
    VaccinationView,
    VenueOrderView,
)
from borderpass.identity import service as identity
from borderpass.identity.documents import normalise_field
from borderpass.identity.events import PersonActivated, PersonDeleted
from borderpass.kit.clock import HONG_KONG, hk_date
from borderpass.kit.errors import Conflict, InvalidInput, NotFound
from borderpass.kit.events import publish
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import address_index, document_index

__all__ = [
    "BatchRejected",
    "create_source",
    "evidence_of",
    "facts_for",
    "facts_for_many",
    "high_risk_areas",
    "ingest",
    "lift_flag",
    "on_person_activated",
    "on_person_deleted",
    "orders_at_venues",
    "purge_checkin_facts",
    "record_flag",
    "record_high_risk_area",
    "record_testing_order",
    "record_travel",
    "replace_checkin_facts",
    "SOURCE_KINDS",
    "testing_orders_in_force",
]

log = get_logger(__name__)

SOURCE_KINDS = {"lab": "tests", "registry": "vaccinations"}
_CHUNK = 20_000
_REPORTED_PROBLEMS = 1_000


class BatchRejected(InvalidInput):
    code = "batch_rejected"
    message = _("The batch was not accepted: {count} row(s) were rejected. Nothing was written.")


_KINDS: dict[str, tuple[repository.BulkSpec, tuple[str, ...], str, Callable[..., Any]]] = {
    "tests": (repository.TESTS, TEST_FIELDS, "results", test_row),
    "vaccinations": (repository.VACCINATIONS, VACCINATION_FIELDS, "vaccinations",
                     vaccination_row),
}


def _key_of(kind: str, staged: tuple[Any, ...]) -> tuple[Any, ...]:
    return (staged[0],) if kind == "tests" else staged[:3]


def ingest(
    session: Session,
    source_id: uuid.UUID,
    kind: str,
    content: bytes,
    media: str,
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest one batch of test results or vaccinations from a source, atomically.

    Args:
        kind: ``tests`` or ``vaccinations``.
        media: ``csv`` or ``json``.
        progress: called with the number of rows read so far, now and then.

    Raises:
        BatchRejected: a row or the batch itself is invalid; nothing was written.
    """
    if kind not in _KINDS:
        raise InvalidInput(_("Unknown evidence kind {kind}."), field="kind", kind=kind[:20])
    if media not in ("csv", "json"):
        raise InvalidInput(_("Send CSV or JSON."), field="content-type")
    spec, fields, items_key, validate = _KINDS[kind]
    indexer = make_indexer()
    problems: list[RowProblem] = []
    seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    chunk: list[tuple[Any, ...]] = []
    rows = 0
    repository.create_staging(session, spec)
    try:
        for line, raw in read_rows(content, media, fields, items_key):
            rows += 1
            checked = validate(raw, indexer, now)
            if isinstance(checked, Problem):
                problems.append(RowProblem(line=line, field=checked.field, reason=checked.reason))
                continue
            key = _key_of(kind, checked)
            earlier = seen.get(key)
            if earlier is not None:
                if earlier != checked:
                    problems.append(RowProblem(
                        line=line, field=None,
                        reason="the same record appears earlier in the batch with other values"))
                continue
            seen[key] = checked
            if not problems:
                chunk.append((line, *checked))
                if len(chunk) >= _CHUNK:
                    repository.stage(session, spec, chunk)
                    chunk.clear()
            if progress is not None and rows % _CHUNK == 0:
                progress(rows)
    except BatchFormatError as error:
        repository.drop_staging(session, spec)
        problem = RowProblem(line=1, field=error.field, reason=error.reason)
        raise BatchRejected(count=1, field=error.field, details=[problem.model_dump()]) from None
    if rows == 0:
        repository.drop_staging(session, spec)
        raise BatchRejected(_("The batch holds no rows."), count=0)
    if not problems:
        repository.stage(session, spec, chunk)
        for line in repository.conflicting_lines(session, spec, source_id):
            problems.append(RowProblem(
                line=line, field=None,
                reason="this record is already on file with other values"))
    if problems:
        repository.drop_staging(session, spec)
        problems.sort(key=lambda p: p.line)
        log.info("ingest.rejected", kind=kind, source=str(source_id), rows=rows,
                 rejected=len(problems))
        raise BatchRejected(
            count=len(problems),
            details=[p.model_dump() for p in problems[:_REPORTED_PROBLEMS]],
        )
    batch = IngestBatch(source_id=source_id, kind=kind, received_at=now, rows=rows,
                        inserted=0, duplicates=0)
    repository.add(session, batch)
    inserted = repository.bulk_insert(session, spec, source_id, batch.id)
    repository.drop_staging(session, spec)
    batch.inserted = inserted
    batch.duplicates = len(seen) - inserted
    people = repository.people_in_batch(session, spec, batch.id)
    session.flush()
    if progress is not None:
        progress(rows)
    log.info("ingest.accepted", kind=kind, source=str(source_id), batch=str(batch.id),
             rows=rows, inserted=inserted, duplicates=batch.duplicates)
    if people:
        publish(session, EvidenceChanged(people, f"{kind}:{batch.id}", now))
    return IngestReport(batch_id=batch.id, kind=kind, rows=rows, inserted=inserted,
                        duplicates=rows - inserted, rejected=[], people=people)


def create_source(
    session: Session, name: str, kind: str, *, now: datetime
) -> tuple[EvidenceSource, str]:
    """Authorise a laboratory or registry; return it and its new API key."""
    if kind not in SOURCE_KINDS:
        raise InvalidInput(_("A source is a lab or a registry."), field="kind")
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise InvalidInput(_("A source needs a name of 1 to 128 characters."), field="name")
    if repository.find_source(session, name) is not None:
        raise Conflict(_("A source with that name exists."), field="name")
    source = EvidenceSource(name=name, kind=kind, created_at=now)
    repository.add(session, source)
    key = identity.issue_api_key(session, "source", source.id, kind, name, now=now)
    log.info("source.created", source=str(source.id), kind=kind)
    return source, key


def rotate_source_key(session: Session, name: str, *, now: datetime) -> str:
    """Issue a new API key for a source (old keys keep working until revoked)."""
    source = repository.find_source(session, name)
    if source is None:
        raise NotFound(_("There is no such source."), field="name")
    return identity.issue_api_key(session, "source", source.id, source.kind, name, now=now)


def find_source(session: Session, name: str) -> EvidenceSource | None:
    """Return the source of that name, if any."""
    return repository.find_source(session, name)


def latest_test_collected(
    session: Session, kind: str, number: str, result: str
) -> datetime | None:
    """Return when the latest test of ``result`` for a document was collected, if any."""
    subject_kind, index = _subject(kind, number)
    return repository.latest_collected(session, subject_kind, index, result)


def source_kind(session: Session, source_id: uuid.UUID) -> str:
    """Return which evidence a source may send: ``tests`` or ``vaccinations``."""
    source = repository.get_source(session, source_id)
    if source is None:
        raise NotFound(_("There is no such source."))
    return SOURCE_KINDS[source.kind]


def _subject(kind: str, number: str) -> tuple[str, str]:
    normalised = normalise_field(kind, number)
    return kind, document_index(kind, normalised)


def record_flag(session: Session, data: FlagIn, *, officer: uuid.UUID, now: datetime) -> HealthFlag:
    """Record a confirmed or suspected case, a close contact, or compulsory quarantine."""
    if data.ends_at is not None and data.ends_at <= data.starts_at:
        raise InvalidInput(_("ends_at must be after starts_at."), field="ends_at")
    kind, index = _subject(data.document_kind, data.document_number)
    person = identity.find_person(session, kind, data.document_number)
    flag = HealthFlag(
        doc_kind=kind, doc_index=index,
        person_id=person.id if person is not None and person.status == "active" else None,
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
    person = identity.find_person(session, kind, data.document_number)
    record = TravelRecord(
        doc_kind=kind, doc_index=index,
        person_id=person.id if person is not None and person.status == "active" else None,
        region_code=data.region_code, at=data.at, source=data.source, recorded_by=officer,
        recorded_at=now,
    )
    repository.add(session, record)
    log.info("travel.recorded", record=str(record.id), region=data.region_code)
    if record.person_id is not None:
        publish(session, EvidenceChanged([record.person_id], f"travel:{record.id}", now))
    return record


def replace_checkin_facts(
    session: Session,
    person_id: uuid.UUID,
    *,
    exposures: Sequence[CheckinExposure],
    order_visits: Sequence[CheckinOrderVisit],
    now: datetime,
) -> bool:
    """Replace what a resident's uploaded check-ins tell the rules; re-evaluate them if it changed.

    Returns:
        whether anything changed.
    """
    def key(fact: CheckinFact) -> tuple[str, str, float, float, str]:
        return (fact.kind, fact.place_id, fact.visit_from.timestamp(),
                fact.visit_to.timestamp(), str(fact.order_id))

    rows = [CheckinFact(person_id=person_id, kind="exposure", place_id=e.place_id,
                        visit_from=e.visit_from, visit_to=e.visit_to, recorded_at=now)
            for e in exposures]
    rows += [CheckinFact(person_id=person_id, kind="order", place_id=o.place_id,
                         visit_from=o.visit_from, visit_to=o.visit_to, order_id=o.order_id,
                         recorded_at=now)
             for o in order_visits]
    before = sorted(key(f) for f in repository.checkin_facts_of(session, person_id))
    after = sorted(key(f) for f in rows)
    if before == after:
        return False
    repository.delete_checkin_facts(session, person_id)
    repository.add(session, *rows)
    log.info("checkin_facts.replaced", person=str(person_id), exposures=len(exposures),
             orders=len(order_visits))
    publish(session, EvidenceChanged([person_id], "checkin", now))
    return True


def purge_checkin_facts(session: Session, *, before: datetime, now: datetime) -> int:
    """Delete what uploaded visits that ended before ``before`` told; return people touched."""
    people = repository.purge_checkin_facts(session, before)
    session.flush()
    if people:
        publish(session, EvidenceChanged(people, "checkin_purge", now))
    return len(people)


def _covers(area_region: str, region: str) -> bool:
    return region == area_region or region.startswith(area_region + "-")


def facts_for(session: Session, person_id: uuid.UUID, now: datetime) -> PersonFacts:
    """Summarise what the rules need to know about a person, as known at ``now``.

    The same as :func:`facts_for_many` for one person.

    Raises:
        NotFound: there is no such person.
    """
    return facts_for_many(session, [person_id], now)[person_id]


FACTS_CHUNK = 2_000


def facts_for_many(
    session: Session, person_ids: Sequence[uuid.UUID], now: datetime
) -> dict[uuid.UUID, PersonFacts]:
    """Summarise what the rules need to know about each of these people, as known at ``now``.

    A travel record counts as a high-risk visit when an area covering its region was
    declared high-risk at the time of the visit. The testing order is the latest issued
    that names the person's address or, through an uploaded check-in, a venue they were
    at during its period. The exposure is the uploaded visit, at a place where a case
    was, that ended last (``exposure_at`` is when it ended).

    A constant number of queries per chunk of :data:`FACTS_CHUNK` people, whatever
    their evidence.

    Raises:
        NotFound: one of them is not a known person.
    """
    unique = list(dict.fromkeys(person_ids))
    session.flush()  # the reads below go straight to the connection
    facts: dict[uuid.UUID, PersonFacts] = {}
    for start in range(0, len(unique), FACTS_CHUNK):
        facts.update(_facts_of_chunk(session, unique[start:start + FACTS_CHUNK], now))
    return facts


def _latest(found: dict[Any, tuple[datetime, str]], key: Any, at: datetime, label: str) -> None:
    earlier = found.get(key)
    if earlier is None or at > earlier[0]:
        found[key] = (at, label)


def _facts_of_chunk(
    session: Session, ids: list[uuid.UUID], now: datetime
) -> dict[uuid.UUID, PersonFacts]:
    addresses = identity.address_indexes(session, ids)

    tests: dict[tuple[uuid.UUID, str, str | None], datetime] = {}
    for person_id, result, method, collected in repository.last_tests_of_many(session, ids, now):
        for key in ((person_id, result, None), (person_id, result, method)):
            if key not in tests or collected > tests[key]:
                tests[key] = collected

    flags: dict[uuid.UUID, list[tuple[str, datetime, datetime | None]]] = {}
    for person_id, kind, starts_at, ends_at in repository.flags_in_force_of_many(
            session, ids, now):
        flags.setdefault(person_id, []).append((kind, starts_at, ends_at))

    by_address: dict[str, tuple[datetime, str]] = {}
    for index, issued_at, reference in repository.orders_for_addresses(
            session, sorted(set(addresses.values())), now):
        _latest(by_address, index, issued_at, reference)
    orders: dict[uuid.UUID, tuple[datetime, str]] = {}
    for person_id, index in addresses.items():
        if index in by_address:
            orders[person_id] = by_address[index]
    for person_id, issued_at, reference in repository.orders_by_visit_of_many(session, ids, now):
        _latest(orders, person_id, issued_at, reference)

    exposures: dict[uuid.UUID, tuple[datetime, str]] = {}
    for person_id, place_id, visit_to in repository.exposures_of_many(session, ids, now):
        _latest(exposures, person_id, visit_to, place_id)

    doses = repository.dose_summaries(session, ids, hk_date(now))

    visits: dict[uuid.UUID, tuple[datetime, str]] = {}
    travel = repository.travel_of_many(session, ids, now)
    if travel:
        areas = repository.areas_of_regions(session, {region for _, region, _ in travel})
        for person_id, region, at in sorted(travel, key=lambda record: record[2],
                                            reverse=True):  # latest first
            if person_id in visits:
                continue
            if any(_covers(area.region_code, region) and area.starts_at <= at
                   and (area.ends_at is None or at < area.ends_at) for area in areas):
                visits[person_id] = (at, region)

    facts = {}
    for person_id in ids:
        held = flags.get(person_id, [])
        flag_until = None
        if held and all(ends_at is not None for _, _, ends_at in held):
            flag_until = max(ends_at for _, _, ends_at in held if ends_at is not None)
        order = orders.get(person_id)
        exposure = exposures.get(person_id)
        visit = visits.get(person_id)
        count, last_dose = doses.get(person_id, (0, None))
        facts[person_id] = PersonFacts(
            last_negative_at=tests.get((person_id, "negative", None)),
            last_positive_at=tests.get((person_id, "positive", None)),
            flag_since=min(starts_at for _, starts_at, _ in held) if held else None,
            flag_until=flag_until,
            flag_kinds=tuple(sorted({kind for kind, _, _ in held})),
            order_issued_at=order[0] if order is not None else None,
            order_reference=order[1] if order is not None else None,
            high_risk_visit_at=visit[0] if visit is not None else None,
            high_risk_region=visit[1] if visit is not None else None,
            exposure_at=min(exposure[0], now) if exposure is not None else None,
            exposure_venue=exposure[1] if exposure is not None else None,
            last_negative_pcr_at=tests.get((person_id, "negative", "PCR")),
            last_negative_rat_at=tests.get((person_id, "negative", "RAT")),
            doses=count,
            last_dose_at=(datetime.combine(last_dose, time(0), tzinfo=HONG_KONG)
                          if last_dose is not None else None),
        )
    return facts


def orders_at_venues(
    session: Session, venue_ids: Collection[str], *, since: datetime
) -> list[VenueOrderView]:
    """Return the testing orders, in force at or after ``since``, naming any of these venues."""
    return [
        VenueOrderView(order_id=order.id, reference=order.reference, venue_id=venue_id,
                       period_from=order.period_from, period_to=order.period_to,
                       test_by=order.test_by)
        for order, venue_id in repository.orders_at_venues(session, sorted(set(venue_ids)), since)
    ]


def high_risk_areas(session: Session, *, now: datetime) -> list[HighRiskAreaView]:
    """Return the high-risk areas in force now or declared for later."""
    return [HighRiskAreaView(region_code=a.region_code, name_en=a.name_en, name_zh=a.name_zh,
                             starts_at=a.starts_at, ends_at=a.ends_at)
            for a in repository.areas_active(session, now)]


def testing_orders_in_force(session: Session, *, now: datetime) -> list[TestingOrderView]:
    """Return the compulsory testing orders whose deadline has not passed."""
    return [TestingOrderView(reference=o.reference, period_from=o.period_from,
                             period_to=o.period_to, test_by=o.test_by,
                             premises=[p.address for p in repository.premises_of(session, o.id)])
            for o in repository.orders_in_force(session, now)]


def evidence_of(session: Session, person_id: uuid.UUID) -> EvidenceView:
    """Return everything on file about a person."""
    return EvidenceView(
        tests=[TestResultView(specimen_id=t.specimen_id, collected_at=t.collected_at,
                              reported_at=t.reported_at, method=t.method, result=t.result,
                              lab=t.lab) for t in repository.tests_of(session, person_id)],
        vaccinations=[VaccinationView(dose_number=v.dose_number, product=v.product,
                                      vaccinated_on=v.vaccinated_on, provider=v.provider)
                      for v in repository.vaccinations_of(session, person_id)],
        flags=[FlagView(id=f.id, kind=f.kind, starts_at=f.starts_at, ends_at=f.ends_at)
               for f in repository.flags_of(session, person_id)],
    )


def on_person_activated(session: Session, event: PersonActivated) -> None:
    """Attach the evidence that waited for a newly activated person's document."""
    repository.attach_person(session, event.person_id, event.doc_kind, event.doc_index)


def on_person_deleted(session: Session, event: PersonDeleted) -> None:
    """Detach a deleted person's evidence (it is kept by document, no longer by person)."""
    repository.detach_person(session, event.person_id)
