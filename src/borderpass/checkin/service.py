"""Venues, their QR codes and posters, cases, the exposure list, and consented uploads.

The server never receives a check-in unless the resident uploads it. It publishes
where cases were as per-hour tokens that only holders of a venue's secret recognise,
and keeps uploaded visits only for the Health Code rules, for 31 days.
"""

from __future__ import annotations

import json
import secrets as random
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from borderpass.checkin import exposure, repository
from borderpass.checkin import jobs as _declared  # noqa: F401 - the jobs sent below
from borderpass.checkin.models import Case, Upload, UploadedVisit, Venue, VenueSecret
from borderpass.checkin.poster import render_poster
from borderpass.checkin.qr import (
    ParsedVenue,
    encode_signed,
    normalise_plate,
    parse_venue_code,
)
from borderpass.checkin.schemas import (
    CaseIn,
    CaseView,
    ExposureFact,
    OrderFact,
    UploadBundle,
    UploadFacts,
    UploadReceipt,
    VenueIn,
)
from borderpass.evidence import service as evidence
from borderpass.evidence.events import TestingOrderRecorded
from borderpass.evidence.schemas import CheckinExposure, CheckinOrderVisit, VenueChoice
from borderpass.identity.schemas import Principal
from borderpass.kit import jobs
from borderpass.kit.config import get_settings
from borderpass.kit.decoding import DecodeError, b64url_decode
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import (
    SigningError,
    derived_secret,
    open_sealed,
    seal,
    venue_signer,
    verify_detached,
)

__all__ = [
    "approve_venue",
    "bundle_message",
    "exposure_list",
    "exposure_list_age",
    "FACTS_WINDOW",
    "generate_exposure_list",
    "publish_exposure_list",
    "KEEP_UPLOADS",
    "on_testing_order",
    "parse_code",
    "POSTER_GRACE",
    "purge_uploads",
    "push_facts",
    "receive_upload",
    "record_case",
    "register_venue",
    "rotate_venue_secret",
    "search_venues",
    "simplified",
    "upload_facts",
    "venue_poster",
    "venue_qr",
    "recent_cases",
    "recent_coverage",
    "venue_trust",
    "venues_by_code",
    "withdraw_upload",
]

log = get_logger(__name__)

KEEP_UPLOADS = timedelta(days=31)
FACTS_WINDOW = timedelta(days=21)
# An old poster may hang for a day after a new one is printed: its secret stays listed.
POSTER_GRACE = timedelta(days=1)
_LIST_WINDOW = exposure.MATCH_WINDOW + exposure.INDIRECT_WINDOW
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_FRESH_UPLOAD = timedelta(days=1)
_CLOCK_SKEW = timedelta(minutes=5)


class VenueNotFound(NotFound):
    code = "venue_not_found"
    message = _("There is no such venue.")


class VenueNotApproved(Conflict):
    code = "venue_not_approved"
    message = _("The venue is not approved yet: a health officer must approve it first.")


class InvalidUpload(InvalidInput):
    code = "invalid_upload"
    message = _("The upload was not accepted: {reason}.")


class ConsentMissing(InvalidInput):
    code = "consent_missing"
    message = _("Records are uploaded only with the resident's explicit consent.")


# -- keys ---------------------------------------------------------------------------


def venue_trust() -> dict[str, bytes]:
    """Return the platform's venue-signing public keys by key id (what phones trust)."""
    signer = venue_signer()
    return {signer.key_id: signer.public}


def _open_secret(secret: VenueSecret) -> bytes:
    return open_sealed(secret.secret_sealed, context="venue.secret")


def parse_code(text: str) -> ParsedVenue:
    """Read a venue QR code of either format, trusting the platform's own key."""
    return parse_venue_code(text, venue_trust())


# -- venues -------------------------------------------------------------------------


def _new_code(session: Session) -> str:
    while True:
        code = "".join(random.choice(_CODE_ALPHABET) for _ in range(10))
        if repository.find_venue(session, code) is None:
            return code


@lru_cache(maxsize=1)
def _to_simplified() -> Any:
    from opencc import OpenCC  # loads its dictionaries once, when first needed

    return OpenCC("hk2s")


def simplified(text: str) -> str:
    """Return Traditional Chinese (as written in Hong Kong) in Simplified characters."""
    return str(_to_simplified().convert(text))


def register_venue(
    session: Session, data: VenueIn, *, operator: uuid.UUID, now: datetime
) -> Venue:
    """Register a venue for a health officer to approve."""
    venue = Venue(code=_new_code(session), name_zh=data.name_zh,
                  name_zh_hans=data.name_zh_hans or simplified(data.name_zh),
                  name_en=data.name_en,
                  type=data.type, address=data.address, operator_id=operator, status="pending",
                  created_at=now)
    repository.add(session, venue)
    log.info("venue.registered", venue=venue.code)
    return venue


def _choice(venue: Venue) -> VenueChoice:
    return VenueChoice(venue_id=venue.code, name_en=venue.name_en, name_zh=venue.name_zh,
                       address=venue.address)


def search_venues(session: Session, text: str, limit: int) -> list[VenueChoice]:
    """Find approved venues by venue id or by part of a name, for a testing order."""
    return [_choice(venue) for venue in repository.search_venues(session, text.strip(), limit)]


def venues_by_code(session: Session, codes: Sequence[str]) -> dict[str, VenueChoice]:
    """Return the venues of the given ids (any case), keyed by the id as given."""
    wanted = {code: code.strip().upper() for code in codes}
    found = {venue.code: venue for venue in repository.venues_by_codes(
        session, sorted(set(wanted.values())))}
    return {given: _choice(found[code]) for given, code in wanted.items() if code in found}


def _venue(session: Session, code: str, *, for_update: bool = False) -> Venue:
    venue = repository.find_venue(session, code.strip().upper(), for_update=for_update)
    if venue is None:
        raise VenueNotFound(field="code")
    return venue


def _may_manage(venue: Venue, caller: Principal) -> None:
    if caller.role == "health_officer":
        return
    if caller.role == "venue_operator" and caller.id == venue.operator_id:
        return
    raise Forbidden()


def _add_secret(session: Session, venue: Venue, generation: int, now: datetime) -> None:
    sealed = seal(random.token_bytes(16), context="venue.secret")  # a venue's secret
    repository.add(session, VenueSecret(venue_id=venue.id, generation=generation,
                                        secret_sealed=sealed, created_at=now))


def approve_venue(session: Session, code: str, *, officer: uuid.UUID, now: datetime) -> Venue:
    """Approve a venue; it gets its first secret and so its QR code."""
    venue = _venue(session, code, for_update=True)
    if venue.status == "approved":
        return venue
    venue.status, venue.approved_by, venue.approved_at = "approved", officer, now
    _add_secret(session, venue, 1, now)
    log.info("venue.approved", venue=venue.code, officer=str(officer))
    return venue


def rotate_venue_secret(
    session: Session, code: str, *, caller: Principal, now: datetime
) -> Venue:
    """Give a venue a new secret (print a new poster); visits under the old one still match."""
    venue = _venue(session, code, for_update=True)
    _may_manage(venue, caller)
    if venue.status != "approved":
        raise VenueNotApproved(field="code")
    history = repository.secrets_of(session, venue.id)
    for secret in history:
        if secret.retired_at is None:
            secret.retired_at = now
    _add_secret(session, venue, history[-1].generation + 1 if history else 1, now)
    log.info("venue.rotated", venue=venue.code)
    return venue


def _current(session: Session, venue: Venue) -> tuple[VenueSecret, bytes]:
    if venue.status != "approved":
        raise VenueNotApproved(field="code")
    current = repository.secrets_of(session, venue.id)[-1]
    return current, _open_secret(current)


def venue_qr(session: Session, code: str, *, caller: Principal) -> str:
    """Return the text of a venue's current signed QR code."""
    venue = _venue(session, code)
    _may_manage(venue, caller)
    current, secret = _current(session, venue)
    return encode_signed(venue_id=venue.code, name_zh=venue.name_zh,
                         name_zh_hans=venue.name_zh_hans, name_en=venue.name_en,
                         type=venue.type, secret=secret, generation=current.generation,
                         signer=venue_signer())


def venue_poster(session: Session, code: str, *, caller: Principal) -> bytes:
    """Return the printable A4 PDF poster of a venue's current QR code."""
    text = venue_qr(session, code, caller=caller)
    venue = _venue(session, code)
    current, _secret = _current(session, venue)
    return render_poster(qr_text=text, name_zh=venue.name_zh, name_zh_hans=venue.name_zh_hans,
                         name_en=venue.name_en, venue_code=venue.code, address=venue.address,
                         generation=current.generation)


# -- cases and the exposure list -----------------------------------------------------


def record_case(session: Session, data: CaseIn, *, officer: uuid.UUID, now: datetime) -> Case:
    """Record where and when a case was; the exposure list carries it within a minute."""
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise InvalidInput(_("Give times with their offset, e.g. +08:00."), field="starts_at")
    if data.ends_at <= data.starts_at:
        raise InvalidInput(_("ends_at must be after starts_at."), field="ends_at")
    if data.starts_at > now:
        raise InvalidInput(_("A case cannot start in the future."), field="starts_at")
    if data.ends_at - data.starts_at > timedelta(days=2):
        raise InvalidInput(_("A case period at one place is at most 2 days."), field="ends_at")
    if data.plate is not None:
        kind, place = "taxi", normalise_plate(data.plate)
    else:
        place = (data.venue_id or "").strip()
        venue = repository.find_venue(session, place.upper())
        if venue is not None:
            if venue.status != "approved":
                raise VenueNotApproved(field="venue_id")
            kind, place = "venue", venue.code
        elif len(place) == 8 and place.isalnum():
            kind = "legacy"
        else:
            raise VenueNotFound(field="venue_id")
    case = Case(place_kind=kind, place_id=place, starts_at=data.starts_at, ends_at=data.ends_at,
                recorded_by=officer, recorded_at=now)
    repository.add(session, case)
    log.info("case.recorded", case=str(case.id), place_kind=kind)
    # Published again as soon as the case is committed, not only at the list's maximum age.
    jobs.enqueue(session, "checkin.publish_exposure_list")
    # Only those who uploaded a visit there can be touched; no one else is known here.
    for person_id in repository.uploaders_at(session, [place], now - FACTS_WINDOW):
        push_facts(session, person_id, now=now)
    return case


def recent_cases(session: Session, *, now: datetime, locale: str = "en") -> list[CaseView]:
    """List the cases the exposure list carries now (the last 15 days), newest first."""
    cases = repository.cases_since(session, now - _LIST_WINDOW)
    names = {}
    for code in {c.place_id for c in cases if c.place_kind == "venue"}:
        venue = repository.find_venue(session, code)
        if venue is not None:
            names[code] = venue.name_en if locale == "en" else (
                venue.name_zh_hans if locale == "zh_Hans" else venue.name_zh)
    return [CaseView(id=c.id, place_kind=c.place_kind, place_id=c.place_id,
                     starts_at=c.starts_at, ends_at=c.ends_at, place_name=names.get(c.place_id))
            for c in sorted(cases, key=lambda c: c.starts_at, reverse=True)]


def _secrets_for(
    case: Case, venues: dict[str, Venue], history: dict[uuid.UUID, list[VenueSecret]]
) -> list[bytes]:
    if case.place_kind == "legacy":
        return [derived_secret("HKEN", case.place_id)]
    if case.place_kind == "taxi":
        return [derived_secret("TAXI", case.place_id)]
    venue = venues.get(case.place_id)
    if venue is None:
        return []
    return [
        _open_secret(secret) for secret in history.get(venue.id, [])
        if secret.created_at < case.ends_at
        and (secret.retired_at is None or secret.retired_at + POSTER_GRACE > case.starts_at)
    ]


def generate_exposure_list(session: Session, *, now: datetime) -> tuple[str, int]:
    """Build the signed exposure list of the cases of the last 15 days; return it and its size."""
    cases = repository.cases_since(session, now - _LIST_WINDOW)
    venues: dict[str, Venue] = {}
    for code in {c.place_id for c in cases if c.place_kind == "venue"}:
        found = repository.find_venue(session, code)
        if found is not None:
            venues[code] = found
    history = repository.secrets_of_venues(session, [v.id for v in venues.values()])
    entries: list[exposure.Entry] = []
    for case in cases:
        entries.extend(exposure.entries_for_case(
            _secrets_for(case, venues, history), case.starts_at, case.ends_at,
            taxi=case.place_kind == "taxi"))
    text = exposure.render_list(entries, now, venue_signer())
    return text, len(set(entries))


def exposure_list(session: Session, *, now: datetime,
                  writer: Callable[[], AbstractContextManager[Session]] | None = None) -> str:
    """Return the published exposure list, regenerated when older than its maximum age.

    The maximum age (``exposure_list_max_age_seconds``, 60 by default) bounds how long
    a recorded case waits before it is published. ``session`` only reads; a new list is
    saved through a unit of work opened by ``writer`` (``session`` itself when none).
    """
    max_age = timedelta(seconds=get_settings().exposure_list_max_age_seconds)
    cached = repository.get_list(session)
    if cached is not None and timedelta(0) <= now - cached.generated_at < max_age:
        return cached.content
    text, count = generate_exposure_list(session, now=now)
    with writer() if writer is not None else nullcontext(session) as writing:
        repository.save_list(writing, now, count, text)
    log.info("exposure_list.generated", entries=count)
    return text


def publish_exposure_list(session: Session, *, now: datetime) -> str:
    """Generate the exposure list now and save it as the one served; return it."""
    text, count = generate_exposure_list(session, now=now)
    repository.save_list(session, now, count, text)
    log.info("exposure_list.generated", entries=count)
    return text


def exposure_list_age(session: Session, *, now: datetime) -> float | None:
    """Return the age in seconds of the exposure list as published (None before the first)."""
    cached = repository.get_list(session)
    return None if cached is None else max(0.0, (now - cached.generated_at).total_seconds())


# -- uploads -----------------------------------------------------------------------


def bundle_message(bundle: dict[str, Any]) -> bytes:
    """Return the bytes an upload's signature covers: canonical JSON without ``signature``."""
    unsigned = {key: value for key, value in bundle.items() if key != "signature"}
    return json.dumps(unsigned, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def _check_bundle(raw: dict[str, Any], now: datetime) -> UploadBundle:
    try:
        bundle = UploadBundle.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "bundle"
        raise InvalidUpload(field=f"bundle.{field}", reason=f"{field}: {first['msg']}") from None
    # The key and the signature are not covered by the signature: each has one spelling,
    # unpadded base64url, so that one upload has one text.
    try:
        device_key = b64url_decode(bundle.device_key, size=32)
    except DecodeError as error:
        raise InvalidUpload(field="bundle.device_key",
                            reason=f"device_key: {error.reason}") from None
    try:
        signature = b64url_decode(bundle.signature, size=64)
    except DecodeError as error:
        raise InvalidUpload(field="bundle.signature",
                            reason=f"signature: {error.reason}") from None
    try:
        verify_detached(device_key, bundle_message(raw), signature)
    except SigningError:
        raise InvalidUpload(field="bundle.signature",
                            reason="the phone's signature does not verify") from None
    if abs(bundle.created_at - now) > _CLOCK_SKEW:
        raise InvalidUpload(field="bundle.created_at", reason="it was not made just now")
    for number, record in enumerate(bundle.records):
        if record.end <= record.start or record.end > now + _CLOCK_SKEW:
            raise InvalidUpload(field=f"bundle.records.{number}.end",
                                reason="a record ends before it starts or in the future")
    return bundle


def receive_upload(
    session: Session, person_id: uuid.UUID, raw: dict[str, Any], *, consent: bool,
    now: datetime,
) -> UploadReceipt:
    """Keep a resident's signed upload of their last 31 days; it replaces an earlier one."""
    if not consent:
        raise ConsentMissing(field="consent")
    bundle = _check_bundle(raw, now)
    oldest = now - KEEP_UPLOADS
    kept = [r for r in bundle.records if r.end >= oldest]
    repository.delete_uploads_of(session, person_id)
    upload = Upload(person_id=person_id, device_key=bundle.device_key, uploaded_at=now,
                    in_use_since=min(bundle.in_use_since, now), records=len(kept))
    repository.add(session, upload)
    repository.add(session, *(
        UploadedVisit(upload_id=upload.id, person_id=person_id, place_kind=r.kind,
                      place_id=r.place_id, starts_at=max(r.start, oldest), ends_at=r.end)
        for r in kept
    ))
    covered = _covered_days(upload)
    log.info("checkin.uploaded", person=str(person_id), records=len(kept))
    push_facts(session, person_id, now=now)
    return UploadReceipt(records=len(kept), covered_days=covered,
                         covers_last_14_days=covered >= 14)


def withdraw_upload(session: Session, person_id: uuid.UUID, *, now: datetime) -> None:
    """Delete everything a resident uploaded."""
    repository.delete_uploads_of(session, person_id)
    log.info("checkin.withdrawn", person=str(person_id))
    evidence.replace_checkin_facts(session, person_id, exposures=[], order_visits=[], now=now)


def purge_uploads(session: Session, *, now: datetime) -> int:
    """Delete uploaded visits that ended more than 31 days ago, and uploads that old."""
    visits, uploads = repository.purge_uploads(session, now - KEEP_UPLOADS)
    # What those visits told the rules goes with them.
    people = evidence.purge_checkin_facts(session, before=now - KEEP_UPLOADS, now=now)
    log.info("checkin.purged", visits=visits, uploads=uploads, people=people)
    return visits


def recent_coverage(
    session: Session, person_id: uuid.UUID, *, now: datetime, days: int = 14
) -> tuple[datetime, int] | None:
    """Return when the resident last uploaded and how many of the last ``days`` days their
    upload covers (whole days the app was in use, up to the upload); None without one."""
    upload = repository.latest_upload(session, person_id)
    if upload is None:
        return None
    start = max(upload.in_use_since, now - timedelta(days=days))
    covered = (min(upload.uploaded_at, now) - start) // timedelta(days=1)
    return upload.uploaded_at, max(0, min(days, covered))


def _covered_days(upload: Upload) -> int:
    return max(0, min(31, (upload.uploaded_at - upload.in_use_since) // timedelta(days=1)))


def _overlap(a_from: datetime, a_to: datetime, b_from: datetime, b_to: datetime) -> timedelta:
    return min(a_to, b_to) - max(a_from, b_from)


def _exposures(visits: Sequence[UploadedVisit], cases: Sequence[Case]) -> list[ExposureFact]:
    facts: list[ExposureFact] = []
    minimum = timedelta(seconds=exposure.DIRECT_MIN_OVERLAP)
    for visit in visits:
        for case in cases:
            if (case.place_kind, case.place_id) != (visit.place_kind, visit.place_id):
                continue
            kind = None
            if _overlap(visit.starts_at, visit.ends_at, case.starts_at, case.ends_at) >= minimum:
                kind = "direct"
            elif case.place_kind == "taxi" and _overlap(
                    visit.starts_at, visit.ends_at, case.ends_at,
                    case.ends_at + exposure.INDIRECT_WINDOW) > timedelta(0):
                kind = "indirect"
            if kind is not None:
                facts.append(ExposureFact(
                    kind=kind, place_kind=visit.place_kind, place_id=visit.place_id,
                    visit_from=visit.starts_at, visit_to=visit.ends_at,
                    case_from=case.starts_at, case_to=case.ends_at))
    return facts


def upload_facts(session: Session, person_id: uuid.UUID, *, now: datetime) -> UploadFacts:
    """Return what a person's uploaded check-ins tell the Health Code rules at ``now``.

    ``exposures``: uploaded visits of the last 21 days that overlap a recorded case by
    at least 60 seconds (direct), or ride a taxi within a day after a case there
    (indirect). ``orders``: uploaded visits of the last 21 days that overlap the period
    of a compulsory testing order naming that venue among its premises.
    ``covered_days``/``covers_last_14_days``: how much of the past the upload covers.
    """
    since = now - FACTS_WINDOW
    visits = repository.visits_of(session, person_id, since)
    places = sorted({(v.place_kind, v.place_id) for v in visits})
    cases = repository.cases_at(session, places, since - exposure.INDIRECT_WINDOW)
    venue_ids = {place_id for kind, place_id in places if kind != "taxi"}
    orders = evidence.orders_at_venues(session, venue_ids, since=since)
    order_facts = [
        OrderFact(order_id=order.order_id, reference=order.reference, place_id=visit.place_id,
                  visit_from=visit.starts_at, visit_to=visit.ends_at,
                  period_from=order.period_from, period_to=order.period_to,
                  test_by=order.test_by)
        for visit in visits for order in orders
        if order.venue_id == visit.place_id and visit.place_kind != "taxi"
        and _overlap(visit.starts_at, visit.ends_at, order.period_from, order.period_to)
        > timedelta(0)
    ]
    upload = repository.latest_upload(session, person_id)
    covered = _covered_days(upload) if upload is not None else 0
    fresh = upload is not None and now - upload.uploaded_at <= _FRESH_UPLOAD
    return UploadFacts(
        person_id=person_id, as_of=now,
        uploaded_at=upload.uploaded_at if upload else None,
        in_use_since=upload.in_use_since if upload else None,
        covered_days=covered, covers_last_14_days=fresh and covered >= 14,
        exposures=_exposures(visits, cases), orders=order_facts,
    )



def push_facts(session: Session, person_id: uuid.UUID, *, now: datetime) -> bool:
    """Derive what a resident's uploaded check-ins tell the rules and hand it to the evidence.

    Returns:
        whether it changed what the evidence held (and so re-evaluated the resident).
    """
    facts = upload_facts(session, person_id, now=now)
    return evidence.replace_checkin_facts(
        session, person_id,
        exposures=[CheckinExposure(place_id=e.place_id, visit_from=e.visit_from,
                                   visit_to=e.visit_to) for e in facts.exposures],
        order_visits=[CheckinOrderVisit(order_id=o.order_id, place_id=o.place_id,
                                        visit_from=o.visit_from, visit_to=o.visit_to)
                      for o in facts.orders],
        now=now,
    )


def on_testing_order(session: Session, event: TestingOrderRecorded) -> None:
    """Tell uploaders who visited a venue under a new testing order (their rules see it)."""
    now = event.now
    venue_ids = list(event.venue_ids)
    for person_id in repository.uploaders_at(session, venue_ids, now - FACTS_WINDOW,
                                             taxis=False):
        push_facts(session, person_id, now=now)
