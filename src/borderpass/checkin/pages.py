"""Pages of venue check-in: the check-in web app a resident installs on their phone, and
the upload of its records to their Health Code, with consent.

The app keeps its records in the browser (IndexedDB) and matches the exposure list there
(``static/js/checkin-core.js`` does what ``checkin.phone`` does); the server sees a
visit only when the signed-in resident uploads, through ``upload`` below, which calls the
same service as ``POST /api/checkin/uploads``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import ValidationError

from borderpass.checkin import service
from borderpass.checkin.schemas import USUAL_STAY_MINUTES, CaseIn
from borderpass.identity.caller import MaybeCaller, require_page
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import parse_instant
from borderpass.kit.decoding import DecodeError, b64url_encode, load_json
from borderpass.kit.errors import BorderpassError
from borderpass.kit.http import DbSession, Now
from borderpass.kit.i18n import _
from borderpass.kit.pages import (
    WEB,
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

__all__ = ["APP_PATH", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Resident = Annotated[Principal, require_page("resident")]
APP_PATH = "/app/checkin"
WORKER = WEB / "static" / "js" / "checkin-sw.js"
DECODER = WEB / "static" / "vendor" / "jsQR.js"
_MAX_BUNDLE = 512 * 1024

# What the app says, in the page's language (the script reads them from the page).
APP_TEXTS = {
    "here_since": _("Checked in since {time}"),
    "leaves_at": _("You leave by yourself at {time} unless you leave before."),
    "not_checked_in": _("You are not checked in anywhere."),
    "checked_in": _("Checked in at {place}."),
    "left": _("You left {place}."),
    "looking": _("Point the camera at the venue's QR code."),
    "no_camera": _("The camera cannot be used here. Type the taxi's plate or paste the "
                   "code's text instead."),
    "bad_code": _("This is not a venue QR code we can read: {reason}."),
    "bad_plate": _("{plate} is not a valid registration plate: two letters and 1 to 4 "
                   "digits, such as AB1234."),
    "no_visits": _("No visits in the last 31 days."),
    "until": _("until {time}"),
    "now": _("now"),
    "list_checked": _("Exposure list published at {time}: no match."),
    "list_checked_warned": _("Exposure list published at {time}."),
    "list_unavailable": _("The exposure list could not be checked: {reason}."),
    "offline": _("Offline: your check-ins are still kept on this phone."),
    "direct": _("You were at {place} on {day} at the same time as a person with COVID-19. "
                "Get a PCR test by {test_by} and watch for symptoms until {watch_until}."),
    "indirect": _("You rode in {place} on {day}, within a day after a person with COVID-19. "
                  "Take a rapid test by {test_by} and watch for symptoms until "
                  "{watch_until}."),
    "send_none": _("There is nothing to upload."),
    "send_count": _("{count} visits, from {from} to {to}"),
    "purged": _("Visits older than 31 days are deleted from this phone."),
}


def _trust() -> dict[str, str]:
    return {kid: b64url_encode(public) for kid, public in service.venue_trust().items()}


def _app_data(locale: str) -> str:
    data: dict[str, Any] = {
        "locale": locale,
        "trust": _trust(),
        "usual_stay_minutes": USUAL_STAY_MINUTES,
        "texts": {key: tr(locale, text) for key, text in APP_TEXTS.items()},
    }
    # Inside <script type="application/json">: "</" must not end the element early.
    return json.dumps(data, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


@router.get(APP_PATH)
def checkin_app(request: Request, caller: MaybeCaller) -> Response:
    """Show the check-in app: scan venues, list visits, warnings, upload with consent."""
    locale = page_locale(request)
    return render(request, "checkin/app.html", app_data=_app_data(locale),
                  decoder=DECODER.exists(),
                  signed_in_resident=caller is not None and caller.kind == "resident")


@router.get(f"{APP_PATH}/manifest.webmanifest")
def manifest(request: Request) -> Response:
    """Describe the check-in app for installing it on a phone's home screen."""
    locale = page_locale(request)
    body = {
        "name": tr(locale, _("Venue check-in")),
        "short_name": tr(locale, _("Check-in")),
        "description": tr(locale, _("Check in at venues and taxis; your visits stay on "
                                    "your phone.")),
        "lang": {"en": "en", "zh_Hant": "zh-Hant-HK", "zh_Hans": "zh-Hans"}[locale],
        "start_url": APP_PATH,
        "scope": "/app/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5d3b",
        "icons": [
            {"src": "/static/img/checkin-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/img/checkin-512.png", "sizes": "512x512", "type": "image/png"},
        ],
    }
    return JSONResponse(body, media_type="application/manifest+json",
                        headers={"Cache-Control": "no-cache"})


@router.get("/app/checkin-worker.js")
def worker() -> Response:
    """Serve the check-in app's service worker, which opens the app offline.

    It is served from ``/app/`` so that it may control the app's pages.
    """
    return FileResponse(WORKER, media_type="text/javascript",
                        headers={"Cache-Control": "no-cache"})


@router.post(f"{APP_PATH}/upload")
def upload(request: Request, session: DbSession, now: Now, caller: Resident,
           form: PageForm) -> Response:
    """Upload the app's signed records of the last 31 days, with the resident's consent."""
    locale = page_locale(request)
    values = text_fields(form, ["bundle", "consent"])
    try:
        if len(values["bundle"]) > _MAX_BUNDLE:
            raise DecodeError("too large")
        bundle = load_json(values["bundle"])
    except DecodeError:
        flash(request, _("The upload was not accepted: {reason}."),
              reason=tr(locale, _("the app sent no readable records")))
        return redirect(APP_PATH)
    if not isinstance(bundle, dict):
        bundle = {}
    try:
        receipt = service.receive_upload(session, caller.id, bundle,
                                         consent=values["consent"] == "yes", now=now)
    except BorderpassError as error:
        flash(request, error.text, **error.params)
        return redirect(APP_PATH)
    flash(request, _("{count} visits uploaded to your Health Code; {days} of the last 14 "
                     "days are covered."), count=receipt.records,
          days=min(14, receipt.covered_days))
    return redirect("/evidence")


# --- the health officer records where a case was ---------------------------------------

HealthOfficer = Annotated[Principal, require_page("health_officer", "supervisor")]
PLACE_KINDS = (("venue", _("A venue (its code on the poster)")),
               ("taxi", _("A taxi (its registration plate)")))
CASE_FIELDS = ("place_kind", "place", "starts_at", "ends_at")


def _case_page(request: Request, session: DbSession, now: Now, status: int = 200,
               **context: Any) -> Response:
    locale = page_locale(request)
    context.setdefault("values", {"place_kind": "venue"})
    return render(request, "checkin/case_visits.html", status=status,
                  cases=service.recent_cases(session, now=now, locale=locale),
                  list_age=service.exposure_list_age(session, now=now),
                  place_kinds=[(key, tr(locale, text)) for key, text in PLACE_KINDS],
                  **context)


@router.get("/officer/case-visits")
def case_visits(request: Request, session: DbSession, now: Now,
                _caller: HealthOfficer) -> Response:
    """Show the health officer the form for where a case was, and the cases listed."""
    return _case_page(request, session, now)


@router.post("/officer/case-visits")
def record_case_visit(request: Request, session: DbSession, now: Now, caller: HealthOfficer,
                      form: PageForm) -> Response:
    """Record where and when a case was; the exposure list carries it within a minute."""
    locale = page_locale(request)
    values = text_fields(form, CASE_FIELDS)
    errors = {}
    instants = {}
    for name in ("starts_at", "ends_at"):
        try:
            instants[name] = parse_instant(values[name])
        except ValueError:
            errors[name] = tr(locale, _("Give a date and time."))
    if not values["place"]:
        errors["place"] = tr(locale, _("This field is required."))
    if errors:
        return _case_page(request, session, now, 422, values=values, errors=errors)
    place = {"plate": values["place"]} if values["place_kind"] == "taxi" else {
        "venue_id": values["place"]}
    try:
        case = service.record_case(session, CaseIn(**place, **instants), officer=caller.id,
                                   now=now)
    except ValidationError as error:
        return _case_page(request, session, now, 422, values=values,
                          errors={"place": field_errors(error, locale).get(
                              "venue_id") or tr(locale, _("This value is not accepted."))})
    except BorderpassError as error:
        found = error_of(error, locale, ("place", "starts_at", "ends_at"))
        if error.field in ("venue_id", "plate"):
            found = {"place": error.render(locale)}
        return _case_page(request, session, now, error.status, values=values, errors=found)
    flash(request, _("Recorded: {place}. The exposure list carries it within a minute."),
          place=case.place_id)
    return redirect("/officer/case-visits")
