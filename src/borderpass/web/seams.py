"""Where the health code and rule pages meet the health code and rules services.

The pages in ``web/frames.py`` (today's code, the printable code, the scanner, the
dashboard chart and the rule sets) are complete frames: navigation, forms, roles,
CSRF, translations and the display of a result. What they show comes from the
functions below, which are the only place that needs the ``healthcode`` and ``rules``
services. Until those services exist each function says so honestly: it returns
nothing to show (``None`` or an empty list) or raises ``NotYetAvailable``, and the page
tells the person in their language.

To connect them, replace the body of each function with a call to the service; keep
the signatures and the returned types, which the templates and tests rely on:

=========================  ==========================================================
function                   fill in with
=========================  ==========================================================
``todays_code``            healthcode: issue (or reuse) today's signed code; the QR as
                           SVG (segno), the colour, valid-until, and the reasons of
                           the status (rules) in the page's language with what to do
``refresh_code``           healthcode: re-evaluate the status and reissue the code
``code_pdf``               healthcode: the day's code as a one-page PDF
``verify_scanned``         healthcode: verify a scanned token offline with the last
                           trust list and revocation list
``decode_photo``           zxing-cpp: read the QR in an uploaded photo
``codes_issued_per_day``   healthcode: codes issued per Hong Kong day by colour
``rule_sets``              rules: the rule sets on file, the active one marked
``load_rule_set``          rules: check and store a rule set (JSON)
``activate_rule_set``      rules: make a rule set the active one
=========================  ==========================================================
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from sqlalchemy.orm import Session

from borderpass.kit.errors import BorderpassError
from borderpass.kit.i18n import _

__all__ = [
    "CodeCard",
    "DayCount",
    "NotYetAvailable",
    "RuleSetRow",
    "ScanResult",
    "activate_rule_set",
    "code_pdf",
    "codes_issued_per_day",
    "decode_photo",
    "load_rule_set",
    "refresh_code",
    "rule_sets",
    "todays_code",
    "verify_scanned",
]

Colour = Literal["green", "amber", "red"]


class NotYetAvailable(BorderpassError):
    code = "not_yet_available"
    status = 503
    message = _("This service is not available yet. Please try again later.")


@dataclass(frozen=True)
class CodeCard:
    """Today's code as the resident's page shows it."""

    colour: Colour
    qr_svg: str  # an SVG document made by the platform (segno), shown as is
    valid_until: datetime
    reasons: list[str] = field(default_factory=list)  # in the page's language
    next_steps: list[str] = field(default_factory=list)  # in the page's language


@dataclass(frozen=True)
class ScanResult:
    """What a border officer sees after verifying a code."""

    valid: bool
    colour: Colour | None
    initials: str
    document_masked: str
    valid_until: datetime | None
    problem: str | None = None  # in the page's language, when not valid


@dataclass(frozen=True)
class DayCount:
    """Codes issued on one Hong Kong day, by colour."""

    day: date
    green: int
    amber: int
    red: int


@dataclass(frozen=True)
class RuleSetRow:
    """A rule set on file."""

    id: uuid.UUID
    name: str
    version: str
    loaded_at: datetime
    active: bool


def todays_code(
    session: Session, person_id: uuid.UUID, *, locale: str, now: datetime
) -> CodeCard | None:
    """Return today's code of a resident, or ``None`` while no code can be issued."""
    return None


def refresh_code(session: Session, person_id: uuid.UUID, *, now: datetime) -> None:
    """Re-evaluate a resident's status and reissue today's code."""
    raise NotYetAvailable()


def code_pdf(session: Session, person_id: uuid.UUID, *, locale: str, now: datetime) -> bytes:
    """Return today's code of a resident as a printable PDF."""
    raise NotYetAvailable()


def verify_scanned(session: Session, text: str, *, locale: str, now: datetime) -> ScanResult:
    """Verify the text of a scanned code offline."""
    raise NotYetAvailable()


def decode_photo(content: bytes) -> str:
    """Return the text of the QR code in a photo."""
    raise NotYetAvailable()


def codes_issued_per_day(session: Session, *, days: int, now: datetime) -> list[DayCount]:
    """Return the codes issued on each of the last ``days`` Hong Kong days, by colour."""
    return []


def rule_sets(session: Session) -> list[RuleSetRow]:
    """Return the rule sets on file, newest first."""
    return []


def load_rule_set(
    session: Session, content: bytes, *, officer: uuid.UUID, now: datetime
) -> RuleSetRow:
    """Check and store a rule set given as JSON."""
    raise NotYetAvailable()


def activate_rule_set(
    session: Session, rule_set_id: uuid.UUID, *, officer: uuid.UUID, now: datetime
) -> RuleSetRow:
    """Make a rule set the one in force."""
    raise NotYetAvailable()
