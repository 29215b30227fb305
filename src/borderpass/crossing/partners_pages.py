"""Pages of the federation: converting a partner's code (paste, photo or camera)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from borderpass.crossing import conversion
from borderpass.crossing import partners as federation
from borderpass.healthcode import views as codes
from borderpass.kit.config import get_settings
from borderpass.kit.errors import BorderpassError
from borderpass.kit.http import DbSession, Now
from borderpass.kit.i18n import _
from borderpass.kit.pages import WEB, PageForm, csrf_protect, page_locale, render, text_fields, tr

__all__ = ["ConvertedCard", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

SCANNER_DECODER = WEB / "static" / "vendor" / "jsQR.js"
_MAX_PHOTO_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ConvertedCard:
    """The code issued in place of a partner's, as the page shows it."""

    qr_svg: str  # an SVG document made by the platform (segno), shown as is
    text: str
    whose: str  # "Guangdong code", in the page's language
    original: str  # "Converted from a Hong Kong code", in the page's language
    holder: str
    valid_until: datetime


def _page(request: Request, session: Session, status: int = 200,
          converted: ConvertedCard | None = None,
          errors: dict[str, str] | None = None, values: dict[str, str] | None = None
          ) -> Response:
    locale = page_locale(request)
    recognised = [codes.jurisdiction_name(partner.jurisdiction, locale=locale)
                  for partner in federation.list_partners(session)
                  if partner.lists is not None]
    return render(request, "crossing/convert.html", status=status, converted=converted,
                  errors=errors or {}, values=values or {},
                  camera_decoder=SCANNER_DECODER.exists(),
                  code_prefix=get_settings().code_prefix,
                  here_name=codes.jurisdiction_name(get_settings().jurisdiction, locale=locale),
                  recognised=recognised)


@router.get("/convert")
def convert_page(request: Request, session: DbSession) -> Response:
    """Show how to convert another jurisdiction's green code: camera, photo or pasted text."""
    return _page(request, session)


def _convert(request: Request, session: Session, now: datetime, text: str) -> Response:
    locale = page_locale(request)
    if not text:
        return _page(request, session, 422, errors={
            "code_text": tr(locale, _("Paste the text of a code."))})
    try:
        done = conversion.convert(session, text, now=now)
    except BorderpassError as error:
        return _page(request, session, error.status, errors={"form": error.render(locale)},
                     values={"code_text": text[:4096]})
    card = ConvertedCard(
        qr_svg=codes.inline_svg(done.text), text=done.text,
        whose=codes.whose_code(get_settings().jurisdiction, locale=locale),
        original=tr(locale, _("Converted from a {code}"),
                    code=codes.whose_code(done.original_issuer, locale=locale)),
        holder=f"{done.initials} · {done.document}", valid_until=done.valid_until)
    return _page(request, session, converted=card)


@router.post("/convert/text")
def convert_text(request: Request, session: DbSession, now: Now, form: PageForm) -> Response:
    """Convert a code pasted (or read by the camera) as text."""
    return _convert(request, session, now, text_fields(form, ["code_text"])["code_text"])


@router.post("/convert/photo")
def convert_photo(request: Request, session: DbSession, now: Now, form: PageForm) -> Response:
    """Convert the code in an uploaded photo or screenshot."""
    upload = form.get("photo")
    locale = page_locale(request)
    if not isinstance(upload, UploadFile):
        return _page(request, session, 422,
                     errors={"photo": tr(locale, _("Choose a photo of the code."))})
    try:
        text = codes.decode_photo(upload.file.read(_MAX_PHOTO_BYTES))
    except BorderpassError as error:
        return _page(request, session, error.status,
                     errors={error.field or "form": error.render(locale)})
    return _convert(request, session, now, text)
