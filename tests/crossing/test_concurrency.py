"""No overbooking of quarantine-free places: 50 residents race for the last 10 places of a
day at a control point, on real connections.

This test commits its own rows (each booking is its own unit of work in its own thread,
as concurrent HTTP requests are) and removes them afterwards, so it cannot run inside the
per-test rolled-back transaction.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, delete, func, select

from borderpass.crossing import service
from borderpass.crossing.models import ControlPoint, Quota, QuotaBooking
from borderpass.crossing.schemas import BookingIn, ControlPointIn, QuotaIn
from borderpass.identity import service as identity
from borderpass.identity.documents import hkid_check_character
from borderpass.identity.models import ApiToken, Person, Registration, StaffMember
from borderpass.identity.schemas import Principal, RegistrationDetails
from borderpass.kit.clock import hk_date
from borderpass.kit.db import session_factory, unit_of_work
from borderpass.kit.outbox import OutboxMessage
from tests.conftest import DEMO_PDF, is_postgres

RACERS = 50
CAPACITY = 100
LEFT = 10


def _hkid(serial: int) -> str:
    body = f"R{serial:06d}"
    return f"{body}({hkid_check_character(body)})"


@pytest.mark.postgres
@pytest.mark.skipif(not is_postgres(), reason="races need PostgreSQL's concurrent writers")
def test_fifty_concurrent_bookings_for_the_last_ten_places(engine: Engine, now: datetime) -> None:
    # One connection per racer, so that all fifty really are in the database at once.
    racing = create_engine(engine.url, pool_size=RACERS + 2, max_overflow=0)
    factory = session_factory(racing)
    code = f"R{uuid.uuid4().hex[:5].upper()}"
    day = hk_date(now) + timedelta(days=1)
    helper = f"race-{uuid.uuid4().hex[:8]}"
    with unit_of_work(factory) as session:
        point = service.add_control_point(session, ControlPointIn(
            code=code, name_zh_hant="賽跑", name_zh_hans="赛跑", name_en="Race"), now=now)
        quota = service.set_quota(session, QuotaIn(control_point=code, day=day,
                                                   places=CAPACITY), officer=None, now=now)[0]
        quota.booked = CAPACITY - LEFT  # the other 90 places went earlier
        desk = identity.create_staff(session, helper, "Race desk", "help_desk", "password-123",
                                     now=now)
        residents, registrations = [], []
        start = uuid.uuid4().int % 900_000
        for n in range(RACERS):
            registration = identity.start_registration(session, now=now)
            identity.submit_registration(session, registration.id, RegistrationDetails(
                name_zh="陳大文", name_en="CHAN Tai Man", document_kind="hkid",
                document_number=_hkid(start + n), document_issued_on="2015-01-01",
                phone="+85291234567", address="Flat A, 12/F, 1 Test Road, Tsuen Wan",
                password="password-123"), DEMO_PDF, now=now)
            person = identity.activate_by_officer(session, registration.id, officer=desk.id,
                                                  now=now)
            residents.append(Principal(kind="resident", id=person.id, role="resident"))
            registrations.append(str(registration.id))
        point_id, quota_id, desk_id = point.id, quota.id, desk.id
    people = [resident.id for resident in residents]

    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    gate = threading.Barrier(RACERS)

    def race(resident: Principal) -> None:
        gate.wait()
        try:
            with unit_of_work(factory) as session:
                service.book(session, BookingIn(control_point=code, day=day), caller=resident,
                             now=now)
            outcome = "booked"
        except service.QuotaFull:
            outcome = "full"
        except Exception as error:  # any other failure is counted, and fails the test
            outcome = type(error).__name__
        with lock:
            outcomes[outcome] += 1

    try:
        threads = [threading.Thread(target=race, args=(r,)) for r in residents]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert outcomes == Counter(booked=LEFT, full=RACERS - LEFT)
        with unit_of_work(factory) as session:
            stored = session.get(Quota, quota_id)
            assert stored is not None and stored.booked == CAPACITY
            bookings = session.scalar(select(func.count()).select_from(QuotaBooking).where(
                QuotaBooking.quota_id == quota_id, QuotaBooking.status == "booked"))
            assert bookings == LEFT
            holders = session.scalars(select(QuotaBooking.person_id).where(
                QuotaBooking.quota_id == quota_id))
            assert len(set(holders)) == LEFT
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(QuotaBooking).where(QuotaBooking.quota_id == quota_id))
            session.execute(delete(Quota).where(Quota.id == quota_id))
            session.execute(delete(ControlPoint).where(ControlPoint.id == point_id))
            session.execute(delete(OutboxMessage).where(OutboxMessage.reference.in_(registrations)))
            session.execute(delete(Registration).where(Registration.person_id.in_(people)))
            session.execute(delete(ApiToken).where(ApiToken.principal_id.in_(people)))
            session.execute(delete(Person).where(Person.id.in_(people)))
            session.execute(delete(StaffMember).where(StaffMember.id == desk_id))
        racing.dispose()
