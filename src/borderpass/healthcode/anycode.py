"""Any health code a traveller may hold, verified offline with one result shape: ours
(``BPHC1:``), an EU DCC (``HC1:``) or a SMART Health Card (``shc:/``, chunks in any order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from borderpass.healthcode.lists import Federation, TrustStore
from borderpass.healthcode.verifier import Verdict, verify
from borderpass.worldcodes import detect
from borderpass.worldcodes.dcc import verify_dcc
from borderpass.worldcodes.result import CANNOT_VERIFY, INVALID, Result, Steps, Summary
from borderpass.worldcodes.shc import verify_shc
from borderpass.worldcodes.trust import DccTrust, ShcIssuers

__all__ = ["OWN_STEPS", "Trust", "from_verdict", "verify_any"]

# Our codes' steps, and the step each of the verifier's reasons belongs to.
OWN_STEPS = ("prefix", "base45", "zlib", "cose", "signature", "cbor", "issuer", "expiry",
             "revocation")
_REASON_STEP = {
    "too_long": "prefix", "bad_prefix": "prefix", "bad_base45": "base45",
    "bad_compression": "zlib", "bad_cose": "cose", "unsupported_algorithm": "cose",
    "bad_cbor": "cose", "trust_list_stale": "signature", "unknown_issuer": "signature",
    "bad_signature": "signature", "bad_claims": "cbor", "unsupported_version": "cbor",
    "wrong_issuer": "issuer", "key_not_valid": "issuer", "not_yet_valid": "expiry",
    "expired": "expiry", "revocation_list_stale": "revocation", "revoked": "revocation",
}


@dataclass(frozen=True)
class Trust:
    """What a verifier trusts: our lists, DCC document signers, SMART Health Card issuers.

    A format without its trust material is read as far as it can be and ends in
    ``cannot_verify``.
    """

    own: TrustStore | Federation | None = None
    dcc: DccTrust = field(default_factory=DccTrust)
    shc: ShcIssuers = field(default_factory=ShcIssuers)
    prefix: str = "BPHC1:"


def from_verdict(verdict: Verdict) -> Result:
    """Give our verifier's verdict the one result shape, its fields kept beside the steps."""
    steps = Steps(OWN_STEPS)
    failed = _REASON_STEP.get(verdict.reason or "", "prefix")
    for name in OWN_STEPS:
        if verdict.reason is None:
            steps.passed(name)
        elif name == failed:
            if verdict.result == CANNOT_VERIFY:
                steps.unknown(verdict.reason)
            else:
                steps.failed(name, verdict.reason)
            break
        else:
            steps.passed(name)
    if verdict.reason is not None and steps.reason is None:
        steps.unknown(verdict.reason)
    holder = verdict.holder or {}
    summary = Summary(holder.get("initials"), None, verdict.issued_at, verdict.valid_until) \
        if verdict.holder else None
    return Result("borderpass", verdict.result, verdict.reason, issuer=verdict.issuer,
                  subject=holder.get("initials"), steps=dict(steps.outcomes),
                  summarise=(lambda: summary) if summary else None, extra=verdict.as_json())


def verify_any(texts: Sequence[str], trust: Trust, *, at: datetime) -> Result:
    """Check any code offline at ``at``: its format is told from its text.

    Args:
        texts: one QR text, or the chunks of one SMART Health Card in any order.
        trust: the trust material of each format.
        at: the instant to judge validity at.

    Returns:
        a result with the format's steps; ``invalid`` with reason ``unknown_format`` for a
        text of no format we read.
    """
    # Texts are passed on as scanned: a space is a Base45 character, so a DCC or one of our
    # codes may end with one; each verifier ignores the one line end a scanner adds.
    kind = detect(texts, own_prefix=trust.prefix)
    if kind == "shc":
        return verify_shc(texts, trust.shc, now=at)
    if kind == "dcc":
        return verify_dcc(texts[0], trust.dcc, now=at)
    if kind == "borderpass":
        if trust.own is None:
            return Result("borderpass", CANNOT_VERIFY, "no_trust_list",
                          steps=dict.fromkeys(OWN_STEPS))
        return from_verdict(verify(texts[0], trust.own, now=at, prefix=trust.prefix))
    return Result("unknown", INVALID, "unknown_format" if len(texts) == 1 else "several_texts")
