"""Conversion: a partner's green code of today becomes this jurisdiction's code.

The partner's code is verified offline with the partner's lists held here (synced from
it); if it is valid, green and issued today, the health-code domain issues our own
green code, valid until the earlier of 23:59 today and the original's expiry, holding
only what the original showed (initials, masked document number and its kind) and a
reference to the original (its jurisdiction and hash). Nothing else crosses: the
partner's instance is not asked, and no test result, check-in record, address or name
is known here. When the partner revokes the original, the code converted from it is
revoked at the next sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from borderpass.crossing import partner_repository as repository
from borderpass.healthcode import service as healthcode
from borderpass.healthcode.verifier import CANNOT_VERIFY, Verdict
from borderpass.kit.clock import end_of_day, hk_date
from borderpass.kit.config import get_settings
from borderpass.kit.errors import InvalidInput
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger

__all__ = ["REFUSALS", "Conversion", "ConversionRefused", "convert", "refusal_for"]

log = get_logger(__name__)

REFUSALS = {
    "not_a_code": _("This is not a health code, or it was not read completely. Scan it again."),
    "own_code": _("This code was issued here: it needs no conversion."),
    "unknown_partner": _("This code was issued by a jurisdiction whose codes are not "
                         "recognised here."),
    "invalid_signature": _("The code's signature does not hold: it is forged or damaged."),
    "lists_stale": _("The issuing jurisdiction's lists held here are too old to check the "
                     "code. Try again later."),
    "not_yet_valid": _("The code is dated in the future. Check the device's clock."),
    "expired": _("The code has expired. Open today's code and convert that one."),
    "revoked": _("The code has been withdrawn by the jurisdiction that issued it."),
    "not_green": _("Only a green code can be converted."),
    "not_today": _("Only a code issued today can be converted."),
}

# What the verifier says, as a reason for refusing to convert.
_VERDICTS = {
    "unknown_issuer": "unknown_partner",
    "trust_list_stale": "lists_stale",
    "revocation_list_stale": "lists_stale",
    "bad_signature": "invalid_signature",
    "wrong_issuer": "invalid_signature",
    "key_not_valid": "invalid_signature",
    "not_yet_valid": "not_yet_valid",
    "expired": "expired",
    "revoked": "revoked",
}


class ConversionRefused(InvalidInput):
    """A code that cannot be converted; ``code`` is the reason (``not_green`` …)."""

    code = "conversion_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSALS[reason], code=reason, field="text")


@dataclass(frozen=True)
class Conversion:
    """Our code, issued in place of a partner's."""

    text: str
    colour: str
    issued_at: datetime
    valid_until: datetime
    original_issuer: str
    initials: str
    document: str


def refusal_for(verdict: Verdict, *, own: str, partners: set[str], now: datetime) -> str | None:
    """Return why a verified code cannot be converted, or None when it can."""
    if verdict.issuer is not None and verdict.issuer == own:
        return "own_code"
    if not verdict.valid:
        return _VERDICTS.get(verdict.reason or "",
                             "lists_stale" if verdict.result == CANNOT_VERIFY else "not_a_code")
    if verdict.issuer not in partners:
        return "unknown_partner"
    if verdict.colour != "green":
        return "not_green"
    if verdict.issued_at is None or hk_date(verdict.issued_at) != hk_date(now):
        return "not_today"
    return None


def convert(session: Session, text: str, *, now: datetime) -> Conversion:
    """Convert a partner's green code of today into our own code.

    Raises:
        ConversionRefused: the reason is the error's code: ``not_a_code``, ``own_code``,
            ``unknown_partner``, ``invalid_signature``, ``lists_stale``,
            ``not_yet_valid``, ``expired``, ``revoked``, ``not_green`` or ``not_today``.
    """
    text = text.strip()
    if not text:
        raise ConversionRefused("not_a_code")
    verdict = healthcode.verify_code(session, text, now=now)
    partners = {partner.jurisdiction for partner in repository.all_partners(session)}
    reason = refusal_for(verdict, own=get_settings().jurisdiction, partners=partners, now=now)
    if reason is not None:
        log.info("code.conversion_refused", reason=reason, issuer=verdict.issuer)
        raise ConversionRefused(reason)
    assert verdict.issuer and verdict.code_hash and verdict.valid_until  # noqa: S101 - valid
    holder = verdict.holder or {}
    valid_until = min(end_of_day(now).astimezone(UTC), verdict.valid_until)
    issued = healthcode.issue_converted(
        session, original_issuer=verdict.issuer, original_hash=verdict.code_hash,
        initials=holder.get("initials", ""), document=holder.get("document", ""),
        document_kind=holder.get("document_kind", ""), valid_until=valid_until, now=now)
    return Conversion(issued.text, issued.colour, issued.issued_at, issued.valid_until,
                      issued.original_issuer, holder.get("initials", ""),
                      holder.get("document", ""))
