"""Control points, their daily quarantine-free quotas, and residents' bookings.

Officers set how many quarantine-free places a control point has on a day; a resident
books one place, cancels it (the place is free for someone else at once) or uses it at
the crossing. A booking not used by the end of its day is closed as a no-show and its
place given back. Places are taken by the booking engine permits' slots use
(``kit.booking``): a full quota is refused, never overbooked, however many book at once.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import date, datetime, timedelta
from importlib import resources

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from borderpass.crossing import repository
from borderpass.crossing.models import ControlPoint, Quota, QuotaBooking
from borderpass.crossing.schemas import (
    BookingIn,
    BookingView,
    ControlPointIn,
    ControlPointView,
    QuotaIn,
    QuotaView,
)
from borderpass.identity import service as identity
from borderpass.identity.schemas import Principal
from borderpass.kit import booking as places
from borderpass.kit.clock import hk_date
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger

__all__ = [
    "BOOKING_DAYS",
    "QUOTA_ROLES",
    "AlreadyBooked",
    "BookingClosed",
    "BookingNotFound",
    "ControlPointNotFound",
    "NoQuota",
    "QuotaFull",
    "add_control_point",
    "book",
    "booking_for_crossing",
    "booking_view",
    "cancel",
    "close_past_days",
    "control_point",
    "control_point_name",
    "ensure_control_points",
    "list_control_points",
    "my_bookings",
    "quotas",
    "set_quota",
    "standard_control_points",
    "use_booking",
]

log = get_logger(__name__)

QUOTA_ROLES = ("supervisor", "admin")
BOOKING_DAYS = 30
"""How far ahead a resident may book (days after today)."""
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_NAMES = {"zh_Hant": "name_zh_hant", "zh_Hans": "name_zh_hans", "en": "name_en"}


class ControlPointNotFound(NotFound):
    code = "control_point_not_found"
    message = _("There is no control point {point}.")


class NoQuota(NotFound):
    code = "no_quota"
    message = _("No quarantine-free places are offered at {control_point} on {day}.")


class QuotaFull(Conflict):
    code = "quota_full"
    message = _("No quarantine-free place is left at {control_point} on {day}; choose another "
                "day or control point.")


class AlreadyBooked(Conflict):
    code = "already_booked"
    message = _("You already have a quarantine-free place booked on {day} ({reference}).")


class BookingNotFound(NotFound):
    code = "booking_not_found"
    message = _("There is no such booking.")


class BookingClosed(Conflict):
    code = "booking_closed"
    message = _("This booking is {status}; it can no longer be cancelled.")


_CLOSED = {"cancelled": _("cancelled"), "used": _("used at the crossing"),
           "no_show": _("not used (the day is over)"), "past": _("for a day that is over")}


# --- control points -----------------------------------------------------------------

def standard_control_points() -> list[ControlPointIn]:
    """Return the control points between Hong Kong and the mainland and Macau, as packaged."""
    raw = resources.files("borderpass.crossing").joinpath("data", "control_points.json")
    return [ControlPointIn.model_validate(item) for item in json.loads(raw.read_bytes())]


def add_control_point(session: Session, data: ControlPointIn, *, now: datetime) -> ControlPoint:
    """Open a control point."""
    if repository.find_control_point(session, data.code) is not None:
        raise Conflict(_("There is already a control point {point}."), field="code",
                       point=data.code)
    point = ControlPoint(code=data.code, name_zh_hant=data.name_zh_hant,
                         name_zh_hans=data.name_zh_hans, name_en=data.name_en, created_at=now)
    repository.add(session, point)
    log.info("crossing.control_point_added", code=data.code)
    return point


def ensure_control_points(session: Session, *, now: datetime) -> list[str]:
    """Open the packaged control points that are not open yet; return their codes."""
    added = []
    for data in standard_control_points():
        if repository.find_control_point(session, data.code) is None:
            add_control_point(session, data, now=now)
            added.append(data.code)
    return added


def list_control_points(session: Session) -> list[ControlPointView]:
    """List the control points, by code."""
    return [ControlPointView.model_validate(point, from_attributes=True)
            for point in repository.all_control_points(session)]


def control_point(session: Session, code: str) -> ControlPoint:
    """Return a control point by its code (``LWU``, ``SBC``, ...)."""
    point = repository.find_control_point(session, code.strip().upper()[:8])
    if point is None:
        raise ControlPointNotFound(field="control_point", point=code.strip()[:8])
    return point


def control_point_name(point: ControlPoint | ControlPointView, locale: str) -> str:
    """Return a control point's name in ``locale``."""
    return str(getattr(point, _NAMES.get(locale, "name_en")))


# --- quotas ---------------------------------------------------------------------------

def set_quota(session: Session, data: QuotaIn, *, officer: Principal | None,
              now: datetime) -> list[Quota]:
    """Set the quarantine-free places of a control point on a run of days.

    ``officer`` is None at the command line (the operator). Places already booked stay
    booked: the number cannot go below them.
    """
    if officer is not None:
        identity.require_role(officer, *QUOTA_ROLES)
    point = control_point(session, data.control_point)
    if data.day < hk_date(now):
        raise InvalidInput(_("Places cannot be set for a past day."), field="day")
    changed = []
    for offset in range(data.days):
        day = data.day + timedelta(days=offset)
        quota = repository.quota_on(session, point.id, day)
        if quota is None:
            quota = Quota(control_point_id=point.id, day=day, capacity=data.places, booked=0,
                          published_by=officer.id if officer else None, published_at=now)
            repository.add(session, quota)
        else:
            if data.places < quota.booked:
                raise Conflict(_("{booked} places are already booked on {day}; the quota "
                                 "cannot go below that."), field="places",
                               booked=quota.booked, day=day.isoformat())
            quota.capacity = data.places
            quota.published_by = officer.id if officer else None
            quota.published_at = now
            session.flush()
        changed.append(quota)
    log.info("crossing.quota_set", control_point=point.code, day=data.day.isoformat(),
             days=data.days, places=data.places)
    return changed


def quotas(session: Session, code: str | None, first: date, days: int) -> list[QuotaView]:
    """List the quotas of one control point (or all) on ``days`` days from ``first``."""
    points = [control_point(session, code)] if code else repository.all_control_points(session)
    codes = {point.id: point.code for point in points}
    rows = repository.quotas_between(session, list(codes), first,
                                     first + timedelta(days=max(days, 1) - 1))
    return sorted((QuotaView(control_point=codes[row.control_point_id], day=row.day,
                             capacity=row.capacity, booked=row.booked, free=places.free(row))
                   for row in rows), key=lambda view: (view.day, view.control_point))


# --- bookings -------------------------------------------------------------------------

def _reference() -> str:
    return "QF" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def _holder_day(person_id: uuid.UUID, day: date) -> str:
    return f"{person_id}:{day.isoformat()}"


def booking_view(session: Session, booking: QuotaBooking) -> BookingView:
    """Shape a booking with its control point and day."""
    quota = repository.get_quota(session, booking.quota_id)
    assert quota is not None  # noqa: S101 - the foreign key keeps them together
    point = repository.get_control_point(session, quota.control_point_id)
    assert point is not None  # noqa: S101 - the foreign key keeps them together
    return BookingView(id=booking.id, reference=booking.reference, control_point=point.code,
                       day=quota.day, status=booking.status,
                       booked_at=booking.booked_at, ended_at=booking.ended_at)


def book(session: Session, data: BookingIn, *, caller: Principal, now: datetime) -> QuotaBooking:
    """Book a quarantine-free place at a control point on a day, for the signed-in resident.

    Raises:
        NoQuota: no places are offered there that day.
        QuotaFull: every place is taken (never overbooked, whatever the concurrency).
        AlreadyBooked: the resident already holds a place that day.
    """
    if caller.kind != "resident":
        raise Forbidden(_("Only a registered resident books a quarantine-free place."))
    today = hk_date(now)
    if data.day < today:
        raise InvalidInput(_("Book for today or a later day."), field="day")
    if data.day > today + timedelta(days=BOOKING_DAYS):
        raise InvalidInput(_("Places can be booked at most {days} days ahead."), field="day",
                           days=BOOKING_DAYS)
    point = control_point(session, data.control_point)
    quota = repository.quota_on(session, point.id, data.day)
    if quota is None:
        raise NoQuota(field="day", control_point=point.code, day=data.day.isoformat())
    holder_day = _holder_day(caller.id, data.day)
    held = repository.active_booking(session, holder_day)
    if held is not None:
        raise AlreadyBooked(field="day", day=data.day.isoformat(), reference=held.reference)
    booking = QuotaBooking(reference=_reference(), quota_id=quota.id, person_id=caller.id,
                           holder_day=holder_day, status="booked", booked_at=now)
    try:
        # The booking and its place go together or not at all, whatever the caller does
        # with the refusal. A second booking of the same resident for the same day, racing
        # this one, meets the unique holder_day here.
        with session.begin_nested():
            repository.add(session, booking)
            if not repository.take_place(session, quota.id):
                raise QuotaFull(field="day", control_point=point.code,
                                day=data.day.isoformat())
    except IntegrityError:
        raise AlreadyBooked(field="day", day=data.day.isoformat(), reference="-") from None
    log.info("crossing.booked", control_point=point.code, day=data.day.isoformat(),
             booking=str(booking.id))
    return booking


def cancel(session: Session, booking_id: uuid.UUID, *, caller: Principal,
           now: datetime) -> QuotaBooking:
    """Cancel a booking; its place is free for someone else at once."""
    booking = repository.get_booking(session, booking_id, for_update=True)
    if booking is None or (caller.kind == "resident" and booking.person_id != caller.id):
        raise BookingNotFound(field="booking_id")
    if caller.kind != "resident":
        identity.require_role(caller, *QUOTA_ROLES)
    quota = repository.get_quota(session, booking.quota_id)
    assert quota is not None  # noqa: S101 - the foreign key keeps them together
    if booking.status != "booked" or quota.day < hk_date(now):
        raise BookingClosed(status=_CLOSED[booking.status if booking.status != "booked"
                                           else "past"])
    booking.status = "cancelled"
    booking.holder_day = None
    booking.ended_at = now
    session.flush()
    repository.release_place(session, booking.quota_id)
    log.info("crossing.cancelled", booking=str(booking.id))
    return booking


def my_bookings(session: Session, caller: Principal, *, now: datetime) -> list[BookingView]:
    """List the resident's bookings from a week ago on."""
    since = hk_date(now) - timedelta(days=7)
    return [BookingView(id=booking.id, reference=booking.reference, control_point=point.code,
                        day=quota.day, status=booking.status,
                        booked_at=booking.booked_at, ended_at=booking.ended_at)
            for booking, quota, point in repository.bookings_of(session, caller.id, since)]


def booking_for_crossing(session: Session, person_id: uuid.UUID, point: ControlPoint,
                         day: date) -> QuotaBooking | None:
    """Return the person's place booked at this control point on this day, if it holds."""
    booking = repository.active_booking(session, _holder_day(person_id, day))
    if booking is None or booking.status != "booked":
        return None
    quota = repository.get_quota(session, booking.quota_id)
    if quota is None or quota.control_point_id != point.id:
        return None
    return booking


def use_booking(session: Session, booking: QuotaBooking, *, now: datetime) -> None:
    """Mark a booking used by a quarantine-free crossing (its place stays taken)."""
    booking.status = "used"
    booking.ended_at = now
    session.flush()


def close_past_days(session: Session, *, now: datetime, batch: int = 1_000) -> int:
    """Close the bookings of days that are over and were not used: no-shows, whose places
    are given back. Return how many were closed."""
    closed = 0
    today = hk_date(now)
    while rows := repository.open_bookings_before(session, today, batch):
        for booking in rows:
            booking.status = "no_show"
            booking.holder_day = None
            booking.ended_at = now
            session.flush()
            repository.release_place(session, booking.quota_id)
        closed += len(rows)
        if len(rows) < batch:
            break
    if closed:
        log.info("crossing.no_shows_closed", bookings=closed)
    return closed
