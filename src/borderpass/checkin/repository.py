"""All SQL of the check-in domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from borderpass.checkin.models import (
    Case,
    ExposureListCache,
    Upload,
    UploadedVisit,
    Venue,
    VenueSecret,
)

__all__ = [
    "add",
    "cases_at",
    "cases_since",
    "delete_uploads_of",
    "find_venue",
    "get_list",
    "latest_upload",
    "purge_uploads",
    "search_venues",
    "secrets_of",
    "uploaders_at",
    "venues_by_codes",
    "visits_of",
]

_LIST_ROW = 1


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)
    session.flush()


def find_venue(session: Session, code: str, *, for_update: bool = False) -> Venue | None:
    query = select(Venue).where(Venue.code == code)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def search_venues(session: Session, text: str, limit: int) -> list[Venue]:
    """Approved venues whose id is ``text`` or whose names contain it, id matches first."""
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    named = or_(*(func.lower(column).like(pattern, escape="\\")
                  for column in (Venue.name_en, Venue.name_zh, Venue.name_zh_hans, Venue.code)))
    query = (select(Venue).where(Venue.status == "approved", named)
             .order_by((Venue.code == text.upper()).desc(), Venue.name_en, Venue.code)
             .limit(limit))
    return list(session.scalars(query))


def venues_by_codes(session: Session, codes: Sequence[str]) -> list[Venue]:
    if not codes:
        return []
    return list(session.scalars(select(Venue).where(Venue.code.in_(list(codes)))))


def venues_by_ids(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Venue]:
    if not ids:
        return {}
    return {v.id: v for v in session.scalars(select(Venue).where(Venue.id.in_(list(ids))))}


def secrets_of(session: Session, venue_id: uuid.UUID) -> list[VenueSecret]:
    return list(session.scalars(
        select(VenueSecret).where(VenueSecret.venue_id == venue_id)
        .order_by(VenueSecret.generation)
    ))


def secrets_of_venues(
    session: Session, venue_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[VenueSecret]]:
    found: dict[uuid.UUID, list[VenueSecret]] = {}
    if not venue_ids:
        return found
    for secret in session.scalars(
        select(VenueSecret).where(VenueSecret.venue_id.in_(list(venue_ids)))
        .order_by(VenueSecret.generation)
    ):
        found.setdefault(secret.venue_id, []).append(secret)
    return found


def cases_since(session: Session, since: datetime) -> list[Case]:
    """Return cases whose period ends at or after ``since``."""
    return list(session.scalars(
        select(Case).where(Case.ends_at >= since).order_by(Case.starts_at)
    ))


def cases_at(
    session: Session, places: Sequence[tuple[str, str]], since: datetime
) -> list[Case]:
    """Return cases at any of ``(place_kind, place_id)`` ending at or after ``since``."""
    ids = sorted({place_id for _kind, place_id in places})
    if not ids:
        return []
    wanted = set(places)
    rows = session.scalars(
        select(Case).where(Case.place_id.in_(ids), Case.ends_at >= since)
        .order_by(Case.starts_at)
    )
    return [case for case in rows if (case.place_kind, case.place_id) in wanted]


def get_list(session: Session) -> ExposureListCache | None:
    return session.get(ExposureListCache, _LIST_ROW)


def save_list(session: Session, generated_at: datetime, entries: int, content: str) -> None:
    row = session.get(ExposureListCache, _LIST_ROW, with_for_update=True)
    if row is None:
        session.add(ExposureListCache(id=_LIST_ROW, generated_at=generated_at, entries=entries,
                                      content=content))
    else:
        row.generated_at, row.entries, row.content = generated_at, entries, content
    session.flush()


def delete_uploads_of(session: Session, person_id: uuid.UUID) -> None:
    session.execute(delete(UploadedVisit).where(UploadedVisit.person_id == person_id))
    session.execute(delete(Upload).where(Upload.person_id == person_id))


def latest_upload(session: Session, person_id: uuid.UUID) -> Upload | None:
    return session.scalars(
        select(Upload).where(Upload.person_id == person_id)
        .order_by(Upload.uploaded_at.desc()).limit(1)
    ).one_or_none()


def visits_of(session: Session, person_id: uuid.UUID, since: datetime) -> list[UploadedVisit]:
    return list(session.scalars(
        select(UploadedVisit)
        .where(UploadedVisit.person_id == person_id, UploadedVisit.ends_at >= since)
        .order_by(UploadedVisit.starts_at)
    ))


def uploaders_at(
    session: Session, place_ids: Sequence[str], since: datetime, *, taxis: bool = True
) -> list[uuid.UUID]:
    """Return who uploaded a visit to one of these places ending at or after ``since``."""
    if not place_ids:
        return []
    query = select(UploadedVisit.person_id).where(
        UploadedVisit.place_id.in_(sorted(set(place_ids))), UploadedVisit.ends_at >= since)
    if not taxis:
        query = query.where(UploadedVisit.place_kind != "taxi")
    return sorted(set(session.scalars(query)))


def purge_uploads(session: Session, before: datetime) -> tuple[int, int]:
    """Delete visits that ended before ``before``, and uploads made before it."""
    visits = session.execute(delete(UploadedVisit).where(UploadedVisit.ends_at < before))
    old = select(Upload.id).where(Upload.uploaded_at < before).scalar_subquery()
    session.execute(delete(UploadedVisit).where(UploadedVisit.upload_id.in_(old)))
    uploads = session.execute(delete(Upload).where(Upload.uploaded_at < before))
    return (int(visits.rowcount or 0),  # type: ignore[attr-defined]
            int(uploads.rowcount or 0))  # type: ignore[attr-defined]
