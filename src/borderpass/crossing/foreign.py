"""Another issuer's health certificate presented at the crossing (docs/crossing.md).

A traveller may show an EU DCC (``HC1:``) or a SMART Health Card (``shc:/``) instead of our
own code. It is verified offline with the trust material under ``foreign_trust_dir``, a
DCC is judged by the EU acceptance rules (``rules/data/eu_dcc.json``), and its holder is
compared with what the issuing registry holds about the document presented. The policy
sees the outcome as the ``foreign.*`` facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from borderpass.healthcode.anycode import verify_any
from borderpass.healthcode.foreignscan import foreign_trust
from borderpass.kit.config import get_settings
from borderpass.rules.eu import EuRuleSet, default_eu_rule_set, judge_dcc
from borderpass.worldcodes.result import Result

__all__ = ["ForeignFacts", "foreign_facts", "is_foreign", "same_holder"]

_PREFIXES = ("HC1:", "shc:/")
_KINDS = {"Vaccination": "vaccination", "Test": "test", "Recovery": "recovery"}


@cache
def _eu_rules() -> EuRuleSet:
    # Read and compiled once: the packaged rules change only with a release.
    return default_eu_rule_set()


@dataclass(frozen=True)
class ForeignFacts:
    """What the crossing knows of another issuer's certificate.

    ``result`` is ``valid``, ``invalid`` or ``cannot_verify``; ``accepted`` says a valid
    DCC meets the EU acceptance rules (always False for an SMART Health Card, which has
    no rule set); ``kind`` is ``vaccination``, ``test`` or ``recovery``;
    ``holder_matches`` is None when the registry holds nothing of the document presented.
    """

    format: str
    result: str
    reason: str | None
    accepted: bool
    kind: str | None
    holder_matches: bool | None
    failing: tuple[str, ...] = ()


def is_foreign(text: str) -> bool:
    """Tell whether a presented text is another issuer's certificate."""
    return text.startswith(_PREFIXES)


def _tokens(name: str) -> list[str]:
    # ICAO 9303 transliteration (the DCC's ``fnt``/``gnt``) and a registry's English name
    # both come down to runs of Latin capitals; the order of given and family names varies.
    return sorted(re.findall(r"[A-Z]+", name.upper().replace("<", " ")))


def same_holder(result: Result, name_en: str, born_on: date) -> bool:
    """Tell whether a certificate names the registered holder: name and birth date.

    A DCC's birth date may be partial (``1998`` or ``1998-02``): the parts it gives must
    agree. A certificate with no birth date or no name never matches.
    """
    summary = result.summary
    if summary is None or not summary.birth_date:
        return False
    if not born_on.isoformat().startswith(summary.birth_date[:10]):
        return False
    content = result.content or {}
    names = content.get("nam") if result.format == "dcc" else None
    if isinstance(names, dict):
        written = " ".join(str(names.get(part) or "") for part in ("gnt", "fnt"))
    else:
        written = summary.name or ""
    return bool(_tokens(written)) and _tokens(written) == _tokens(name_en)


def foreign_facts(text: str, *, at: datetime,
                  holder: tuple[str, date] | None) -> ForeignFacts:
    """Verify a presented certificate and judge it by the EU rules in force at ``at``.

    Args:
        text: the QR text presented (``HC1:…`` or ``shc:/…``).
        at: the instant of the crossing.
        holder: the registered English name and birth date of the document presented,
            when known.
    """
    result = verify_any([text], foreign_trust(), at=at)
    kind = None
    summary = result.summary if result.valid else None
    if summary is not None and summary.entries:
        kind = summary.entries[0].kind
    accepted, failing = False, tuple[str, ...]()
    if result.format == "dcc" and result.valid:
        judgement = judge_dcc(result, _eu_rules(), now=at,
                              country=get_settings().jurisdiction)
        accepted = judgement.accepted
        failing = tuple(rule.identifier for rule in judgement.failing)
        kind = _KINDS.get(judgement.certificate_type or "", kind)
    matches = None if holder is None or not result.valid else same_holder(result, *holder)
    return ForeignFacts(format=result.format,
                        result=result.result, reason=result.reason, accepted=accepted,
                        kind=kind, holder_matches=matches, failing=failing)
