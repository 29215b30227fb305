"""Offices, appointment slots, booking, and the reminders before an appointment.

Officers publish each day's slots for an office; an applicant books one place, moves it
or gives it back. A full slot is refused, never overbooked.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.schemas import Principal
from borderpass.kit import outbox
from borderpass.kit.clock import HONG_KONG, hk_date
from borderpass.kit.errors import Conflict, InvalidInput, NotFound
from borderpass.kit.i18n import _, translate
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import open_text
from borderpass.permits import policy as policies
from borderpass.permits import repository
from borderpass.permits.applications import (
    REVIEWER_ROLES,
    WrongState,
    _item_name,
    _locked,
    _step,
    authorise,
)
from borderpass.permits.models import Application, Appointment, Office, Slot
from borderpass.permits.schemas import OfficeIn, SlotsIn, SlotView

__all__ = [
    "OfficeNotFound",
    "SlotFull",
    "SlotNotFound",
    "SlotPast",
    "appointments_on",
    "book",
    "cancel",
    "change",
    "create_office",
    "list_offices",
    "list_slots",
    "publish_slots",
    "queue_reminders",
    "slot_view",
]

log = get_logger(__name__)

class OfficeNotFound(NotFound):
    code = "office_not_found"
    message = _("There is no such office.")


class SlotNotFound(NotFound):
    code = "slot_not_found"
    message = _("There is no such appointment slot.")


class SlotFull(Conflict):
    code = "slot_full"
    message = _("This slot has no free place left; choose another.")


class SlotPast(Conflict):
    code = "slot_past"
    message = _("This slot has already started; choose a later one.")


def create_office(session: Session, data: OfficeIn, *, now: datetime) -> Office:
    """Open an exit-entry office for appointments."""
    if repository.find_office(session, data.code) is not None:
        raise Conflict(_("There is already an office with code {code}."), field="code",
                       code=data.code)
    office = Office(code=data.code, name=data.name, address=data.address, created_at=now)
    repository.add(session, office)
    return office


def list_offices(session: Session) -> list[Office]:
    """List the offices that receive applicants, by code."""
    return repository.all_offices(session)


def _office(session: Session, code: str) -> Office:
    office = repository.find_office(session, code)
    if office is None:
        raise OfficeNotFound(field="office")
    return office


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def publish_slots(
    session: Session, code: str, data: SlotsIn, *, officer: Principal, now: datetime
) -> list[Slot]:
    """Publish a day's slots; a slot already published gets the new capacity."""
    identity.require_role(officer, *REVIEWER_ROLES)
    office = _office(session, code)
    opens, closes = _parse_hhmm(data.opens), _parse_hhmm(data.closes)
    if closes <= opens:
        raise InvalidInput(_("The office must close after it opens."), field="closes")
    if data.day < hk_date(now):
        raise InvalidInput(_("Slots cannot be published for a past day."), field="day")
    start = datetime.combine(data.day, opens, tzinfo=HONG_KONG)
    end = datetime.combine(data.day, closes, tzinfo=HONG_KONG)
    step = timedelta(minutes=data.minutes)
    published: list[Slot] = []
    while start + step <= end:
        slot = repository.slot_at(session, office.id, start)
        if slot is None:
            slot = Slot(office_id=office.id, starts_at=start, ends_at=start + step,
                        capacity=data.capacity, booked=0, published_by=officer.id,
                        published_at=now)
            repository.add(session, slot)
        else:
            if data.capacity < slot.booked:
                raise Conflict(
                    _("The slot at {time} already has {booked} bookings; its capacity cannot "
                      "go below that."), field="capacity",
                    time=start.strftime("%H:%M"), booked=slot.booked)
            slot.capacity = data.capacity
            slot.published_by = officer.id
            slot.published_at = now
            session.flush()
        published.append(slot)
        start += step
    if not published:
        raise InvalidInput(_("No slot of {minutes} minutes fits between the opening and "
                             "closing times."), field="minutes", minutes=data.minutes)
    log.info("permit.slots_published", office=code, day=data.day.isoformat(),
             slots=len(published), by=str(officer.id))
    return published


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=HONG_KONG)
    return start, start + timedelta(days=1)


def slot_view(slot: Slot, code: str) -> SlotView:
    """Shape a slot with its free places."""
    return SlotView(id=slot.id, office=code, starts_at=slot.starts_at, ends_at=slot.ends_at,
                    capacity=slot.capacity, booked=slot.booked,
                    free=max(slot.capacity - slot.booked, 0))


def list_slots(session: Session, code: str, day: date) -> list[SlotView]:
    """List an office's slots on a Hong Kong day with their free places."""
    office = _office(session, code)
    start, end = _day_bounds(day)
    return [slot_view(slot, code) for slot in repository.slots_between(session, office.id,
                                                                        start, end)]


def _bookable_slot(session: Session, slot_id: uuid.UUID, now: datetime) -> Slot:
    slot = repository.get_slot(session, slot_id)
    if slot is None:
        raise SlotNotFound(field="slot_id")
    if slot.starts_at <= now:
        raise SlotPast(field="slot_id")
    return slot


def _take(session: Session, application: Application, slot: Slot, now: datetime) -> Appointment:
    if not repository.take_place(session, slot.id):
        raise SlotFull(field="slot_id")
    appointment = Appointment(application_id=application.id, slot_id=slot.id, status="booked",
                              booked_at=now)
    repository.add(session, appointment)
    application.office_id = slot.office_id
    application.status = "booked"
    return appointment


def book(
    session: Session, application_id: uuid.UUID, slot_id: uuid.UUID, *, caller: Principal,
    now: datetime,
) -> Appointment:
    """Book a place in a slot for an application; a full slot is refused, never overbooked."""
    authorise(caller, application_id)
    application = _locked(session, application_id)
    if application.status != "submitted":
        raise WrongState(state=application.status)
    slot = _bookable_slot(session, slot_id, now)
    appointment = _take(session, application, slot, now)
    _step(session, application, caller, "booked", now, slot=str(slot.id),
          starts_at=slot.starts_at.isoformat())
    return appointment


def change(
    session: Session, application_id: uuid.UUID, slot_id: uuid.UUID, *, caller: Principal,
    now: datetime,
) -> Appointment:
    """Move an application's appointment to another slot; the old place is given back."""
    authorise(caller, application_id)
    application = _locked(session, application_id)
    current = repository.active_appointment(session, application.id)
    if application.status != "booked" or current is None:
        raise WrongState(state=application.status)
    if current.slot_id == slot_id:
        return current
    slot = _bookable_slot(session, slot_id, now)
    # Touch the two slot rows in one order (by id), so that two applicants swapping slots
    # cannot deadlock; a full new slot rolls the whole change back.
    if current.slot_id < slot.id:
        repository.release_place(session, current.slot_id)
        appointment = _take(session, application, slot, now)
    else:
        appointment = _take(session, application, slot, now)
        repository.release_place(session, current.slot_id)
    current.status = "moved"
    current.ended_at = now
    _step(session, application, caller, "changed", now, slot=str(slot.id),
          previous=str(current.slot_id), starts_at=slot.starts_at.isoformat())
    return appointment


def cancel(
    session: Session, application_id: uuid.UUID, *, caller: Principal, now: datetime
) -> None:
    """Cancel an application's appointment; its place is free for someone else at once."""
    authorise(caller, application_id)
    application = _locked(session, application_id)
    current = repository.active_appointment(session, application.id)
    if application.status != "booked" or current is None:
        raise WrongState(state=application.status)
    current.status = "cancelled"
    current.ended_at = now
    repository.release_place(session, current.slot_id)
    application.status = "submitted"
    session.flush()
    _step(session, application, caller, "cancelled", now, slot=str(current.slot_id))


_REMINDER = _("Reminder: your appointment for endorsement application {reference} is at "
              "{office} on {day} at {time}. Bring the originals of: {items}.")


def queue_reminders(session: Session, *, now: datetime) -> int:
    """Queue an SMS reminder for each appointment on the next Hong Kong day, once each."""
    policy = policies.current()
    start, end = _day_bounds(hk_date(now) + timedelta(days=1))
    queued = 0
    for appointment, slot, application in repository.due_reminders(session, start, end):
        office = repository.get_office(session, slot.office_id)
        local = slot.starts_at.astimezone(HONG_KONG)
        items = [_item_name(policy, check.item, application.locale)
                 for check in repository.checks_of(session, application.id)]
        body = translate(_REMINDER, application.locale, reference=application.reference,
                         office=office.name if office else "", day=local.date().isoformat(),
                         time=local.strftime("%H:%M"), items="; ".join(items))
        outbox.queue(session, channel="sms", purpose="permit_reminder",
                     recipient=open_text("permit.phone", application.phone_sealed),
                     body=body, reference=str(appointment.id), now=now)
        appointment.reminded_at = now
        queued += 1
    session.flush()
    if queued:
        log.info("permit.reminders_queued", count=queued)
    return queued


def appointments_on(session: Session, code: str, day: date) -> list[dict[str, Any]]:
    """List an office's appointments on a Hong Kong day, for the officers."""
    office = _office(session, code)
    start, end = _day_bounds(day)
    return [
        {"time": slot.starts_at.astimezone(HONG_KONG).strftime("%H:%M"),
         "reference": application.reference, "application_id": str(application.id),
         "kind": application.kind, "reason": application.reason,
         "needs_supervisor": application.needs_supervisor, "status": application.status,
         "applicant": application.applicant_masked}
        for _appointment, slot, application in repository.appointments_between(
            session, office.id, start, end)
    ]
