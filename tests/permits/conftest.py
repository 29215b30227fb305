"""Fixtures for endorsement applications: resident IDs, an office with slots, officers."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from borderpass.identity.documents import mainland_check_character
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import hk_date
from borderpass.permits import service
from borderpass.permits.schemas import ApplicationIn, OfficeIn, SlotsIn

_serial = itertools.count(100)


def resident_id(born: str = "19800101", region: str = "440300") -> str:
    """Return a fresh valid mainland resident ID number (a new sequence each call)."""
    body = f"{region}{born}{next(_serial) % 1000:03d}"
    return body + mainland_check_character(body)


def application_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "mainland_id": resident_id(), "name": "李明", "phone": "+86 138 0013 8000",
        "permit_number": "C12345678", "kind": "emergency", "destination": "HK",
        "reason": "medical_treatment", "locale": "zh_Hans",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


@pytest.fixture()
def officer(staff_token: Callable[[str], tuple[Any, str]]) -> Principal:
    member, _token = staff_token("exit_entry_officer")
    return Principal(kind="staff", id=member.id, role=member.role)


@pytest.fixture()
def supervisor(staff_token: Callable[[str], tuple[Any, str]]) -> Principal:
    member, _token = staff_token("supervisor")
    return Principal(kind="staff", id=member.id, role=member.role)


@pytest.fixture()
def tomorrow(now: datetime) -> date:
    return hk_date(now) + timedelta(days=1)


@pytest.fixture()
def office(session: Session, now: datetime) -> Any:
    code = f"SZ-{uuid.uuid4().hex[:6]}"
    return service.create_office(
        session, OfficeIn(code=code, name="深圳市出入境接待大厅", address="深圳市福田区"),
        now=now,
    )


@pytest.fixture()
def publish(
    session: Session, now: datetime, office: Any, officer: Principal, tomorrow: date
) -> Callable[..., list[Any]]:
    """Publish slots at the office (tomorrow, 09:00-10:00 by default)."""

    def make(capacity: int = 5, opens: str = "09:00", closes: str = "10:00", minutes: int = 30,
             day: date | None = None) -> list[Any]:
        return service.publish_slots(
            session, office.code,
            SlotsIn(day=day or tomorrow, opens=opens, closes=closes, minutes=minutes,
                    capacity=capacity),
            officer=officer, now=now,
        )

    return make


@pytest.fixture()
def apply(session: Session, now: datetime) -> Callable[..., tuple[Any, Principal]]:
    """Create an application through the service; return it and its applicant."""

    def make(**overrides: Any) -> tuple[Any, Principal]:
        data = ApplicationIn.model_validate(application_fields(**overrides))
        application, _token, _expires = service.create_application(session, data, now=now)
        return application, Principal(kind="applicant", id=application.id, role="applicant")

    return make


@pytest.fixture()
def booked(
    session: Session, now: datetime, apply: Callable[..., tuple[Any, Principal]],
    publish: Callable[..., list[Any]],
) -> Callable[..., tuple[Any, Principal]]:
    """An application with an appointment tomorrow, ready for review."""

    def make(**overrides: Any) -> tuple[Any, Principal]:
        application, applicant = apply(**overrides)
        slot = publish()[0]
        service.book(session, application.id, slot.id, caller=applicant, now=now)
        return application, applicant

    return make
