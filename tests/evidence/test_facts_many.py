"""Facts for many people at once equal, person by person, what the per-person queries gave.

The reference below is the per-person path as it was (about eight queries a person), kept
here only to check the set-based one against it over a varied population.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from borderpass.evidence import facts
from borderpass.evidence import service as evidence
from borderpass.evidence.models import (
    CheckinFact,
    HealthFlag,
    HighRiskArea,
    TestingOrder,
    TestingOrderPremises,
    TestResult,
    TravelRecord,
    Vaccination,
)
from borderpass.evidence.schemas import PersonFacts
from borderpass.identity.models import Person
from borderpass.kit.clock import HONG_KONG, hk_date
from borderpass.kit.errors import NotFound

H = timedelta(hours=1)
D = timedelta(days=1)
REGIONS = ["CN", "CN-GD", "CN-GD-SZ", "CN-GD-GZ", "CN-SH", "MO", "TW-TPE"]


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _covers(area_region: str, region: str) -> bool:
    return region == area_region or region.startswith(area_region + "-")


def reference_facts(session: Session, person_id: uuid.UUID, now: datetime) -> PersonFacts:
    """The per-person path as it was: one query per kind of fact."""
    flags = list(session.scalars(select(HealthFlag).where(
        HealthFlag.person_id == person_id, HealthFlag.lifted_at.is_(None),
        (HealthFlag.ends_at.is_(None)) | (HealthFlag.ends_at > now))))
    flag_until = None
    if flags and all(flag.ends_at is not None for flag in flags):
        flag_until = max(flag.ends_at for flag in flags if flag.ends_at is not None)
    person = session.get(Person, person_id)
    assert person is not None
    orders = [found for found in (
        session.scalars(
            select(TestingOrder).join(TestingOrderPremises)
            .where(TestingOrderPremises.address_index == person.address_index,
                   TestingOrder.issued_at <= now)
            .order_by(TestingOrder.issued_at.desc()).limit(1)).first(),
        session.scalars(
            select(TestingOrder).join(CheckinFact, CheckinFact.order_id == TestingOrder.id)
            .where(CheckinFact.person_id == person_id, CheckinFact.kind == "order",
                   TestingOrder.issued_at <= now)
            .order_by(TestingOrder.issued_at.desc()).limit(1)).first(),
    ) if found is not None]
    order = max(orders, key=lambda o: o.issued_at) if orders else None
    exposure = session.scalars(
        select(CheckinFact).where(CheckinFact.person_id == person_id,
                                  CheckinFact.kind == "exposure", CheckinFact.visit_from <= now)
        .order_by(CheckinFact.visit_to.desc()).limit(1)).first()
    row = session.execute(
        select(func.count(Vaccination.id), func.max(Vaccination.vaccinated_on))
        .where(Vaccination.person_id == person_id, Vaccination.vaccinated_on <= hk_date(now))
    ).one()
    doses, last_dose = int(row[0]), row[1]
    if isinstance(last_dose, str):
        last_dose = date.fromisoformat(last_dose)
    visit_at = visit_region = None
    travel = list(session.scalars(
        select(TravelRecord).where(TravelRecord.person_id == person_id, TravelRecord.at <= now)
        .order_by(TravelRecord.at.desc())))
    areas = list(session.scalars(select(HighRiskArea)))
    for record in travel:
        if any(_covers(area.region_code, record.region_code) and area.starts_at <= record.at
               and (area.ends_at is None or record.at < area.ends_at) for area in areas):
            visit_at, visit_region = record.at, record.region_code
            break

    def last(result: str, method: str | None = None) -> datetime | None:
        query = select(func.max(TestResult.collected_at)).where(
            TestResult.person_id == person_id, TestResult.result == result,
            TestResult.collected_at <= now)
        if method is not None:
            query = query.where(TestResult.method == method)
        return _aware(session.scalar(query))

    return PersonFacts(
        last_negative_at=last("negative"), last_positive_at=last("positive"),
        flag_since=min(flag.starts_at for flag in flags) if flags else None,
        flag_until=flag_until, flag_kinds=tuple(sorted({flag.kind for flag in flags})),
        order_issued_at=order.issued_at if order is not None else None,
        order_reference=order.reference if order is not None else None,
        high_risk_visit_at=visit_at, high_risk_region=visit_region,
        exposure_at=min(exposure.visit_to, now) if exposure is not None else None,
        exposure_venue=exposure.place_id if exposure is not None else None,
        last_negative_pcr_at=last("negative", "PCR"), last_negative_rat_at=last("negative", "RAT"),
        doses=doses,
        last_dose_at=(datetime.combine(last_dose, time(0), tzinfo=HONG_KONG)
                      if last_dose is not None else None),
    )


def _person(session: Session, n: int, address: str, now: datetime) -> Person:
    person = Person(doc_kind="hkid", doc_index=f"facts-{uuid.uuid4().hex}", doc_number_sealed=b"x",
                    doc_masked="A*****", doc_issued_on=date(2015, 1, 1), name_zh_sealed=b"x",
                    name_en_sealed=b"x", initials="T", phone_sealed=b"x", address_sealed=b"x",
                    address_index=address, status="active" if n % 9 else "pending",
                    created_at=now - 30 * D, activated_at=now - 30 * D)
    session.add(person)
    return person


def _population(session: Session, source_id: uuid.UUID, now: datetime, size: int) -> list[Person]:
    """Registered people with a varied mix of every kind of evidence, some with none."""
    rng = random.Random(20261126)  # noqa: S311 - a reproducible test population

    def instant(back_days: float, ahead_days: float = 0) -> datetime:
        return now + timedelta(seconds=rng.uniform(-back_days * 86400, ahead_days * 86400))

    addresses = [f"address-{uuid.uuid4().hex[:12]}" for _ in range(size // 4 + 1)]
    people = [_person(session, n, rng.choice(addresses), now) for n in range(size)]
    session.flush()
    officer = uuid.uuid4()
    orders = []
    for n in range(8):
        issued = instant(14, 2)
        order = TestingOrder(reference=f"FACTS-{uuid.uuid4().hex[:8]}-{n}", issued_at=issued,
                             period_from=issued - 2 * D, period_to=issued - D,
                             test_by=issued + 2 * D, recorded_by=officer)
        session.add(order)
        session.flush()
        orders.append(order)
        for address in rng.sample(addresses, 3):
            session.add(TestingOrderPremises(order_id=order.id, address="premises",
                                             address_index=address, venue_id=None))
    for region in ("CN-GD", "MO", "TW-TPE"):
        starts = now - rng.uniform(10, 20) * D
        session.add(HighRiskArea(region_code=region, name_en=region, name_zh=region,
                                 starts_at=starts, recorded_by=officer, recorded_at=starts,
                                 ends_at=None if region == "CN-GD" else starts + 8 * D))
    specimen = 0
    for person in people:
        if rng.random() < 0.1:
            continue  # no evidence at all
        for _ in range(rng.randrange(0, 6)):
            specimen += 1
            collected = instant(20, 1)
            session.add(TestResult(
                source_id=source_id, specimen_id=f"F-{uuid.uuid4().hex[:12]}-{specimen}",
                doc_kind=person.doc_kind, doc_index=person.doc_index, person_id=person.id,
                collected_at=collected, reported_at=collected + H,
                method=rng.choice(["PCR", "RAT"]),
                result=rng.choice(["negative", "negative", "positive", "invalid"]), lab="Lab",
                batch_id=uuid.uuid4()))
        for dose in range(1, rng.randrange(0, 5)):
            session.add(Vaccination(
                source_id=source_id, doc_kind=person.doc_kind, doc_index=person.doc_index,
                person_id=person.id, dose_number=dose, product="Comirnaty",
                vaccinated_on=hk_date(instant(400, 3)), provider="Clinic",
                batch_id=uuid.uuid4()))
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            starts = instant(20, 3)
            session.add(HealthFlag(
                doc_kind=person.doc_kind, doc_index=person.doc_index, person_id=person.id,
                kind=rng.choice(["confirmed", "suspected", "close_contact", "quarantine"]),
                starts_at=starts, ends_at=rng.choice([None, starts + rng.uniform(1, 15) * D]),
                recorded_by=officer, recorded_at=starts,
                lifted_at=now - H if rng.random() < 0.15 else None))
        for _ in range(rng.choice([0, 1, 2, 3])):
            session.add(TravelRecord(
                doc_kind=person.doc_kind, doc_index=person.doc_index, person_id=person.id,
                region_code=rng.choice(REGIONS), at=instant(25, 1), source="crossing",
                recorded_by=officer, recorded_at=now))
        for _ in range(rng.choice([0, 0, 1, 2])):
            begun = instant(15, 1)
            session.add(CheckinFact(person_id=person.id, kind="exposure",
                                    place_id=f"V{rng.randrange(100)}", visit_from=begun,
                                    visit_to=begun + rng.uniform(0.2, 30) * H, recorded_at=now))
        if rng.random() < 0.25:
            order = rng.choice(orders)
            session.add(CheckinFact(person_id=person.id, kind="order", place_id="V-ORDER",
                                    visit_from=order.period_from, visit_to=order.period_from + H,
                                    order_id=order.id, recorded_at=now))
    session.flush()
    return people


@pytest.mark.parametrize("shift", [timedelta(0), -3 * D, 2 * D])
def test_facts_for_many_equal_the_per_person_facts(
    session: Session, now: datetime, lab: Any, monkeypatch: pytest.MonkeyPatch, shift: timedelta
) -> None:
    source, _key = lab
    people = _population(session, source.id, now, 120)
    at = now + shift
    ids = [person.id for person in people]
    monkeypatch.setattr(facts, "FACTS_CHUNK", 37)  # several chunks, one ragged
    many = evidence.facts_for_many(session, [*ids, ids[0]], at)
    assert list(many) == ids
    expected = {person_id: reference_facts(session, person_id, at) for person_id in ids}
    for person_id in ids:
        assert many[person_id] == expected[person_id], person_id
        assert evidence.facts_for(session, person_id, at) == expected[person_id]
    # The population is varied enough to mean something.
    for name in ("last_negative_at", "last_positive_at", "flag_since", "flag_until",
                 "order_issued_at", "high_risk_visit_at", "exposure_at",
                 "last_negative_pcr_at", "last_negative_rat_at", "last_dose_at"):
        assert sum(getattr(f, name) is not None for f in many.values()) >= 3, name
    assert any(f.flag_since is not None and f.flag_until is None for f in many.values())
    assert {f.high_risk_region for f in many.values()} > {None, "CN-GD-SZ"}


def test_facts_for_many_takes_a_constant_number_of_queries(
    session: Session, now: datetime, lab: Any
) -> None:
    source, _key = lab
    people = _population(session, source.id, now, 60)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        evidence.facts_for_many(session, [p.id for p in people[:5]], now)
        few = len(statements)
        statements.clear()
        evidence.facts_for_many(session, [p.id for p in people], now)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert len(statements) == few <= 10


def test_facts_for_an_unknown_person(session: Session, now: datetime) -> None:
    with pytest.raises(NotFound):
        evidence.facts_for(session, uuid.uuid4(), now)
    assert evidence.facts_for_many(session, [], now) == {}


@pytest.mark.parametrize("shift", [timedelta(0), 2 * D])
def test_facts_read_as_ranges_of_ids_equal_those_read_by_list(
    session: Session, now: datetime, lab: Any, monkeypatch: pytest.MonkeyPatch, shift: timedelta
) -> None:
    source, _key = lab
    people = _population(session, source.id, now, 90)
    at = now + shift
    ordered = sorted(person.id for person in people)
    # Every third person is left out: the ranges read their evidence too, which must not
    # reach anyone else's facts.
    wanted = [person_id for n, person_id in enumerate(ordered) if n % 3]
    monkeypatch.setattr(facts, "FACTS_CHUNK", 23)
    by_list = evidence.facts_for_many(session, wanted, at)
    by_range = evidence.facts_for_many(session, wanted, at, contiguous=True)
    assert list(by_range) == wanted
    assert by_range == by_list
    assert evidence.facts_change_at_many(session, wanted, at, contiguous=True) \
        == evidence.facts_change_at_many(session, wanted, at)
    with pytest.raises(NotFound):
        evidence.facts_for_many(session, [*wanted, uuid.uuid4()], at, contiguous=True)
