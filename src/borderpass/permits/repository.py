"""All SQL of the permits domain."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from borderpass.kit import booking
from borderpass.permits.models import (
    Application,
    ApplicationStep,
    Appointment,
    Endorsement,
    EvidenceCheck,
    Office,
    Slot,
)

__all__ = [
    "add",
    "active_appointment",
    "all_offices",
    "applications_in",
    "appointments_between",
    "checks_of",
    "decided_between",
    "due_reminders",
    "endorsement_of",
    "find_endorsement",
    "find_office",
    "get_application",
    "get_office",
    "get_slot",
    "open_applications_of",
    "release_place",
    "slots_between",
    "steps_of",
    "take_place",
]


def add(session: Session, *rows: object) -> None:
    """Stage new rows and flush them."""
    session.add_all(rows)
    session.flush()


def find_office(session: Session, code: str) -> Office | None:
    return session.scalars(select(Office).where(Office.code == code)).one_or_none()


def all_offices(session: Session) -> list[Office]:
    return list(session.scalars(select(Office).order_by(Office.code)))


def get_office(session: Session, office_id: uuid.UUID) -> Office | None:
    return session.get(Office, office_id)


def get_slot(session: Session, slot_id: uuid.UUID) -> Slot | None:
    return session.get(Slot, slot_id)


def slot_at(session: Session, office_id: uuid.UUID, starts_at: datetime) -> Slot | None:
    return session.scalars(
        select(Slot).where(Slot.office_id == office_id, Slot.starts_at == starts_at)
    ).one_or_none()


def slots_between(
    session: Session, office_id: uuid.UUID, start: datetime, end: datetime
) -> list[Slot]:
    return list(
        session.scalars(
            select(Slot)
            .where(Slot.office_id == office_id, Slot.starts_at >= start, Slot.starts_at < end)
            .order_by(Slot.starts_at)
        )
    )


def take_place(session: Session, slot_id: uuid.UUID) -> bool:
    """Take one place in a slot if one is free; tell whether it was taken.

    The shared booking engine (``kit.booking``): one conditional UPDATE, so concurrent
    bookers cannot both take the last place on PostgreSQL or SQLite.
    """
    return booking.take(session, Slot, slot_id)


def release_place(session: Session, slot_id: uuid.UUID) -> None:
    """Give one place back to a slot."""
    booking.release(session, Slot, slot_id)


def get_application(
    session: Session, application_id: uuid.UUID, *, for_update: bool = False
) -> Application | None:
    query = select(Application).where(Application.id == application_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def find_application(session: Session, reference: str) -> Application | None:
    return session.scalars(
        select(Application).where(Application.reference == reference)
    ).one_or_none()


def applications_in(session: Session, states: tuple[str, ...], *,
                    needs_supervisor: bool | None = None) -> list[Application]:
    query = select(Application).where(Application.status.in_(states))
    if needs_supervisor is not None:
        query = query.where(Application.needs_supervisor.is_(needs_supervisor))
    return list(session.scalars(query.order_by(Application.created_at, Application.reference)))


def open_applications_of(
    session: Session, applicant_index: str, kind: str, open_states: tuple[str, ...]
) -> list[Application]:
    return list(
        session.scalars(
            select(Application).where(
                Application.applicant_index == applicant_index,
                Application.kind == kind,
                Application.status.in_(open_states),
            )
        )
    )


def active_appointment(session: Session, application_id: uuid.UUID) -> Appointment | None:
    return session.scalars(
        select(Appointment).where(
            Appointment.application_id == application_id, Appointment.status == "booked"
        )
    ).one_or_none()


def appointments_between(
    session: Session, office_id: uuid.UUID, start: datetime, end: datetime
) -> list[tuple[Appointment, Slot, Application]]:
    rows = session.execute(
        select(Appointment, Slot, Application)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(Application, Application.id == Appointment.application_id)
        .where(
            Slot.office_id == office_id,
            Slot.starts_at >= start,
            Slot.starts_at < end,
            Appointment.status.in_(("booked", "attended")),
        )
        .order_by(Slot.starts_at, Application.reference)
    )
    return [(row[0], row[1], row[2]) for row in rows]


def due_reminders(
    session: Session, start: datetime, end: datetime
) -> list[tuple[Appointment, Slot, Application]]:
    rows = session.execute(
        select(Appointment, Slot, Application)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(Application, Application.id == Appointment.application_id)
        .where(
            Appointment.status == "booked",
            Appointment.reminded_at.is_(None),
            Slot.starts_at >= start,
            Slot.starts_at < end,
        )
        .order_by(Slot.starts_at)
        .with_for_update(of=Appointment, skip_locked=True)
    )
    return [(row[0], row[1], row[2]) for row in rows]


def decided_between(
    session: Session, start: datetime, end: datetime, office_id: uuid.UUID | None = None
) -> list[Application]:
    query = select(Application).where(
        Application.decided_at >= start, Application.decided_at < end
    )
    if office_id is not None:
        query = query.where(Application.office_id == office_id)
    return list(session.scalars(query.order_by(Application.decided_at)))


def checks_of(session: Session, application_id: uuid.UUID) -> list[EvidenceCheck]:
    return list(
        session.scalars(
            select(EvidenceCheck)
            .where(EvidenceCheck.application_id == application_id)
            .order_by(EvidenceCheck.position)
        )
    )


def steps_of(session: Session, application_id: uuid.UUID) -> list[ApplicationStep]:
    return list(
        session.scalars(
            select(ApplicationStep)
            .where(ApplicationStep.application_id == application_id)
            .order_by(ApplicationStep.seq)
        )
    )


def endorsement_of(session: Session, application_id: uuid.UUID) -> Endorsement | None:
    return session.scalars(
        select(Endorsement).where(Endorsement.application_id == application_id)
    ).one_or_none()


def find_endorsement(session: Session, number: str) -> Endorsement | None:
    return session.scalars(select(Endorsement).where(Endorsement.number == number)).one_or_none()


def next_step_seq(session: Session, application_id: uuid.UUID) -> int:
    last = session.scalar(
        select(func.max(ApplicationStep.seq)).where(
            ApplicationStep.application_id == application_id
        )
    )
    return int(last or 0) + 1
