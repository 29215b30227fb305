"""JSON endpoints of the rules domain: rule sets for health officers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter

from borderpass.identity.caller import require
from borderpass.identity.schemas import Principal
from borderpass.kit.http import Body, DbSession, Now
from borderpass.rules import service
from borderpass.rules.schemas import RuleSetView

__all__ = ["router"]

router = APIRouter(prefix="/api/rule-sets", tags=["rules"])

HealthOfficer = Annotated[Principal, require("health_officer")]


@router.post("", status_code=201, openapi_extra={"requestBody": {
    "required": True, "content": {"application/json": {"schema": {"type": "object"}}}}})
def load_rule_set(
    content: Body, session: DbSession, now: Now, caller: HealthOfficer, activate: bool = False,
) -> RuleSetView:
    """Validate and keep a new rule-set version; activate it if asked."""
    row = service.load(session, content, officer=caller.id, now=now, activate_now=activate)
    return service.view(row)


@router.post("/{rule_set_id}/activate")
def activate_rule_set(
    rule_set_id: uuid.UUID, session: DbSession, now: Now, caller: HealthOfficer
) -> RuleSetView:
    """Put a loaded rule-set version in force."""
    return service.view(service.activate(session, rule_set_id, officer=caller.id, now=now))


@router.get("")
def list_rule_sets(session: DbSession, caller: HealthOfficer) -> list[RuleSetView]:
    """List every version of every rule set."""
    return service.list_rule_sets(session)
