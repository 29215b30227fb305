"""What the rules need to know about people: facts summarised from the evidence on file,
the facts that uploaded check-ins tell, and the orders and areas in force.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from borderpass.evidence import repository
from borderpass.evidence.events import EvidenceChanged
from borderpass.evidence.models import CheckinFact
from borderpass.evidence.schemas import (
    CheckinExposure,
    CheckinOrderVisit,
    EvidenceView,
    FlagView,
    HighRiskAreaView,
    PersonFacts,
    TestingOrderView,
    TestResultView,
    UploadedFactView,
    VaccinationView,
    VenueOrderView,
)
from borderpass.identity import service as identity
from borderpass.kit.clock import HONG_KONG, hk_date
from borderpass.kit.events import publish
from borderpass.kit.logging import get_logger

__all__ = [
    "FACTS_CHUNK",
    "evidence_of",
    "facts_for",
    "facts_change_at_many",
    "facts_for_many",
    "facts_version",
    "facts_version_columns",
    "facts_version_of",
    "high_risk_areas",
    "orders_at_venues",
    "purge_checkin_facts",
    "replace_checkin_facts",
    "testing_orders_in_force",
]

log = get_logger(__name__)

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
    session: Session, person_ids: Sequence[uuid.UUID], now: datetime, *,
    contiguous: bool = False,
) -> dict[uuid.UUID, PersonFacts]:
    """Summarise what the rules need to know about each of these people, as known at ``now``.

    A travel record counts as a high-risk visit when an area covering its region was
    declared high-risk at the time of the visit. The testing order is the latest issued
    that names the person's address or, through an uploaded check-in, a venue they were
    at during its period. The exposure is the uploaded visit, at a place where a case
    was, that ended last (``exposure_at`` is when it ended).

    A constant number of queries per chunk of :data:`FACTS_CHUNK` people, whatever
    their evidence. With ``contiguous`` (the ids are a page of ids taken in order, with
    few others between them), each query reads the range from the least id of the chunk
    to the greatest, and the rows of others in it are left out.

    Raises:
        NotFound: one of them is not a known person.
    """
    unique = list(dict.fromkeys(person_ids))
    session.flush()  # the reads below go straight to the connection
    facts: dict[uuid.UUID, PersonFacts] = {}
    for start in range(0, len(unique), FACTS_CHUNK):
        facts.update(_facts_of_chunk(session, unique[start:start + FACTS_CHUNK], now,
                                     contiguous))
    return facts


def facts_change_at_many(
    session: Session, person_ids: Sequence[uuid.UUID], now: datetime, *,
    contiguous: bool = False,
) -> dict[uuid.UUID, datetime | None]:
    """Say when the facts of each of these people may change with the clock alone.

    :func:`facts_for_many` reads the evidence as known at an instant: a test collected,
    a dose given, an order issued or a visit begun after it is not seen yet, a flag that
    ended is not seen any more, and a visit under way ends "now". This returns the first
    instant after ``now`` at which any of that may make the facts differ from those at
    ``now`` with no new evidence recorded (``now`` itself while an uploaded visit is
    under way; None when nothing does), in two queries per chunk of people (read as
    ranges with ``contiguous``, as :func:`facts_for_many` does).
    """
    unique = list(dict.fromkeys(person_ids))
    session.flush()
    found: dict[uuid.UUID, datetime | None] = {}
    for start in range(0, len(unique), FACTS_CHUNK):
        ids = unique[start:start + FACTS_CHUNK]
        first: dict[uuid.UUID | None, datetime] = {}
        for person_id, at in repository.later_instants_of_many(session, ids, now,
                                                               contiguous=contiguous):
            _earliest(first, person_id, max(at, now))
        for person_id, day in repository.later_doses_of_many(
                session, ids, hk_date(now), contiguous=contiguous).items():
            _earliest(first, person_id, datetime.combine(day, time(0), tzinfo=HONG_KONG))
        anyone = first.get(None)
        for person_id in ids:
            own = first.get(person_id)
            found[person_id] = min(own, anyone) if own is not None and anyone is not None \
                else own or anyone
    return found


def _earliest(found: dict[uuid.UUID | None, datetime], key: uuid.UUID | None,
              at: datetime) -> None:
    if key not in found or at < found[key]:
        found[key] = at


def _latest(found: dict[Any, tuple[datetime, str]], key: Any, at: datetime, label: str) -> None:
    earlier = found.get(key)
    if earlier is None or at > earlier[0]:
        found[key] = (at, label)


def _facts_of_chunk(
    session: Session, ids: list[uuid.UUID], now: datetime, contiguous: bool = False
) -> dict[uuid.UUID, PersonFacts]:
    # With ``contiguous`` the reads may give rows of others between these people's ids:
    # only the lookups below by these ids use them.
    addresses = identity.address_indexes(session, ids, contiguous=contiguous)

    # Keyed by the ids' numbers: a UUID hashes in Python, its number in C, and a chunk
    # looks each person up in several of these.
    tests: dict[int, dict[tuple[str, str | None], datetime]] = {}
    for person_id, result, method, collected in repository.last_tests_of_many(
            session, ids, now, contiguous=contiguous):
        own = tests.get(person_id.int)
        if own is None:
            own = tests[person_id.int] = {}
        for key in ((result, None), (result, method)):
            if key not in own or collected > own[key]:
                own[key] = collected

    flags: dict[int, list[tuple[str, datetime, datetime | None]]] = {}
    for person_id, kind, starts_at, ends_at in repository.flags_in_force_of_many(
            session, ids, now, contiguous=contiguous):
        flags.setdefault(person_id.int, []).append((kind, starts_at, ends_at))

    by_address: dict[str, tuple[datetime, str]] = {}
    for index, issued_at, reference in repository.orders_for_addresses(
            session, sorted(set(addresses.values())), now):
        _latest(by_address, index, issued_at, reference)
    orders: dict[int, tuple[datetime, str]] = {}
    for person_id, index in addresses.items():
        if index in by_address:
            orders[person_id.int] = by_address[index]
    for person_id, issued_at, reference in repository.orders_by_visit_of_many(
            session, ids, now, contiguous=contiguous):
        _latest(orders, person_id.int, issued_at, reference)

    exposures: dict[int, tuple[datetime, str]] = {}
    for person_id, place_id, visit_to in repository.exposures_of_many(
            session, ids, now, contiguous=contiguous):
        _latest(exposures, person_id.int, visit_to, place_id)

    doses = {person_id.int: summary for person_id, summary in repository.dose_summaries(
        session, ids, hk_date(now), contiguous=contiguous).items()}

    visits: dict[int, tuple[datetime, str]] = {}
    travel = repository.travel_of_many(session, ids, now, contiguous=contiguous)
    if travel:
        areas = repository.areas_of_regions(session, {region for _, region, _ in travel})
        for person_id, region, at in sorted(travel, key=lambda record: record[2],
                                            reverse=True):  # latest first
            if person_id.int in visits:
                continue
            if any(_covers(area.region_code, region) and area.starts_at <= at
                   and (area.ends_at is None or at < area.ends_at) for area in areas):
                visits[person_id.int] = (at, region)

    facts = {}
    no_tests: dict[tuple[str, str | None], datetime] = {}
    day_starts: dict[date, datetime] = {}  # many people's last doses fall on one day
    for person_id in ids:
        number = person_id.int
        held = flags.get(number, [])
        flag_until = None
        if held and all(ends_at is not None for _, _, ends_at in held):
            flag_until = max(ends_at for _, _, ends_at in held if ends_at is not None)
        order = orders.get(number)
        exposure = exposures.get(number)
        visit = visits.get(number)
        own = tests.get(number, no_tests)
        count, last_dose = doses.get(number, (0, None))
        last_dose_at = None
        if last_dose is not None:
            last_dose_at = day_starts.get(last_dose)
            if last_dose_at is None:
                last_dose_at = day_starts[last_dose] = datetime.combine(
                    last_dose, time(0), tzinfo=HONG_KONG)
        facts[person_id] = PersonFacts(
            last_negative_at=own.get(("negative", None)),
            last_positive_at=own.get(("positive", None)),
            flag_since=min(starts_at for _, starts_at, _ in held) if held else None,
            flag_until=flag_until,
            flag_kinds=tuple(sorted({kind for kind, _, _ in held})),
            order_issued_at=order[0] if order is not None else None,
            order_reference=order[1] if order is not None else None,
            high_risk_visit_at=visit[0] if visit is not None else None,
            high_risk_region=visit[1] if visit is not None else None,
            exposure_at=min(exposure[0], now) if exposure is not None else None,
            exposure_venue=exposure[1] if exposure is not None else None,
            last_negative_pcr_at=own.get(("negative", "PCR")),
            last_negative_rat_at=own.get(("negative", "RAT")),
            doses=count,
            last_dose_at=last_dose_at,
        )
    return facts


def facts_version(session: Session) -> str:
    """Return a value that changes whenever something changes anyone's facts without an
    ``EvidenceChanged`` naming them: a high-risk area declared (it may make a past
    travel record a high-risk visit)."""
    return repository.areas_version(session)


def facts_version_columns() -> tuple[Any, ...]:
    """Return what ``facts_version`` reads as scalar subqueries, for another domain's query
    that reads more besides (one round trip); ``facts_version_of`` reads their values."""
    return repository.areas_version_columns()


def facts_version_of(values: Sequence[Any]) -> str:
    """Return ``facts_version`` from the values of ``facts_version_columns``, in order."""
    count, last = values
    return repository.areas_version_of(count, last)


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
    """Return what is on file about a person, as they may see it.

    Only a proven holder sees evidence from laboratories, registries and officers; a
    claimed account sees what its own uploads told (and nothing is attached to it anyway:
    evidence attaches when the holder proves who they are).
    """
    uploads = [UploadedFactView(kind=f.kind, place_id=f.place_id,
                                visit_from=f.visit_from, visit_to=f.visit_to)
               for f in sorted(repository.checkin_facts_of(session, person_id),
                               key=lambda fact: fact.visit_from)]
    if not identity.is_proven(session, person_id):
        return EvidenceView(tests=[], vaccinations=[], flags=[], uploads=uploads,
                            assurance="claimed", withheld=True)
    return EvidenceView(
        tests=[TestResultView(specimen_id=t.specimen_id, collected_at=t.collected_at,
                              reported_at=t.reported_at, method=t.method, result=t.result,
                              lab=t.lab) for t in repository.tests_of(session, person_id)],
        vaccinations=[VaccinationView(dose_number=v.dose_number, product=v.product,
                                      vaccinated_on=v.vaccinated_on, provider=v.provider)
                      for v in repository.vaccinations_of(session, person_id)],
        flags=[FlagView(id=f.id, kind=f.kind, starts_at=f.starts_at, ends_at=f.ends_at)
               for f in repository.flags_of(session, person_id)],
        uploads=uploads,
    )
