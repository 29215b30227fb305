"""The scanner's view of another issuer's certificate: an EU DCC or a SMART Health Card,
verified with the trust material under ``foreign_trust_dir`` (``dcc/``, ``shc/``)."""

from __future__ import annotations

from datetime import datetime

from borderpass.healthcode.anycode import verify_any
from borderpass.healthcode.foreignlist import foreign_trust
from borderpass.healthcode.views import NOT_A_CODE, ScanResult
from borderpass.kit.i18n import _
from borderpass.kit.pages import tr
from borderpass.worldcodes.result import CANNOT_VERIFY, Entry, Result

__all__ = ["FORMAT_NAMES", "foreign_trust", "verify_foreign_scanned"]

FORMAT_NAMES = {"dcc": _("EU Digital COVID Certificate"), "shc": _("SMART Health Card")}
KINDS = {"vaccination": _("Vaccination"), "test": _("Test"), "recovery": _("Recovery")}
# Steps that only read the text: failing one of them, it is not a certificate at all.
_READING = {"prefix", "base45", "zlib", "cose", "numeric", "jws"}
PROBLEMS = {
    CANNOT_VERIFY: _("The signer of this certificate is not among those this scanner "
                     "trusts: it cannot be verified here."),
    "expired": _("The certificate has expired."),
    "not_yet_valid": _("The certificate is not valid yet."),
    "revoked": _("The certificate has been revoked."),
    "wrong_key_usage": _("The signer of this certificate may not sign this kind of "
                         "certificate."),
}
OTHER_PROBLEM = _("The certificate is not valid: its signature or its content does not "
                  "check.")


def _line(entry: Entry, locale: str) -> str:
    parts = [entry.disease, entry.product, entry.dose, entry.result]
    if entry.valid_from or entry.valid_until:
        parts.append(f"{entry.valid_from or '…'} – {entry.valid_until or '…'}")
    parts.extend([entry.country, entry.issuer])
    said = " · ".join(part for part in parts if part)
    return f"{tr(locale, KINDS.get(entry.kind, entry.kind))} {entry.date or ''}: {said}"


def _problem(result: Result, locale: str) -> str | None:
    if result.valid:
        return None
    if result.result == CANNOT_VERIFY:
        return tr(locale, PROBLEMS[CANNOT_VERIFY])
    return tr(locale, PROBLEMS.get(result.reason or "", OTHER_PROBLEM))


def verify_foreign_scanned(text: str, *, locale: str, now: datetime) -> ScanResult:
    """Verify another issuer's certificate offline and say what it states."""
    result = verify_any([text], foreign_trust(), at=now)
    if any(result.steps.get(step) is False for step in _READING):
        return ScanResult(valid=False, colour=None, initials="", document_masked="",
                          valid_until=None, problem=tr(locale, NOT_A_CODE))
    summary = result.summary
    name = tr(locale, FORMAT_NAMES.get(result.format, result.format))
    return ScanResult(
        valid=result.valid, colour=None, initials=(summary.name or "") if summary else "",
        document_masked="", valid_until=summary.expires_at if summary else None,
        problem=_problem(result, locale),
        issuer=f"{name} · {result.issuer}" if result.issuer else name,
        format=result.format, cannot_verify=result.result == CANNOT_VERIFY,
        birth_date=summary.birth_date if summary else None,
        details=tuple(_line(entry, locale) for entry in summary.entries) if summary else ())
