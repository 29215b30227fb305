"""Quarantine-free quotas: officers set the places, residents book, cancel or do not show,
and a full day is refused, never overbooked (the booking engine permits' slots use)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from borderpass.crossing import quota as quotas
from borderpass.crossing import service
from borderpass.crossing.models import Quota, QuotaBooking
from borderpass.crossing.schemas import BookingIn, QuotaIn
from borderpass.identity.schemas import Principal
from borderpass.kit import booking as places
from borderpass.kit.clock import hk_date
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput, NotFound

SUPERVISOR = Principal(kind="staff", id=uuid.uuid4(), role="supervisor")


@pytest.fixture()
def today(now: datetime) -> date:
    return hk_date(now)


@pytest.fixture()
def points(session: Session, now: datetime) -> list[str]:
    return service.ensure_control_points(session, now=now)


@pytest.fixture()
def places_at(session: Session, now: datetime, points: list[str],
              today: date) -> Callable[..., list[Quota]]:
    """Set the places of a control point (Lo Wu, today, for one day by default)."""

    def set_places(places: int, point: str = "LWU", day: date | None = None,
                   days: int = 1) -> list[Quota]:
        return service.set_quota(session, QuotaIn(control_point=point, day=day or today,
                                                  days=days, places=places),
                                 officer=SUPERVISOR, now=now)

    return set_places


@pytest.fixture()
def resident(register_person: Callable[..., Any]) -> Callable[[str], Principal]:
    def make(number: str) -> Principal:
        person = register_person(number)
        return Principal(kind="resident", id=person.id, role="resident")

    return make


def book(session: Session, caller: Principal, now: datetime, day: date,
         point: str = "LWU") -> QuotaBooking:
    return service.book(session, BookingIn(control_point=point, day=day), caller=caller,
                        now=now)


def test_the_packaged_control_points_are_opened_once(session: Session, now: datetime,
                                                      points: list[str]) -> None:
    assert points == ["LWU", "LMC", "SBC", "HZM", "AIR"]
    assert service.ensure_control_points(session, now=now) == []
    names = {p.code: (p.name_zh_hant, p.name_zh_hans, p.name_en)
             for p in service.list_control_points(session)}
    assert names["LMC"] == ("落馬洲支線", "落马洲支线", "Lok Ma Chau Spur Line")
    assert names["HZM"][2] == "Hong Kong–Zhuhai–Macao Bridge"
    with pytest.raises(Conflict) as twice:
        service.add_control_point(session, quotas.standard_control_points()[0], now=now)
    assert twice.value.field == "code"


def test_places_are_set_for_a_run_of_days(session: Session, today: date,
                                          places_at: Callable[..., list[Quota]]) -> None:
    set_ = places_at(3, days=7)
    assert [row.day for row in set_] == [today + timedelta(days=n) for n in range(7)]
    shown = service.quotas(session, "LWU", today, 7)
    assert [(row.capacity, row.booked, row.free) for row in shown] == [(3, 0, 3)] * 7
    places_at(5, day=today + timedelta(days=1))
    assert [row.capacity for row in service.quotas(session, "LWU", today, 3)] == [3, 5, 3]
    assert service.quotas(session, "SBC", today, 7) == []


def test_setting_places_is_checked(session: Session, now: datetime, today: date,
                                   places_at: Callable[..., list[Quota]],
                                   resident: Callable[[str], Principal]) -> None:
    with pytest.raises(InvalidInput) as past:
        places_at(3, day=today - timedelta(days=1))
    assert past.value.field == "day"
    with pytest.raises(NotFound) as unknown:
        places_at(3, point="XYZ")
    assert unknown.value.code == "control_point_not_found"
    with pytest.raises(Forbidden):
        service.set_quota(session, QuotaIn(control_point="LWU", day=today, places=3),
                          officer=Principal(kind="staff", id=uuid.uuid4(), role="help_desk"),
                          now=now)
    places_at(2)
    book(session, resident("A123456(3)"), now, today)
    book(session, resident("Z437626(A)"), now, today)
    with pytest.raises(Conflict) as below:
        places_at(1)
    assert below.value.field == "places"


def test_a_resident_books_and_a_full_day_is_refused(
    session: Session, now: datetime, today: date, places_at: Callable[..., list[Quota]],
    resident: Callable[[str], Principal]
) -> None:
    quota = places_at(1)[0]
    first, second = resident("A123456(3)"), resident("Z437626(A)")
    booked = book(session, first, now, today)
    assert booked.status == "booked" and booked.reference.startswith("QF")
    assert quota.booked == 1
    with pytest.raises(service.QuotaFull) as full:
        book(session, second, now, today)
    assert full.value.field == "day"
    assert session.get(Quota, quota.id).booked == 1  # type: ignore[union-attr]
    view = service.my_bookings(session, first, now=now)
    assert [(b.reference, b.control_point, b.day, b.status) for b in view] == [
        (booked.reference, "LWU", today, "booked")]
    assert service.my_bookings(session, second, now=now) == []


def test_one_place_a_day_for_each_resident(
    session: Session, now: datetime, today: date, places_at: Callable[..., list[Quota]],
    resident: Callable[[str], Principal]
) -> None:
    places_at(5, days=2)
    places_at(5, point="SBC")
    chan = resident("A123456(3)")
    first = book(session, chan, now, today)
    with pytest.raises(service.AlreadyBooked) as again:
        book(session, chan, now, today, point="SBC")
    assert first.reference in again.value.render("en")
    assert book(session, chan, now, today + timedelta(days=1)).status == "booked"


def test_booking_is_checked(
    session: Session, now: datetime, today: date, places_at: Callable[..., list[Quota]],
    resident: Callable[[str], Principal]
) -> None:
    chan = resident("A123456(3)")
    with pytest.raises(service.NoQuota):
        book(session, chan, now, today)
    places_at(5)
    with pytest.raises(InvalidInput) as past:
        book(session, chan, now, today - timedelta(days=1))
    assert past.value.field == "day"
    with pytest.raises(InvalidInput) as far:
        book(session, chan, now, today + timedelta(days=service.BOOKING_DAYS + 1))
    assert far.value.field == "day"
    with pytest.raises(Forbidden):
        book(session, SUPERVISOR, now, today)


def test_cancelling_frees_the_place_at_once(
    session: Session, now: datetime, today: date, places_at: Callable[..., list[Quota]],
    resident: Callable[[str], Principal]
) -> None:
    quota = places_at(1)[0]
    chan, lee = resident("A123456(3)"), resident("Z437626(A)")
    booked = book(session, chan, now, today)
    with pytest.raises(service.BookingNotFound):
        service.cancel(session, booked.id, caller=lee, now=now)
    cancelled = service.cancel(session, booked.id, caller=chan, now=now)
    assert (cancelled.status, cancelled.holder_day, cancelled.ended_at) == ("cancelled", None, now)
    assert session.get(Quota, quota.id).booked == 0  # type: ignore[union-attr]
    with pytest.raises(service.BookingClosed):
        service.cancel(session, booked.id, caller=chan, now=now)
    assert book(session, lee, now, today).status == "booked"


def test_a_no_show_frees_the_place_when_the_day_is_over(
    session: Session, now: datetime, today: date, places_at: Callable[..., list[Quota]],
    resident: Callable[[str], Principal]
) -> None:
    quota, tomorrow_quota = places_at(2, days=2)
    chan, lee = resident("A123456(3)"), resident("Z437626(A)")
    missed = book(session, chan, now, today)
    used = book(session, lee, now, today)
    quotas.use_booking(session, used, now=now)
    ahead = book(session, chan, now, today + timedelta(days=1))
    assert service.close_past_days(session, now=now) == 0  # today is not over
    next_day = now + timedelta(days=1)
    assert service.close_past_days(session, now=next_day) == 1
    assert (missed.status, missed.holder_day, missed.ended_at) == ("no_show", None, next_day)
    assert used.status == "used" and ahead.status == "booked"
    assert session.get(Quota, quota.id).booked == 1  # type: ignore[union-attr]
    assert session.get(Quota, tomorrow_quota.id).booked == 1  # type: ignore[union-attr]
    with pytest.raises(service.BookingClosed):
        service.cancel(session, missed.id, caller=chan, now=next_day)


def test_the_engine_never_takes_more_than_the_capacity(
    session: Session, today: date, places_at: Callable[..., list[Quota]]
) -> None:
    quota = places_at(2)[0]
    assert places.take(session, Quota, quota.id) and places.take(session, Quota, quota.id)
    assert not places.take(session, Quota, quota.id)
    assert (quota.booked, places.free(quota)) == (2, 0)
    assert places.release(session, Quota, quota.id)
    assert places.release(session, Quota, quota.id)
    assert not places.release(session, Quota, quota.id)
    assert not places.take(session, Quota, uuid.uuid4())
