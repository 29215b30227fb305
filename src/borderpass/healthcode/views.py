"""What the health code pages show: today's code with its reasons and what to do, the
printable code, and a scanned code's verdict, in the page's language."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, cast
from urllib.parse import quote

from babel.dates import format_datetime
from sqlalchemy.orm import Session

from borderpass.healthcode import service as healthcode
from borderpass.healthcode.printing import code_sheet
from borderpass.healthcode.qr import qr_image
from borderpass.identity import service as identity
from borderpass.identity.schemas import Principal
from borderpass.kit.clock import HONG_KONG, hk_date
from borderpass.kit.config import get_settings
from borderpass.kit.errors import InvalidInput
from borderpass.kit.http import Writer
from borderpass.kit.i18n import _
from borderpass.kit.pages import tr
from borderpass.rules import service as rules

__all__ = [
    "CodeCard",
    "TodaysCode",
    "PhotoUnreadable",
    "NOT_A_CODE",
    "SCAN_PROBLEMS",
    "ScanResult",
    "code_pdf",
    "decode_photo",
    "inline_svg",
    "issuer_texts",
    "jurisdiction_name",
    "whose_code",
    "next_steps",
    "refresh_code",
    "scan_problem",
    "todays_code",
    "todays_state",
    "todays_state_of_token",
    "code_card",
    "verify_scanned",
]

Colour = Literal["green", "amber", "red"]
_RULE_LANGUAGE = {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans", "en": "en"}
_BABEL_LOCALE = {"zh_Hant": "zh_Hant_HK", "zh_Hans": "zh_Hans_CN", "en": "en_HK"}
_MAX_PHOTO_PIXELS = 40_000_000


class PhotoUnreadable(InvalidInput):
    code = "photo_unreadable"
    message = _("No health code could be read in this photo. Take it again, straight on, "
                "with the whole code in the picture.")


@dataclass(frozen=True)
class CodeCard:
    """Today's code as the resident's page shows it."""

    colour: Colour
    qr_svg: str  # an SVG document made by the platform (segno), shown as is
    valid_until: datetime
    reasons: list[str] = field(default_factory=list)  # in the page's language
    next_steps: list[str] = field(default_factory=list)  # in the page's language
    conversions: list[tuple[str, str]] = field(default_factory=list)
    """For a green code: (label, address) of each partner's site that converts it."""
    identity_proven: bool = True
    """False for a claimed account: the page says the identity is not proven."""


@dataclass(frozen=True)
class ScanResult:
    """What a border officer sees after verifying a code."""

    valid: bool
    colour: Colour | None
    initials: str
    document_masked: str
    valid_until: datetime | None
    problem: str | None = None  # in the page's language, when not valid
    issuer: str | None = None  # whose code it is: "Hong Kong code", in the page's language
    original: str | None = None  # for a converted code, whose code it was converted from
    identity: str | None = None
    """``claimed`` or ``proven``: the holder's identity as this server knows it (the code
    does not say); None for a code this server did not issue."""
    format: str | None = None
    """``dcc`` or ``shc`` for another issuer's certificate (the holder's name is then in
    ``initials``), None for a health code."""
    cannot_verify: bool = False
    birth_date: str | None = None
    details: tuple[str, ...] = ()
    """For another issuer's certificate: what it states, a line each, in the page's language."""


# What to do, for each rule of the packaged rule set; a rule set loaded later may name
# rules of its own, which get the general advice of their colour.
NEXT_STEPS = {
    "HK-RED-TEST-48H": _("Get tested at a community testing centre or a recognised "
                         "laboratory. Your code turns green when the negative result "
                         "arrives."),
    "HK-RED-POSITIVE": _("Stay at home and follow the instructions of the Department of "
                         "Health. Your code turns green by itself 14 days after the positive "
                         "test, if no new result says otherwise."),
    "HK-RED-FLAG": _("Follow the instructions of the health officers. Your code turns "
                     "green when they lift the isolation or quarantine."),
    "HK-RED-TESTING-ORDER": _("Get tested as the compulsory testing order requires. Your "
                              "code turns green when the negative result arrives."),
    "HK-RED-HIGH-RISK-AREA": _("Watch for symptoms and get tested if you feel unwell. Your "
                               "code turns green by itself 14 days after your visit."),
    "HK-AMBER-EXPOSURE": _("Get tested and watch for symptoms. Your code turns green by "
                           "itself 21 days after the visit."),
}
_GENERAL_STEP = {
    "red": _("Do not cross the border. Follow the instructions of the health officers."),
    "amber": _("Get tested and watch for symptoms."),
}
_CHANGES_AT = _("Unless new results arrive, your code changes by itself at {time}.")
_CHANGES_WHEN = _("Your code does not change by itself: it changes when new evidence arrives, "
                  "such as a negative test result or the end of an order.")

SCAN_PROBLEMS = {
    "expired": _("The code has expired. Ask the holder to refresh it."),
    "revoked": _("The code has been withdrawn: the holder's status has changed."),
    "not_yet_valid": _("The code is dated in the future. Check the device's clock."),
    "bad_signature": _("The signature does not match: the code is forged or damaged."),
    "wrong_issuer": _("The code names an issuer its key does not belong to."),
    "key_not_valid": _("The code was signed after its key was retired."),
    "unknown_issuer": _("The code was signed by a key that is not on the trust list."),
    "trust_list_stale": _("The trust list is too old. Connect to the network to fetch a new "
                          "one."),
    "revocation_list_stale": _("The revocation list is too old. Connect to the network to "
                               "fetch a new one."),
    "wrong_anchor": _("The lists were not signed by this site's anchor key. Connect to the "
                      "network to fetch this site's lists."),
}
NOT_A_CODE = _("This is not a health code, or it was not read completely. Scan it again.")


def _hk_time(value: datetime, locale: str) -> str:
    return format_datetime(value.astimezone(HONG_KONG), "medium", tzinfo=HONG_KONG,
                           locale=_BABEL_LOCALE.get(locale, "en_HK"))


def next_steps(rule_ids: list[str], colour: str, *, locale: str) -> list[str]:
    """Return what a resident should do about the rules their status fails, in plain words."""
    steps: list[str] = []
    for rule_id in rule_ids:
        step = NEXT_STEPS.get(rule_id, _GENERAL_STEP.get(colour, ""))
        if step and tr(locale, step) not in steps:
            steps.append(tr(locale, step))
    if not steps and colour in _GENERAL_STEP:
        steps.append(tr(locale, _GENERAL_STEP[colour]))
    return steps


def _changes_by_facts(session: Session, changes_at: datetime) -> bool:
    """Say whether a status changes at ``changes_at`` because of the person's facts (a
    result growing too old, the end of an isolation), rather than because a rule comes
    into or goes out of force: the end of a rule set's validity is no news to a resident."""
    edges = rules.active_rule_set(session).edges
    # Evaluation reports a change at a rule's edge or one millisecond after it.
    return not any(abs(changes_at - edge) <= timedelta(milliseconds=1) for edge in edges)


def _explained(session: Session, issued: healthcode.IssuedCode, *, locale: str,
               now: datetime) -> tuple[list[str], list[str]]:
    if issued.colour == "green":
        return [], []
    view = rules.status_view(issued.status, now=now)
    language = _RULE_LANGUAGE.get(locale, "en")
    reasons = [reason.description.get(language) or reason.description.get("en") or reason.rule
               for reason in view.reasons]
    steps = next_steps([reason.rule for reason in view.reasons], issued.colour, locale=locale)
    if view.changes_at is not None and _changes_by_facts(session, view.changes_at):
        steps.append(tr(locale, _CHANGES_AT, time=_hk_time(view.changes_at, locale)))
    elif not any(reason.rule in NEXT_STEPS for reason in view.reasons):
        steps.append(tr(locale, _CHANGES_WHEN))  # the general advice does not say it
    return reasons, steps


@dataclass(frozen=True)
class TodaysCode:
    """Today's code of a resident as read, before it is put in words (``code_card``)."""

    shown: healthcode.ShownCode
    sites: tuple[tuple[str, str], ...]
    """For a green code: (jurisdiction, site) of each partner that converts it."""
    key: tuple[object, ...] | None
    """Everything the card shows depends on, when the code was read from a saved status
    that provably holds (None when it was evaluated for this view): two reads with the
    same key give the same card, in any one language."""


def todays_state(session: Session, person_id: uuid.UUID, *, now: datetime,
                 writer: Writer) -> TodaysCode | None:
    """Read today's code of a resident, or ``None`` while no code can be issued."""
    try:
        shown = healthcode.shown_code(session, person_id, now=now, writer=writer)
    except healthcode.NotActive:
        return None
    return _todays(session, person_id, shown, now)


def todays_state_of_token(
    session: Session, token_hash: str, *, now: datetime,
    admit: Callable[[Sequence[Any]], Principal | None],
) -> tuple[Principal, TodaysCode] | None:
    """Read today's code of the resident an access token names, and who that is, with the
    token checked in the same query (``healthcode.shown_code_of_token``): ``admit``
    authenticates the token's values. None when it was not read so (the token is not
    admitted, or the code is not read from a saved status that holds): authenticate
    and ``todays_state`` then, which say why."""
    admitted: list[Principal] = []

    def admits(values: Sequence[Any]) -> bool:
        caller = admit(values)
        if caller is not None:
            admitted.append(caller)
        return caller is not None

    try:
        shown = healthcode.shown_code_of_token(session, token_hash, now=now, admits=admits)
    except healthcode.NotActive:
        return None
    if shown is None:
        return None
    caller = admitted[0]
    return caller, _todays(session, caller.id, shown, now)


def _todays(session: Session, person_id: uuid.UUID, shown: healthcode.ShownCode,
            now: datetime) -> TodaysCode:
    issued = shown.issued
    sites = tuple(healthcode.partner_sites(session)) if issued.colour == "green" else ()
    key = None
    if shown.basis is not None:
        status = issued.status
        key = (person_id, hk_date(now), issued.text, issued.colour, issued.valid_until,
               shown.proven, shown.basis, status.colour, status.changes_at,
               status.rule_ids, sites)
    return TodaysCode(shown, sites, key)


def code_card(session: Session, state: TodaysCode, *, locale: str, now: datetime) -> CodeCard:
    """Put today's code of a resident in words, in the page's language."""
    issued = state.shown.issued
    reasons, steps = _explained(session, issued, locale=locale, now=now)
    # The code travels in the address's fragment, which browsers never send to a server.
    conversions = [(tr(locale, _("Convert to a {jurisdiction} code"),
                       jurisdiction=jurisdiction_name(jurisdiction, locale=locale)),
                    f"{site}/convert#code={quote(issued.text, safe='')}")
                   for jurisdiction, site in state.sites]
    return CodeCard(colour=cast(Colour, issued.colour), qr_svg=_inline_svg(issued.text),
                    valid_until=issued.valid_until, reasons=reasons, next_steps=steps,
                    conversions=conversions, identity_proven=state.shown.proven)


def todays_code(
    session: Session, person_id: uuid.UUID, *, locale: str, now: datetime, writer: Writer,
    state: TodaysCode | None = None,
) -> CodeCard | None:
    """Return today's code of a resident, or ``None`` while no code can be issued.

    ``state``: what ``todays_state`` read of it already, if it was read.
    """
    if state is None:
        state = todays_state(session, person_id, now=now, writer=writer)
    return code_card(session, state, locale=locale, now=now) if state is not None else None


JURISDICTIONS = {"HK": _("Hong Kong"), "GD": _("Guangdong"), "MO": _("Macau")}


def jurisdiction_name(code: str, *, locale: str) -> str:
    """Name a jurisdiction in the page's language (its code when it has no name here)."""
    name = JURISDICTIONS.get(code)
    return tr(locale, name) if name else code


def whose_code(code: str, *, locale: str) -> str:
    """Say whose code it is: "Hong Kong code", in the page's language."""
    return tr(locale, _("{jurisdiction} code"), jurisdiction=jurisdiction_name(code,
                                                                              locale=locale))


def issuer_texts(*, locale: str) -> dict[str, tuple[str, str]]:
    """For the scanner on the device: for each jurisdiction with a name here and ours,
    "Hong Kong code" and "Converted from a Hong Kong code", in the page's language."""
    codes = {*JURISDICTIONS, get_settings().jurisdiction}
    return {code: (whose_code(code, locale=locale),
                   tr(locale, _("Converted from a {code}"),
                      code=whose_code(code, locale=locale)))
            for code in sorted(codes)}


def inline_svg(text: str) -> str:
    """Return a code's QR code as an SVG element that scales to the width the page gives it."""
    return _inline_svg(text)


@lru_cache(maxsize=512)
def _inline_svg(text: str) -> str:
    """Return the QR code as an SVG element that scales to the width the page gives it.

    Kept for the last codes shown: a code is the same image all its life, and a resident
    looks at it again and again.
    """
    svg = qr_image(text, "svg", scale=1).decode()
    svg = svg[svg.index("<svg"):]  # the document's XML declaration does not belong in HTML
    size = re.search(r' width="(\d+)" height="(\d+)"', svg)
    if size is not None:
        svg = svg.replace(size.group(0), f' viewBox="0 0 {size.group(1)} {size.group(2)}"'
                          ' shape-rendering="crispEdges"', 1)
    return svg


def refresh_code(session: Session, person_id: uuid.UUID, *, now: datetime) -> None:
    """Re-evaluate a resident's status and reissue today's code."""
    healthcode.reevaluate(session, [person_id], now=now)
    healthcode.issue(session, person_id, now=now)


def code_pdf(session: Session, person_id: uuid.UUID, *, locale: str, now: datetime,
             writer: Writer) -> bytes:
    """Return today's code of a resident as a printable PDF."""
    issued = healthcode.todays_code(session, person_id, now=now, writer=writer)
    person = identity.get_person(session, person_id)
    reasons, steps = _explained(session, issued, locale=locale, now=now)
    colour_name = {"green": _("Green code"), "amber": _("Amber code"), "red": _("Red code")}
    colour_text = tr(locale, colour_name[issued.colour])
    valid_until = _hk_time(issued.valid_until, locale)
    return code_sheet(
        locale=locale, qr_png=qr_image(issued.text, "png", scale=8), colour=issued.colour,
        qr_alt=tr(locale, _("QR code of the health code: {colour}, valid until {time}, for "
                            "a border officer to scan."), colour=colour_text, time=valid_until),
        title=tr(locale, _("Health Code")), colour_text=colour_text,
        holder=f"{person.initials} · {person.doc_masked}",
        valid_text=tr(locale, _("Valid until {time}"), time=valid_until),
        printed_text=tr(locale, _("Printed at {time}. Print a new one each day."),
                        time=_hk_time(now, locale)),
        notes=reasons + steps,
    )


def scan_problem(reason: str | None, *, locale: str) -> str:
    """Say in plain words why a scanned code is not valid."""
    return tr(locale, SCAN_PROBLEMS.get(reason or "", NOT_A_CODE))


def verify_scanned(session: Session, text: str, *, locale: str, now: datetime) -> ScanResult:
    """Verify the text of a scanned code offline, and say whether this server knows its
    holder's identity as proven."""
    if text.strip().startswith(("HC1:", "shc:/")):  # another issuer's certificate
        from borderpass.healthcode.foreignscan import verify_foreign_scanned

        return verify_foreign_scanned(text.strip(), locale=locale, now=now)
    verdict = healthcode.verify_code(session, text.strip(), now=now)
    holder = verdict.holder or {}
    known = healthcode.identity_of_code(session, verdict.code_hash) \
        if verdict.code_hash and verdict.issuer == get_settings().jurisdiction else None
    issuer = whose_code(verdict.issuer, locale=locale) if verdict.issuer else None
    original = (tr(locale, _("Converted from a {code}"), code=whose_code(
        verdict.original["issuer"], locale=locale)) if verdict.original else None)
    if verdict.valid:
        return ScanResult(valid=True, colour=cast(Colour, verdict.colour),
                          initials=holder.get("initials", ""),
                          document_masked=holder.get("document", ""),
                          valid_until=verdict.valid_until, issuer=issuer, original=original,
                          identity=known)
    return ScanResult(valid=False, colour=None, initials=holder.get("initials", ""),
                      document_masked=holder.get("document", ""),
                      valid_until=verdict.valid_until,
                      problem=scan_problem(verdict.reason, locale=locale), issuer=issuer,
                      original=original, identity=known)


def decode_photo(content: bytes) -> str:
    """Return the text of the QR code in a photo.

    Raises:
        PhotoUnreadable: the photo cannot be read or holds no QR code.
    """
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        picture = Image.open(io.BytesIO(content))
        if picture.width * picture.height > _MAX_PHOTO_PIXELS:
            raise PhotoUnreadable(field="photo")
        picture.load()
        found = zxingcpp.read_barcodes(picture.convert("L"))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        raise PhotoUnreadable(field="photo") from None
    texts = [code.text for code in found if code.valid and code.text]
    if not texts:
        raise PhotoUnreadable(field="photo")
    prefix = get_settings().code_prefix
    return next((text for text in texts if text.startswith(prefix)), texts[0])
