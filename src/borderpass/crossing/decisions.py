"""The decision at the border: the traveller's facts gathered from the lower domains, the
crossing policy applied, the quarantine place assigned, and the decision recorded.

What the officer reads (the control point, the direction, the travel document, the
health code's text and an endorsement's number) goes in; one outcome comes out,
``quarantine_free``, ``quarantine`` or ``refused``, with every reason that led to it in
the officer's language. The record keeps the traveller only as the blind index of their
document.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from borderpass.checkin import service as checkin
from borderpass.crossing import policy as policies
from borderpass.crossing import quota, repository
from borderpass.crossing.foreign import foreign_facts, is_foreign
from borderpass.crossing.models import ControlPoint, CrossingDecision, QuotaBooking
from borderpass.crossing.schemas import (
    CodeView,
    DecisionIn,
    DecisionRecordView,
    DecisionView,
    EndorsementView,
    QuarantineView,
    ReasonView,
    RuleCheckView,
)
from borderpass.evidence import service as evidence
from borderpass.healthcode import service as healthcode
from borderpass.healthcode.verifier import Verdict
from borderpass.identity import service as identity
from borderpass.identity.documents import mask, normalise_field
from borderpass.identity.registries import registered_holder
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import HONG_KONG, hk_date
from borderpass.kit.config import get_settings
from borderpass.kit.errors import NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import document_index
from borderpass.permits import service as permits
from borderpass.permits.service import EndorsementRecord

__all__ = [
    "CHANNELS",
    "CHECKIN_DAYS",
    "DECIDER_ROLES",
    "RESIDENCE",
    "Decision",
    "DecisionNotFound",
    "Quarantine",
    "Verifier",
    "checkin_days",
    "decide",
    "decision_view",
    "decisions_today",
    "gather_facts",
    "get_decision",
    "record_view",
]

log = get_logger(__name__)

DECIDER_ROLES = ("border_officer", "supervisor")
CHANNELS = ("cli", "api", "page")
CHECKIN_DAYS = 14
RESIDENCE = {"hkid": "HK", "hrp": "HK", "macau": "MO", "mainland": "CN"}
"""Where the holder of each kind of document lives."""

Verifier = Callable[[Session, str, datetime], Verdict]
"""Checks a code's text at an instant (the health code's verifier by default)."""


class DecisionNotFound(NotFound):
    code = "decision_not_found"
    message = _("There is no such decision.")


@dataclass(frozen=True)
class Quarantine:
    place: policies.QuarantinePlace
    days: int
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Decision:
    """A decision taken and recorded, with what it was taken on."""

    record: CrossingDecision
    point: ControlPoint
    judgement: policies.Judgement
    verdict: Verdict
    endorsement: EndorsementRecord | None
    entries_left: int | None
    booking: QuotaBooking | None
    quarantine: Quarantine | None

    @property
    def outcome(self) -> str:
        return self.judgement.outcome

    @property
    def may_cross(self) -> bool:
        return self.judgement.outcome != "refused"


def _verify(session: Session, text: str, at: datetime) -> Verdict:
    return healthcode.verify_code(session, text, now=at)


def checkin_days(in_use_since: datetime | None, uploaded_at: datetime | None,
                 at: datetime) -> int:
    """Count the last 14 Hong Kong days before ``at``'s day that uploaded records cover.

    The records cover the time from when the app came into use to the upload; a day
    counts when they cover some of it.
    """
    if in_use_since is None or uploaded_at is None:
        return 0
    today = hk_date(at)
    covered = 0
    for back in range(1, CHECKIN_DAYS + 1):
        day = today - timedelta(days=back)
        start = datetime.combine(day, time(0), tzinfo=HONG_KONG)
        if start < uploaded_at and start + timedelta(days=1) > in_use_since:
            covered += 1
    return covered


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=HONG_KONG)


def gather_facts(
    session: Session, data: DecisionIn, point: ControlPoint, verdict: Verdict, *,
    at: datetime,
) -> tuple[policies.CrossingFacts, EndorsementRecord | None, int | None, QuotaBooking | None]:
    """Gather what the policy may know of the traveller, from the lower domains' services.

    Returns:
        the facts, the endorsement presented (if on file), its entries left, and the
        traveller's quarantine-free booking for today at this control point.
    """
    kind = data.document_kind.strip().lower()
    number = normalise_field(kind, data.document_number, "document_number")
    holder = verdict.holder or {}
    code_holder = (holder.get("document_kind") == kind
                   and holder.get("document") == mask(kind, number))
    person = identity.find_person(session, kind, number)
    active = person is not None and person.status == "active"
    days, uploaded_at, doses, last_dose = 0, None, 0, None
    booking = None
    if person is not None and active:
        uploads = checkin.upload_facts(session, person.id, now=at)
        days = checkin_days(uploads.in_use_since, uploads.uploaded_at, at)
        uploaded_at = uploads.uploaded_at
        known = evidence.facts_for(session, person.id, at)
        doses, last_dose = known.doses, known.last_dose_at
        booking = quota.booking_for_crossing(session, person.id, point, hk_date(at))
    endorsement = entries_left = None
    endorsement_facts = None
    if data.endorsement:
        endorsement = permits.endorsement_record(session, data.endorsement)
        if endorsement is not None:
            entries_left = max(endorsement.entries
                               - repository.admitted_with(session, endorsement.number), 0)
            endorsement_facts = policies.EndorsementFacts(
                number=endorsement.number, kind=endorsement.kind, reason=endorsement.reason,
                destination=endorsement.destination,
                valid_from=_day_start(endorsement.valid_from),
                valid_until=_day_start(endorsement.valid_until + timedelta(days=1)),
                entries_left=entries_left, stay_days=endorsement.stay_days,
                holder_matches=(endorsement.holder_kind == kind
                                and endorsement.holder_index == document_index(kind, number)))
    foreign = None
    if is_foreign(data.code):  # another issuer's certificate instead of our code
        foreign = foreign_facts(data.code, at=at,
                                holder=registered_holder(session, kind, number))
    facts = policies.CrossingFacts(
        control_point=point.code, direction=data.direction,
        jurisdiction=get_settings().jurisdiction, residence=RESIDENCE[kind],
        document_kind=kind, code_result=verdict.result, code_reason=verdict.reason,
        code_jurisdiction=verdict.issuer, code_colour=verdict.colour,
        code_issued_at=verdict.issued_at, code_valid_until=verdict.valid_until,
        code_holder_matches=code_holder, checkin_days=days, checkin_uploaded_at=uploaded_at,
        doses=doses, last_dose_at=last_dose, quota_booked=booking is not None,
        endorsement=endorsement_facts,
        last_negative_at=evidence.latest_test_collected(session, kind, number, "negative"),
        foreign_format=foreign.format if foreign else None,
        foreign_result=foreign.result if foreign else None,
        foreign_reason=foreign.reason if foreign else None,
        foreign_accepted=foreign.accepted if foreign else False,
        foreign_kind=foreign.kind if foreign else None,
        foreign_holder_matches=foreign.holder_matches if foreign else None,
    )
    return facts, endorsement, entries_left, booking


def _assign(session: Session, judgement: policies.Judgement, point: ControlPoint,
            at: datetime) -> Quarantine:
    """Send the traveller to the designated place holding the fewest travellers now."""
    crossing = judgement.crossing
    places = crossing.places_for(point.code)
    today = hk_date(at)
    load = repository.quarantine_load(session, [place.code for place in places], today)
    place = min(places, key=lambda candidate: load.get(candidate.code, 0))
    days = crossing.quarantine_days or 14
    return Quarantine(place, days, today, today + timedelta(days=days))


def decide(
    session: Session, data: DecisionIn, *, officer: Principal | None, channel: str,
    now: datetime, verify: Verifier | None = None,
) -> Decision:
    """Decide whether a traveller crosses quarantine-free, to quarantine, or not at all.

    Args:
        session: the unit of work (the decision is recorded in it).
        data: what the officer read: control point, direction, document, code, endorsement.
        officer: the border officer deciding; None at the command line (the operator).
        channel: ``cli``, ``api`` or ``page``.
        now: the current instant; ``data.at`` decides at another one.
        verify: checks the code (default: the health code's verifier with the lists on file).

    Raises:
        ControlPointNotFound: no such control point.
        InvalidDocumentNumber: the document's kind or number is not valid.
        NoCrossingPolicy: the policy in force has no rules for that crossing.
    """
    if officer is not None:
        identity.require_role(officer, *DECIDER_ROLES)
    at = data.at or now
    point = quota.control_point(session, data.control_point)
    kind = data.document_kind.strip().lower()
    number = normalise_field(kind, data.document_number, "document_number")
    verdict = (verify or _verify)(session, data.code, at)
    facts, endorsement, entries_left, booking = gather_facts(session, data, point, verdict,
                                                             at=at)
    policy = policies.active_policy(session)
    judgement = policies.evaluate(policy, facts, at)
    assigned = _assign(session, judgement, point, at) if judgement.outcome == "quarantine" \
        else None
    if judgement.outcome == "quarantine_free" and booking is not None:
        quota.use_booking(session, booking, now=at)
    record = CrossingDecision(
        control_point=point.code, direction=data.direction, decided_at=now, judged_at=at,
        decided_by=officer.id if officer else None, decided_role=officer.role if officer
        else None, channel=channel, policy=policy.name[:96], policy_digest=policy.digest,
        outcome=judgement.outcome, reasons=judgement.reason_codes, document_kind=kind,
        document_index=document_index(kind, number), code_issuer=verdict.issuer,
        code_result=verdict.result,
        endorsement=endorsement.number if endorsement is not None else None,
        booking_id=booking.id if booking is not None else None,
        quarantine_place=assigned.place.code if assigned else None,
        quarantine_ends_on=assigned.ends_on if assigned else None,
    )
    repository.add(session, record)
    log.info("crossing.decided", decision=str(record.id), control_point=point.code,
             direction=data.direction, outcome=judgement.outcome, policy=policy.name,
             reasons=judgement.reason_codes, channel=channel)
    return Decision(record, point, judgement, verdict, endorsement, entries_left, booking,
                    assigned)


def decision_view(decision: Decision, *, locale: str) -> DecisionView:
    """Shape a decision with its reasons and checks in ``locale``."""
    judgement, verdict = decision.judgement, decision.verdict
    holder = verdict.holder or {}
    endorsement = decision.endorsement
    quarantine = decision.quarantine
    return DecisionView(
        id=decision.record.id, outcome=judgement.outcome,
        may_cross=decision.may_cross, control_point=decision.point.code,
        control_point_name=quota.control_point_name(decision.point, locale),
        direction=decision.record.direction,
        decided_at=decision.record.decided_at, judged_at=decision.record.judged_at,
        policy=judgement.policy.name,
        language=locale,
        reasons=[ReasonView(code=code, rule=rule, message=text.get(locale, text["en"]))
                 for code, rule, text in judgement.reasons],
        checks=[RuleCheckView(
            rule=result.rule.identifier,
            code=result.rule.met_reason if result.met else result.rule.reason,
            met=result.met, outcome=result.rule.outcome,
            message=(result.rule.met_description if result.met
                     else result.rule.description).get(locale, ""))
            for result in judgement.results],
        quarantine=QuarantineView(
            place=quarantine.place.code,
            place_name=quarantine.place.name.get(locale, quarantine.place.code),
            days=quarantine.days, starts_on=quarantine.starts_on, ends_on=quarantine.ends_on,
        ) if quarantine else None,
        code=CodeView(result=verdict.result, reason=verdict.reason,
                      jurisdiction=verdict.issuer, colour=verdict.colour,
                      valid_until=verdict.valid_until, initials=holder.get("initials"),
                      document=holder.get("document")),
        endorsement=EndorsementView(
            number=endorsement.number, kind=endorsement.kind,
            destination=endorsement.destination, valid_from=endorsement.valid_from,
            valid_until=endorsement.valid_until, entries_left=decision.entries_left or 0,
            conditions=[text.get(locale, text["en"]) for text in
                        (endorsement.return_conditions if decision.record.direction == "north"
                         else endorsement.trip_conditions)],
        ) if endorsement else None,
        booking=decision.booking.reference if decision.booking else None,
    )


def decisions_today(session: Session, code: str, *, now: datetime) -> list[CrossingDecision]:
    """List the decisions taken at a control point today, the latest first."""
    point = quota.control_point(session, code)
    start = _day_start(hk_date(now))
    return repository.decisions_between(session, point.code, start, start + timedelta(days=1))


def get_decision(session: Session, decision_id: uuid.UUID) -> CrossingDecision:
    """Return a recorded decision by id."""
    record = repository.get_decision(session, decision_id)
    if record is None:
        raise DecisionNotFound(field="decision_id")
    return record


def record_view(record: CrossingDecision) -> DecisionRecordView:
    """Shape a recorded decision as an audit sees it (no personal data is on record)."""
    return DecisionRecordView.model_validate(record, from_attributes=True)
