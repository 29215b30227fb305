"""The health officers' rule-set pages: list the versions on file, load one from a JSON
file, put one in force."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from borderpass.identity.caller import require_page
from borderpass.identity.schemas import Principal
from borderpass.kit.errors import BorderpassError
from borderpass.kit.http import DbSession, Now
from borderpass.kit.i18n import _
from borderpass.kit.pages import (
    PageForm,
    csrf_protect,
    flash,
    page_locale,
    redirect,
    render,
    tr,
)
from borderpass.rules import service as rules
from borderpass.rules.schemas import RuleSetView

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

HealthOfficer = Annotated[Principal, require_page("health_officer", "supervisor")]


def _rule_sets(session: Session) -> list[RuleSetView]:
    return sorted(rules.list_rule_sets(session), key=lambda view: view.loaded_at, reverse=True)


def _rules_page(request: Request, session: DbSession, status: int = 200,
                errors: dict[str, str] | None = None) -> Response:
    return render(request, "officer/rule_sets.html", status=status,
                  rule_sets=_rule_sets(session), errors=errors or {})


@router.get("/officer/rule-sets")
def rule_sets(request: Request, session: DbSession, _caller: HealthOfficer) -> Response:
    """List the rule sets and offer to load one."""
    return _rules_page(request, session)


@router.post("/officer/rule-sets")
def rule_set_load(request: Request, session: DbSession, now: Now, caller: HealthOfficer,
                        form: PageForm) -> Response:
    """Load a rule set from a JSON file."""
    upload = form.get("rule_set")
    locale = page_locale(request)
    if not isinstance(upload, UploadFile):
        return _rules_page(request, session, 422,
                           {"rule_set": tr(locale, _("Choose a rule set file (JSON)."))})
    try:
        loaded = rules.load(session, upload.file.read(2 * 1024 * 1024),
                                     officer=caller.id, now=now)
    except BorderpassError as error:
        return _rules_page(request, session, error.status, {"form": error.render(locale)})
    flash(request, _("Rule set {name} {version} loaded."), name=loaded.identifier,
          version=loaded.version)
    return redirect("/officer/rule-sets")


@router.post("/officer/rule-sets/{rule_set_id}/activate")
def rule_set_activate(request: Request, rule_set_id: uuid.UUID, session: DbSession, now: Now,
                      caller: HealthOfficer, _form: PageForm) -> Response:
    """Put a rule set in force."""
    try:
        active = rules.activate(session, rule_set_id, officer=caller.id, now=now)
    except BorderpassError as error:
        return _rules_page(request, session, error.status,
                           {"form": error.render(page_locale(request))})
    flash(request, _("Rule set {name} {version} is now in force."), name=active.identifier,
          version=active.version)
    return redirect("/officer/rule-sets")
