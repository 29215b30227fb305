"""Booking: slots with capacities, book, change, cancel, never overbooked, reminders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from borderpass.kit import outbox
from borderpass.kit.clock import HONG_KONG
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput
from borderpass.permits import repository, service
from borderpass.permits.schemas import SlotsIn

Apply = Callable[..., tuple[Any, Any]]
Publish = Callable[..., list[Any]]


def test_publish_slots_for_a_day(
    session: Session, publish: Publish, office: Any, tomorrow: date
) -> None:
    slots = publish(capacity=3, opens="09:00", closes="11:00", minutes=30)
    assert [s.starts_at.astimezone(HONG_KONG).strftime("%H:%M") for s in slots] == [
        "09:00", "09:30", "10:00", "10:30"]
    listed = service.list_slots(session, office.code, tomorrow)
    assert [(s.capacity, s.booked, s.free) for s in listed] == [(3, 0, 3)] * 4
    again = publish(capacity=5, opens="09:00", closes="10:00", minutes=30)
    assert [s.id for s in again] == [s.id for s in slots[:2]]
    assert service.list_slots(session, office.code, tomorrow)[0].capacity == 5


def test_publishing_is_checked(publish: Publish, tomorrow: date) -> None:
    with pytest.raises(InvalidInput) as raised:
        publish(opens="10:00", closes="09:00")
    assert raised.value.field == "closes"
    with pytest.raises(InvalidInput) as raised:
        publish(day=tomorrow - timedelta(days=5))
    assert raised.value.field == "day"


def test_only_officers_publish(
    session: Session, now: datetime, office: Any, tomorrow: date, apply: Apply
) -> None:
    _application, applicant = apply()
    with pytest.raises(Forbidden):
        service.publish_slots(session, office.code, SlotsIn(
            day=tomorrow, opens="09:00", closes="10:00", minutes=30, capacity=1),
            officer=applicant, now=now)


def test_book_takes_a_place(session: Session, now: datetime, apply: Apply,
                            publish: Publish) -> None:
    application, applicant = apply()
    slot = publish(capacity=2)[0]
    appointment = service.book(session, application.id, slot.id, caller=applicant, now=now)
    assert appointment.status == "booked"
    assert repository.get_slot(session, slot.id).booked == 1  # type: ignore[union-attr]
    view = service.application_view(session, application)
    assert view.status == "booked"
    assert view.appointment is not None and view.appointment.slot_id == slot.id


def test_a_full_slot_is_refused(session: Session, now: datetime, apply: Apply,
                                publish: Publish) -> None:
    slot = publish(capacity=1)[0]
    first, first_applicant = apply()
    second, second_applicant = apply()
    service.book(session, first.id, slot.id, caller=first_applicant, now=now)
    with pytest.raises(Conflict) as raised:
        service.book(session, second.id, slot.id, caller=second_applicant, now=now)
    assert raised.value.code == "slot_full"
    assert repository.get_slot(session, slot.id).booked == 1  # type: ignore[union-attr]


def test_cancellation_frees_a_place(session: Session, now: datetime, apply: Apply,
                                    publish: Publish) -> None:
    slot = publish(capacity=1)[0]
    first, first_applicant = apply()
    second, second_applicant = apply()
    service.book(session, first.id, slot.id, caller=first_applicant, now=now)
    service.cancel(session, first.id, caller=first_applicant, now=now)
    assert repository.get_slot(session, slot.id).booked == 0  # type: ignore[union-attr]
    assert service.get_application(session, first.id).status == "submitted"
    service.book(session, second.id, slot.id, caller=second_applicant, now=now)
    assert repository.get_slot(session, slot.id).booked == 1  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        service.book(session, first.id, slot.id, caller=first_applicant, now=now)


def test_change_moves_the_place(session: Session, now: datetime, apply: Apply,
                                publish: Publish) -> None:
    early, late = publish(capacity=1)
    application, applicant = apply()
    service.book(session, application.id, early.id, caller=applicant, now=now)
    service.change(session, application.id, late.id, caller=applicant, now=now)
    assert repository.get_slot(session, early.id).booked == 0  # type: ignore[union-attr]
    assert repository.get_slot(session, late.id).booked == 1  # type: ignore[union-attr]
    view = service.application_view(session, application)
    assert view.appointment is not None and view.appointment.slot_id == late.id
    other, other_applicant = apply()
    service.book(session, other.id, early.id, caller=other_applicant, now=now)
    with pytest.raises(Conflict) as raised:  # both full now: nothing changes
        service.change(session, application.id, early.id, caller=applicant, now=now)
    assert raised.value.code == "slot_full"


def test_a_started_slot_cannot_be_booked(session: Session, now: datetime, apply: Apply,
                                         publish: Publish) -> None:
    application, applicant = apply()
    slot = publish()[0]
    with pytest.raises(Conflict) as raised:
        service.book(session, application.id, slot.id, caller=applicant,
                     now=slot.starts_at + timedelta(minutes=1))
    assert raised.value.code == "slot_past"


def test_another_applicant_cannot_book_for_you(session: Session, now: datetime, apply: Apply,
                                               publish: Publish) -> None:
    application, _ = apply()
    _other, intruder = apply()
    with pytest.raises(Forbidden):
        service.book(session, application.id, publish()[0].id, caller=intruder, now=now)


def test_reminder_goes_out_the_day_before_once(
    session: Session, now: datetime, apply: Apply, publish: Publish
) -> None:
    application, applicant = apply()
    slot = publish()[0]
    appointment = service.book(session, application.id, slot.id, caller=applicant, now=now)
    two_days_before = now - timedelta(days=1)
    assert service.queue_reminders(session, now=two_days_before) == 0
    assert service.queue_reminders(session, now=now) == 1
    assert service.queue_reminders(session, now=now) == 0
    messages = outbox.messages_for(session, str(appointment.id))
    assert len(messages) == 1
    assert messages[0].purpose == "permit_reminder"
    assert application.reference in messages[0].body
    assert "09:00" in messages[0].body


def test_cancelled_appointments_get_no_reminder(
    session: Session, now: datetime, apply: Apply, publish: Publish
) -> None:
    application, applicant = apply()
    service.book(session, application.id, publish()[0].id, caller=applicant, now=now)
    service.cancel(session, application.id, caller=applicant, now=now)
    assert service.queue_reminders(session, now=now) == 0
