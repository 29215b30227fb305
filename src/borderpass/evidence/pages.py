"""Pages of the evidence domain: the resident's evidence on file, and the health
officers' records (cases, compulsory testing orders, high-risk areas). They call the
same services as ``evidence.api``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from borderpass.evidence import service
from borderpass.evidence.schemas import FlagIn, HighRiskAreaIn, TestingOrderIn
from borderpass.identity.caller import require_page
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import parse_instant
from borderpass.kit.errors import BorderpassError
from borderpass.kit.http import DbSession, Now
from borderpass.kit.i18n import _
from borderpass.kit.pages import (
    PageForm,
    csrf_protect,
    error_of,
    field_errors,
    flash,
    page_locale,
    redirect,
    render,
    text_fields,
    tr,
)

__all__ = ["FLAG_KINDS", "UploadCoverage", "register_upload_coverage", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Resident = Annotated[Principal, require_page("resident")]
HealthOfficer = Annotated[Principal, require_page("health_officer", "supervisor")]

FLAG_KINDS = (
    ("confirmed", _("Confirmed case")),
    ("suspected", _("Suspected case")),
    ("close_contact", _("Close contact")),
    ("quarantine", _("Compulsory quarantine")),
)
DOCUMENT_KINDS = (
    ("hkid", _("Hong Kong identity card")),
    ("macau", _("Macau resident identity card")),
    ("mainland", _("Mainland resident identity card")),
    ("hrp", _("Home Return Permit")),
)
RESULTS = {"negative": _("Negative"), "positive": _("Positive"),
           "inconclusive": _("Inconclusive")}


def _options(locale: str, pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return [(value, tr(locale, label)) for value, label in pairs]


def _parse(schema: type[BaseModel], values: dict[str, Any], instants: tuple[str, ...],
           locale: str) -> tuple[Any, dict[str, str]]:
    """Read date-times typed in Hong Kong time, then validate with the API's schema."""
    data = dict(values)
    errors: dict[str, str] = {}
    for name in instants:
        text = data.get(name) or ""
        if not text:
            data[name] = None
            continue
        try:
            data[name] = parse_instant(text)
        except ValueError:
            errors[name] = tr(locale, _("Give a date and time."))
    if errors:
        return None, errors
    try:
        return schema.model_validate(data), {}
    except ValidationError as error:
        return None, field_errors(error, locale)


def _record(
    request: Request,
    session: DbSession,
    *,
    parsed: tuple[Any, dict[str, str]],
    values: dict[str, str],
    fields: tuple[str, ...],
    page: Callable[..., Response],
    save: Callable[[Any], object],
    then: str,
) -> Response:
    """Save a validated form, or show the page again with each error beside its field."""
    data, errors = parsed
    if errors:
        return page(422, values=values, errors=errors)
    try:
        save(data)
    except BorderpassError as error:
        return page(error.status, values=values,
                    errors=error_of(error, page_locale(request), fields))
    flash(request, _("Recorded."))
    return redirect(then)


class UploadCoverage(BaseModel):
    """How much of the recent past a resident's uploaded check-ins cover."""

    uploaded_at: datetime
    covered_days: int  # of the last 14


# Check-in sits above evidence, so the evidence page cannot ask it directly: ``wiring``
# registers check-in's answer here at start-up, as it subscribes the event handlers.
_coverage: Callable[[Session, uuid.UUID, datetime], UploadCoverage | None] | None = None


def register_upload_coverage(
    provider: Callable[[Session, uuid.UUID, datetime], UploadCoverage | None] | None,
) -> None:
    """Say where the evidence page learns how many days a resident's uploads cover."""
    global _coverage
    _coverage = provider


@router.get("/evidence")
def my_evidence(request: Request, session: DbSession, now: Now, caller: Resident) -> Response:
    """Show the resident the test results, vaccinations and flags on file."""
    coverage = _coverage(session, caller.id, now) if _coverage is not None else None
    return render(request, "evidence/mine.html", evidence=service.evidence_of(session, caller.id),
                  results=RESULTS, flag_kinds=dict(FLAG_KINDS), coverage=coverage)


# --- cases -------------------------------------------------------------------------

CASE_FIELDS = ("document_kind", "document_number", "kind", "starts_at", "ends_at")


def _cases_page(request: Request, status: int = 200, **context: Any) -> Response:
    locale = page_locale(request)
    context.setdefault("values", {"document_kind": "hkid", "kind": "confirmed"})
    return render(request, "evidence/cases.html", status=status,
                  kinds=_options(locale, DOCUMENT_KINDS), flag_kinds=_options(locale, FLAG_KINDS),
                  **context)


@router.get("/officer/cases")
def cases(request: Request, _caller: HealthOfficer) -> Response:
    """Show the form to record a case, a close contact or quarantine."""
    return _cases_page(request)


@router.post("/officer/cases")
def record_case(request: Request, session: DbSession, now: Now, caller: HealthOfficer,
                form: PageForm) -> Response:
    """Record a case, a close contact or quarantine."""
    values = text_fields(form, CASE_FIELDS)
    return _record(
        request, session, values=values, fields=CASE_FIELDS,
        parsed=_parse(FlagIn, values, ("starts_at", "ends_at"), page_locale(request)),
        page=lambda status, **context: _cases_page(request, status, **context),
        save=lambda data: service.record_flag(session, data, officer=caller.id, now=now),
        then="/officer/cases",
    )


# --- compulsory testing orders ------------------------------------------------------

ORDER_FIELDS = ("reference", "period_from", "period_to", "test_by", "premises", "venues")


def _orders_page(request: Request, session: DbSession, now: Any, status: int = 200,
                 **context: Any) -> Response:
    context.setdefault("chosen", [])
    context.setdefault("results", [])
    context.setdefault("searched", False)
    return render(request, "evidence/testing_orders.html", status=status,
                  orders=service.testing_orders_in_force(session, now=now), **context)


@router.get("/officer/testing-orders")
def testing_orders(request: Request, session: DbSession, now: Now,
                   _caller: HealthOfficer) -> Response:
    """List the testing orders in force and offer to record one."""
    return _orders_page(request, session, now)


@router.get("/officer/testing-orders/venues")
def find_order_venues(session: DbSession, _caller: HealthOfficer, q: str = "") -> JSONResponse:
    """Find venues by name or venue id for a testing order (the form's venue picker)."""
    found = service.search_venues(session, q[:120])
    return JSONResponse([venue.model_dump() for venue in found],
                        headers={"Cache-Control": "no-store"})


@router.post("/officer/testing-orders")
def record_testing_order(request: Request, session: DbSession, now: Now, caller: HealthOfficer,
                         form: PageForm) -> Response:
    """Record a compulsory testing order for venues and addresses (one address a line),
    or, with "Find", show the venues that match the search."""
    locale = page_locale(request)
    values = text_fields(form, (*ORDER_FIELDS, "venue_q"))
    ticked = [value for value in form.getlist("venue") if isinstance(value, str)]
    try:
        chosen = service.find_venues(session, ticked)
    except BorderpassError as error:
        return _orders_page(request, session, now, 422, values=values,
                            errors=error_of(error, locale, ORDER_FIELDS))
    if form.get("find"):
        # The form without JavaScript: show the venues found; nothing is recorded yet.
        ids = {venue.venue_id for venue in chosen}
        results = [venue for venue in service.search_venues(session, values["venue_q"][:120])
                   if venue.venue_id not in ids]
        return _orders_page(request, session, now, values=values, chosen=chosen,
                            results=results, searched=True)
    premises: list[dict[str, str]] = [
        {"address": venue.address, "venue_id": venue.venue_id} for venue in chosen]
    premises += [{"address": line.strip()} for line in values["premises"].splitlines()
                 if line.strip()]
    data, errors = _parse(TestingOrderIn, {**{k: values[k] for k in ORDER_FIELDS[:4]},
                                           "premises": premises},
                          ("period_from", "period_to", "test_by"), locale)
    if not premises:
        data, errors = None, {**errors, "premises": tr(
            locale, _("Choose at least one venue or give at least one address."))}
    return _record(
        request, session, values=values, fields=ORDER_FIELDS, parsed=(data, errors),
        page=lambda status, **context: _orders_page(request, session, now, status,
                                                    chosen=chosen, **context),
        save=lambda data: service.record_testing_order(session, data, officer=caller.id,
                                                       now=now),
        then="/officer/testing-orders",
    )


# --- high-risk areas ---------------------------------------------------------------

AREA_FIELDS = ("region_code", "name_en", "name_zh", "starts_at", "ends_at")


def _areas_page(request: Request, session: DbSession, now: Any, status: int = 200,
                **context: Any) -> Response:
    return render(request, "evidence/high_risk_areas.html", status=status,
                  areas=service.high_risk_areas(session, now=now), **context)


@router.get("/officer/high-risk-areas")
def high_risk_areas(request: Request, session: DbSession, now: Now,
                    _caller: HealthOfficer) -> Response:
    """List the high-risk areas and offer to declare one."""
    return _areas_page(request, session, now)


@router.post("/officer/high-risk-areas")
def record_high_risk_area(request: Request, session: DbSession, now: Now,
                          caller: HealthOfficer, form: PageForm) -> Response:
    """Declare a high-risk area for a period."""
    values = text_fields(form, AREA_FIELDS)
    values["region_code"] = values["region_code"].upper()
    return _record(
        request, session, values=values, fields=AREA_FIELDS,
        parsed=_parse(HighRiskAreaIn, values, ("starts_at", "ends_at"), page_locale(request)),
        page=lambda status, **context: _areas_page(request, session, now, status, **context),
        save=lambda data: service.record_high_risk_area(session, data, officer=caller.id,
                                                        now=now),
        then="/officer/high-risk-areas",
    )
