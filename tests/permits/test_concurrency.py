"""No overbooking: 50 applicants race for the last 10 places, on real connections.

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

from borderpass.identity.models import ApiToken
from borderpass.identity.schemas import Principal
from borderpass.kit.db import session_factory, unit_of_work
from borderpass.permits import service
from borderpass.permits.models import Application, Appointment, Office, Slot
from borderpass.permits.schemas import ApplicationIn, OfficeIn, SlotsIn
from tests.conftest import is_postgres
from tests.permits.conftest import application_fields, resident_id

RACERS = 50
CAPACITY = 100
LEFT = 10


@pytest.mark.postgres
@pytest.mark.skipif(not is_postgres(), reason="races need PostgreSQL's concurrent writers")
def test_fifty_concurrent_bookings_for_the_last_ten_places(engine: Engine, now: datetime) -> None:
    # One connection per racer, so that all fifty really are in the database at once.
    racing = create_engine(engine.url, pool_size=RACERS + 2, max_overflow=0)
    factory = session_factory(racing)
    staff = Principal(kind="staff", id=uuid.uuid4(), role="exit_entry_officer")
    code = f"RACE-{uuid.uuid4().hex[:8]}"
    with unit_of_work(factory) as session:
        office = service.create_office(
            session, OfficeIn(code=code, name="Race hall", address="Nowhere"), now=now)
        slot = service.publish_slots(
            session, code, SlotsIn(day=(now + timedelta(days=1)).date(), opens="09:00",
                                   closes="09:30", minutes=30, capacity=CAPACITY),
            officer=staff, now=now)[0]
        slot.booked = CAPACITY - LEFT  # the other 90 places went earlier
        applicants = []
        for _ in range(RACERS):
            data = ApplicationIn.model_validate(
                application_fields(mainland_id=resident_id(region="430100")))
            application, _token, _expires = service.create_application(session, data, now=now)
            applicants.append(Principal(kind="applicant", id=application.id, role="applicant"))
        office_id, slot_id = office.id, slot.id
    application_ids = [applicant.id for applicant in applicants]

    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    gate = threading.Barrier(RACERS)

    def race(applicant: Principal) -> None:
        gate.wait()
        try:
            with unit_of_work(factory) as session:
                service.book(session, applicant.id, slot_id, caller=applicant, now=now)
            outcome = "booked"
        except service.SlotFull:
            outcome = "full"
        except Exception as error:  # any other failure is counted, and fails the test
            outcome = type(error).__name__
        with lock:
            outcomes[outcome] += 1

    try:
        threads = [threading.Thread(target=race, args=(a,)) for a in applicants]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert outcomes == Counter(booked=LEFT, full=RACERS - LEFT)
        with unit_of_work(factory) as session:
            stored = session.get(Slot, slot_id)
            assert stored is not None and stored.booked == CAPACITY
            appointments = session.scalar(
                select(func.count()).select_from(Appointment).where(
                    Appointment.slot_id == slot_id, Appointment.status == "booked"))
            assert appointments == LEFT
            states = Counter(session.scalars(
                select(Application.status).where(Application.id.in_(application_ids))))
            assert states == Counter(booked=LEFT, submitted=RACERS - LEFT)
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(Application).where(Application.id.in_(application_ids)))
            session.execute(delete(ApiToken).where(ApiToken.principal_id.in_(application_ids)))
            session.execute(delete(Slot).where(Slot.office_id == office_id))
            session.execute(delete(Office).where(Office.id == office_id))
        racing.dispose()
