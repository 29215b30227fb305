"""Pages of the e-Channel: proving a resident's identity with their smart identity card
and a live photo of their face. They call the same service as ``echannel.api``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData, UploadFile

from borderpass.echannel import face, service
from borderpass.identity.caller import require_page
from borderpass.identity.pages import render_prove_page
from borderpass.identity.schemas import Principal
from borderpass.kit.errors import BorderpassError
from borderpass.kit.http import DbSession, Now
from borderpass.kit.i18n import _
from borderpass.kit.pages import PageForm, csrf_protect, error_of, flash, page_locale, redirect, tr

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Resident = Annotated[Principal, require_page("resident")]
_MAX_CARD_BYTES = 256 * 1024


def _upload(form: FormData, name: str, limit: int) -> bytes:
    upload = form.get(name)
    if not isinstance(upload, UploadFile):
        return b""
    return upload.file.read(limit + 1)


@router.post("/account/prove/card")
def prove_with_card(request: Request, session: DbSession, now: Now, caller: Resident,
                    form: PageForm) -> Response:
    """Prove the resident's identity with the card's chip and a live photo of their face."""
    locale = page_locale(request)
    card = _upload(form, "card", _MAX_CARD_BYTES)
    photo = _upload(form, "live_photo", face.MAX_PHOTO_BYTES)
    errors = {}
    if not card:
        errors["card"] = tr(locale, _("Attach the chip of your identity card."))
    if not photo:
        errors["live_photo"] = tr(locale, _("Attach a photo of your face taken now."))
    if errors:
        return render_prove_page(request, session, caller.id, status=422, errors=errors)
    try:
        service.prove_with_card(session, person_id=caller.id, card=card, live_photo=photo,
                                now=now)
    except BorderpassError as error:
        return render_prove_page(request, session, caller.id, status=error.status,
                                 keep_writes=error.keep,
                                 errors=error_of(error, locale, ("card", "live_photo")))
    flash(request, _("Your identity is proven. Your results and vaccinations are shown now."))
    return redirect("/account")
