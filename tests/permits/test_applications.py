"""Applying: a validated resident ID, a permit number, a type open today, its checklist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.documents import InvalidDocumentNumber
from borderpass.kit.errors import Conflict, Forbidden, InvalidInput
from borderpass.permits import policy as policies
from borderpass.permits import service
from borderpass.permits.schemas import ApplicationIn
from tests.permits.conftest import application_fields, resident_id
from tests.permits.test_policy import REASONS, _write

Apply = Callable[..., tuple[Any, Any]]


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_every_reason_has_its_checklist(session: Session, apply: Apply, reason: str) -> None:
    extra = {"relationship": "sibling"} if reason in ("funeral", "visit_critically_ill") else {}
    application, _ = apply(reason=reason, **extra)
    view = service.application_view(session, application)
    items = [check.item for check in view.checklist]
    assert items == ["identity_card", "travel_permit", *REASONS[reason]]
    assert all(check.state == "pending" for check in view.checklist)
    assert all(check.name != check.item for check in view.checklist)  # named in Chinese


def test_business_needs_employer_and_inviter(session: Session, apply: Apply) -> None:
    with pytest.raises(InvalidInput) as raised:
        apply(kind="business", reason=None, employer="深圳某科技有限公司")
    assert raised.value.field == "inviter"
    application, _ = apply(kind="business", reason=None, employer="深圳某科技有限公司",
                           inviter="Harbour Trading Ltd")
    items = [c.item for c in service.application_view(session, application).checklist]
    assert items == ["identity_card", "travel_permit", "employer_licence", "employment_proof",
                     "business_invitation"]


def test_resident_id_is_validated(apply: Apply) -> None:
    good = resident_id()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(InvalidDocumentNumber) as raised:
        apply(mainland_id=bad)
    assert raised.value.field == "mainland_id"
    assert raised.value.reason == "wrong_check_character"


def test_permit_number_is_validated(apply: Apply) -> None:
    with pytest.raises(InvalidInput) as raised:
        apply(permit_number="X1234")
    assert raised.value.code == "invalid_permit_number"
    assert raised.value.field == "permit_number"
    assert service.normalise_permit_number("c 1234 5678") == "C12345678"
    assert service.normalise_permit_number("CA1234567") == "CA1234567"


def test_regular_endorsements_are_closed_unless_configured(
    apply: Apply, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput) as raised:
        apply(kind="regular", reason=None)
    assert raised.value.code == "endorsement_type_closed"
    assert raised.value.field == "kind"
    reopened = policies.load_policy(_write(tmp_path, {"types.regular.open": [
        {"from": "2026-11-01", "until": None}]}))
    with policies.use_policy(reopened):
        application, _ = apply(kind="regular", reason=None)
    assert application.status == "submitted"


def test_emergency_needs_a_known_reason(apply: Apply) -> None:
    with pytest.raises(InvalidInput) as raised:
        apply(reason=None)
    assert raised.value.field == "reason"
    with pytest.raises(InvalidInput) as raised:
        apply(reason="shopping")
    assert raised.value.field == "reason"


def test_relationship_rule_classifies_the_applicant(session: Session, apply: Apply) -> None:
    direct, _ = apply(reason="visit_critically_ill", relationship="sibling")
    assert not direct.needs_supervisor
    assert service.application_view(session, direct).relationship_class == "direct"
    other, _ = apply(reason="funeral", relationship="cousin", relationship_detail="表兄")
    assert other.needs_supervisor
    assert service.application_view(session, other).relationship_class == "other"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason": "funeral"}, "relationship"),
        ({"reason": "funeral", "relationship": "neighbour"}, "relationship"),
        ({"reason": "funeral", "relationship": "other_family"}, "relationship_detail"),
        ({"reason": "litigation", "relationship": "parent"}, "relationship"),
        ({"kind": "business", "reason": "funeral", "employer": "A", "inviter": "B"}, "reason"),
    ],
)
def test_relationship_and_kind_fields_are_checked(
    apply: Apply, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        apply(**fields)
    assert raised.value.field == field


def test_one_open_application_per_resident_and_type(apply: Apply) -> None:
    number = resident_id()
    first, _ = apply(mainland_id=number)
    with pytest.raises(Conflict) as raised:
        apply(mainland_id=number)
    assert raised.value.code == "duplicate_application"
    assert first.reference in str(raised.value)


def test_personal_values_are_sealed(session: Session, apply: Apply) -> None:
    number = resident_id()
    application, _ = apply(mainland_id=number)
    assert number.encode() not in application.applicant_id_sealed
    assert application.applicant_masked == number[:2] + "*" * 15 + number[-1]
    assert application.permit_masked == "C1*****78"


def test_applicant_token_opens_only_its_own_application(
    session: Session, now: datetime
) -> None:
    data = ApplicationIn.model_validate(application_fields())
    application, token, expires = service.create_application(session, data, now=now)
    caller = identity.authenticate(session, token, now=now)
    assert (caller.kind, caller.id, caller.role) == ("applicant", application.id, "applicant")
    assert expires > now
    service.authorise(caller, application.id)
    other, _, _ = service.create_application(
        session, ApplicationIn.model_validate(application_fields()), now=now)
    with pytest.raises(Forbidden):
        service.authorise(caller, other.id)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        ApplicationIn.model_validate(application_fields(colour="green"))
