"""Review at the office and the decision: evidence marks, approve, refuse, escalate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from borderpass.identity.schemas import Principal
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput
from borderpass.permits import service
from borderpass.permits.schemas import DecisionIn, EvidenceMarkIn

Booked = Callable[..., tuple[Any, Principal]]


def mark_all(session: Session, application: Any, officer: Principal, now: datetime) -> None:
    for check in service.application_view(session, application).checklist:
        service.mark_evidence(session, application.id, check.item,
                              EvidenceMarkIn(state="seen"), officer=officer, now=now)


def test_direct_relative_is_decided_by_the_officer(
    session: Session, now: datetime, booked: Booked, officer: Principal
) -> None:
    application, _ = booked(reason="visit_critically_ill", relationship="sibling")
    mark_all(session, application, officer, now)
    later = now + timedelta(minutes=20)
    service.decide(session, application.id, DecisionIn(outcome="approve", stay_days=7),
                   officer=officer, now=later)
    view = service.application_view(session, application)
    assert view.status == "approved"
    assert view.decision is not None
    assert (view.decision.by, view.decision.role, view.decision.at) == (
        officer.id, "exit_entry_officer", later)
    endorsement = view.endorsement
    assert endorsement is not None
    assert (endorsement.kind, endorsement.entries, endorsement.stay_days) == ("emergency", 1, 7)
    assert endorsement.valid_from.isoformat() == "2026-11-26"
    assert endorsement.valid_until.isoformat() == "2027-02-23"  # 90 days, both ends included
    assert endorsement.issued_by == officer.id


def test_other_family_member_goes_to_a_supervisor(
    session: Session, now: datetime, booked: Booked, officer: Principal, supervisor: Principal
) -> None:
    application, _ = booked(reason="funeral", relationship="uncle_or_aunt",
                            relationship_detail="母親的妹妹")
    mark_all(session, application, officer, now)
    with pytest.raises(Forbidden) as raised:
        service.decide(session, application.id, DecisionIn(outcome="approve"),
                       officer=officer, now=now)
    assert raised.value.code == "supervisor_required"
    with pytest.raises(InvalidInput) as missing_note:
        service.decide(session, application.id, DecisionIn(outcome="escalate"),
                       officer=officer, now=now)
    assert missing_note.value.field == "note"
    service.decide(session, application.id,
                   DecisionIn(outcome="escalate", note="Aunt, not a direct relative"),
                   officer=officer, now=now)
    assert service.get_application(session, application.id).status == "escalated"
    with pytest.raises(InvalidInput) as unwritten:
        service.decide(session, application.id, DecisionIn(outcome="approve"),
                       officer=supervisor, now=now)
    assert unwritten.value.field == "note"
    service.decide(
        session, application.id,
        DecisionIn(outcome="approve", note="She raised the applicant; the funeral is on 3 Dec."),
        officer=supervisor, now=now,
    )
    view = service.application_view(session, application)
    assert view.status == "approved"
    assert view.decision is not None
    assert view.decision.role == "supervisor"
    assert view.decision.by == supervisor.id
    assert view.decision.note is not None and "raised the applicant" in view.decision.note


def test_an_escalated_case_is_closed_to_officers(
    session: Session, now: datetime, booked: Booked, officer: Principal
) -> None:
    application, _ = booked(reason="litigation")
    service.decide(session, application.id,
                   DecisionIn(outcome="escalate", note="The summons looks altered"),
                   officer=officer, now=now)
    for attempt in (DecisionIn(outcome="refuse", reasons=["x"]), DecisionIn(outcome="approve")):
        with pytest.raises(Forbidden):
            service.decide(session, application.id, attempt, officer=officer, now=now)


def test_refusal_carries_its_reasons(
    session: Session, now: datetime, booked: Booked, officer: Principal
) -> None:
    application, _ = booked(reason="examination")
    service.mark_evidence(session, application.id, "exam_admission_ticket",
                          EvidenceMarkIn(state="not_acceptable",
                                         reason="The ticket is for an exam in 2025"),
                          officer=officer, now=now)
    with pytest.raises(InvalidInput) as no_reason:
        service.decide(session, application.id, DecisionIn(outcome="refuse"), officer=officer,
                       now=now)
    assert no_reason.value.field == "reasons"
    reasons = ["The admission ticket is for a past examination.",
               "No other evidence of an examination was shown."]
    service.decide(session, application.id, DecisionIn(outcome="refuse", reasons=reasons),
                   officer=officer, now=now)
    view = service.application_view(session, application)
    assert view.status == "refused"
    assert view.decision is not None and view.decision.reasons == reasons
    assert view.endorsement is None
    with pytest.raises(Conflict):
        service.decide(session, application.id, DecisionIn(outcome="approve"), officer=officer,
                       now=now)


def test_approval_needs_every_item_seen(
    session: Session, now: datetime, booked: Booked, officer: Principal
) -> None:
    application, _ = booked(reason="property")
    service.mark_evidence(session, application.id, "identity_card",
                          EvidenceMarkIn(state="seen"), officer=officer, now=now)
    service.mark_evidence(session, application.id, "property_papers",
                          EvidenceMarkIn(state="missing"), officer=officer, now=now)
    with pytest.raises(Conflict) as raised:
        service.decide(session, application.id, DecisionIn(outcome="approve"), officer=officer,
                       now=now)
    assert raised.value.code == "review_incomplete"
    assert raised.value.details == {"items": ["travel_permit", "property_papers"]}
    # The officer reads the checklist's names in their language, never its internal keys.
    names = service.policy_view(locale="zh_Hant", now=now)["types"][0]["checklist"]
    assert names  # the policy names its items
    shown = raised.value.render("zh_Hant")
    assert "travel_permit" not in shown and "property_papers" not in shown
    assert "往來港澳通行證、" in shown
    english = raised.value.render("en")
    assert "travel_permit" not in english
    assert "Exit-entry permit for travelling to and from Hong Kong and Macau, " in english


def test_evidence_marks_are_checked(
    session: Session, now: datetime, booked: Booked, officer: Principal
) -> None:
    application, applicant = booked(reason="property")
    with pytest.raises(InvalidInput) as no_reason:
        service.mark_evidence(session, application.id, "property_papers",
                              EvidenceMarkIn(state="not_acceptable"), officer=officer, now=now)
    assert no_reason.value.field == "reason"
    with pytest.raises(InvalidInput) as unknown:
        service.mark_evidence(session, application.id, "death_certificate",
                              EvidenceMarkIn(state="seen"), officer=officer, now=now)
    assert unknown.value.field == "item"
    with pytest.raises(Forbidden):
        service.mark_evidence(session, application.id, "property_papers",
                              EvidenceMarkIn(state="seen"), officer=applicant, now=now)


def test_endorsement_terms_stay_within_the_policy(
    session: Session, now: datetime, booked: Booked, officer: Principal
) -> None:
    application, _ = booked(kind="business", reason=None, employer="深圳某科技有限公司",
                            inviter="Harbour Trading Ltd")
    mark_all(session, application, officer, now)
    with pytest.raises(InvalidInput) as raised:
        service.decide(session, application.id, DecisionIn(outcome="approve", entries=5),
                       officer=officer, now=now)
    assert raised.value.field == "entries"
    service.decide(session, application.id,
                   DecisionIn(outcome="approve", entries=2, validity_days=365),
                   officer=officer, now=now)
    endorsement = service.application_view(session, application).endorsement
    assert endorsement is not None
    assert (endorsement.entries, endorsement.stay_days) == (2, 7)
    assert (endorsement.valid_until - endorsement.valid_from).days == 364


def test_every_step_records_who_and_when(
    session: Session, now: datetime, booked: Booked, officer: Principal
) -> None:
    application, applicant = booked(reason="academic_exchange")
    mark_all(session, application, officer, now + timedelta(hours=1))
    service.decide(session, application.id, DecisionIn(outcome="approve"), officer=officer,
                   now=now + timedelta(hours=2))
    steps = service.steps_of(session, application.id)
    assert [step.action for step in steps] == [
        "applied", "booked", "evidence_marked", "evidence_marked", "evidence_marked",
        "approved"]
    assert [step.seq for step in steps] == list(range(1, 7))
    assert steps[0].actor_kind == "applicant" and steps[0].actor_id == applicant.id
    assert steps[0].at == now
    assert {step.actor_id for step in steps[2:]} == {officer.id}
    assert steps[-1].at == now + timedelta(hours=2)
    assert steps[2].detail == {"item": "identity_card", "state": "seen"}
    assert "endorsement" in steps[-1].detail
    checks = service.application_view(session, application).checklist
    assert all(c.marked_by == officer.id and c.marked_at == now + timedelta(hours=1)
               for c in checks)


def test_decisions_of_the_day(
    session: Session, now: datetime, booked: Booked, officer: Principal, office: Any
) -> None:
    application, _ = booked(reason="litigation")
    service.decide(session, application.id,
                   DecisionIn(outcome="refuse", reasons=["No summons was shown."]),
                   officer=officer, now=now)
    rows = service.decisions_on(session, now.date(), office.code)
    assert [(row["reference"], row["outcome"], row["reasons"]) for row in rows] == [
        (application.reference, "refused", ["No summons was shown."])]
