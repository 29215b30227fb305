"""The scanner's view of another issuer's certificate: an EU DCC or a SMART Health Card,
verified with the trust material under ``foreign_trust_dir`` (``dcc/``, ``shc/``)."""

from __future__ import annotations

from datetime import datetime

from borderpass.healthcode.anycode import Trust, verify_any
from borderpass.healthcode.views import NOT_A_CODE, ScanResult
from borderpass.kit.config import get_settings
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.pages import tr
from borderpass.worldcodes.result import CANNOT_VERIFY, Entry, Result
from borderpass.worldcodes.trust import DccTrust, ShcIssuers, TrustMaterialError

__all__ = ["FORMAT_NAMES", "foreign_trust", "verify_foreign_scanned"]

log = get_logger(__name__)

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


def foreign_trust() -> Trust:
    """Read the scanner's trust material for other issuers from the settings' folder.

    A folder that is missing or cannot be read trusts nobody (and says so in the log).
    """
    settings = get_settings()
    folder = settings.foreign_trust_dir or settings.var_dir / "foreign"
    dcc, shc = DccTrust(), ShcIssuers()
    try:
        if (folder / "dcc").is_dir():
            dcc = DccTrust.load([folder / "dcc"])
        if (folder / "shc").is_dir():
            shc = ShcIssuers.load(folder / "shc")
    except TrustMaterialError as error:
        log.warning("foreign_trust.unreadable", folder=str(folder), reason=error.reason,
                    problem=str(error))
    return Trust(dcc=dcc, shc=shc, prefix=settings.code_prefix)


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
