"""The SMART Health Cards verifier (docs/formats/shc.md).

``shc:/`` + the JWS in numeric mode (two digits a character), or chunks
``shc:/C/N/…`` scanned in any order; the JWS is compact, its payload raw-DEFLATEd JSON,
signed with ES256 by a key of the issuer named in ``iss``. Checked in this order, each
step giving True, False, or None when not reached:

``prefix`` (the texts and their chunk numbers), ``numeric`` (digit pairs to characters),
``jws`` (three parts, the header says ES256, DEF and a key id), ``deflate``, ``payload``
(``iss``, ``nbf``, ``vc`` with a FHIR bundle), ``signature`` (by the key its ``kid`` names,
of the issuer ``iss`` names), ``expiry`` (``nbf <= now``, and ``now <= exp`` when present),
``revocation`` (the card's ``rid`` against the key's revocation list) and ``fhir`` (the
bundle names a patient; it is summarised).

Untrusted text never raises: every problem is a step that failed, with a reason code.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from borderpass.kit.decoding import DecodeError, b64url_decode, load_json, without_line_end
from borderpass.kit.signing.foreign import SigningError, inflate_whole, verify_jws_es256
from borderpass.worldcodes.result import Entry, Result, Steps, Summary
from borderpass.worldcodes.trust import IssuerKey, ShcIssuers
from borderpass.worldcodes.valuesets import display

__all__ = ["FORMAT", "PREFIX", "STEPS", "assemble", "verify_shc"]

FORMAT = "shc"
PREFIX = "shc:/"
STEPS = ("prefix", "numeric", "jws", "deflate", "payload", "signature", "expiry",
         "revocation", "fhir")
HEALTH_CARD = "https://smarthealth.cards#health-card"
_MAX_CHUNKS = 20
_MAX_TEXT = 8192
_MAX_INFLATED = 256 * 1024
_CHUNK = re.compile(r"shc:/([1-9][0-9]?)/([1-9][0-9]?)/([0-9]*)")
_SINGLE = re.compile(r"shc:/([0-9]*)")
_RID = re.compile(r"[A-Za-z0-9_-]{1,24}")
_CVX = "http://hl7.org/fhir/sid/cvx"


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def assemble(texts: Sequence[str]) -> str:
    """Return the digits of a card from its QR texts: one, or every chunk in any order.

    Raises:
        ValueError: with a reason code (``bad_prefix``, ``bad_chunks``, ``missing_chunks``,
            ``too_long``) when the texts are not one whole card.
    """
    if not texts or len(texts) > _MAX_CHUNKS:
        raise ValueError("bad_chunks")
    if any(not isinstance(text, str) for text in texts):
        raise ValueError("bad_prefix")
    if any(len(text) > _MAX_TEXT for text in texts):
        raise ValueError("too_long")
    lines = [without_line_end(text) for text in texts]
    if any(not line.startswith(PREFIX) for line in lines):
        raise ValueError("bad_prefix")
    if len(lines) == 1 and (single := _SINGLE.fullmatch(lines[0])):
        return single.group(1)
    chunks: dict[int, str] = {}
    totals = set()
    for line in lines:
        match = _CHUNK.fullmatch(line)
        if match is None:
            raise ValueError("bad_chunks")
        index, total = int(match.group(1)), int(match.group(2))
        if index > total or index in chunks:
            raise ValueError("bad_chunks")
        chunks[index] = match.group(3)
        totals.add(total)
    if len(totals) != 1:
        raise ValueError("bad_chunks")
    if len(chunks) != totals.pop():
        raise ValueError("missing_chunks")
    return "".join(chunks[index] for index in sorted(chunks))


# Each pair of digits is a character's code point less 45 ("-"), from 00 to 77 ("z"). The
# pairs are read as bytes, a whole text at once (a card has some 800 of them).
_TENS = bytes((n - 48) * 10 if 48 <= n <= 57 else 100 for n in range(256))
_ONES = bytes(n - 48 if 48 <= n <= 57 else 100 for n in range(256))
_SHIFT = bytes(n + 45 if n <= 77 else 0 for n in range(256))


def _characters(digits: str) -> str:
    raw = digits.encode("ascii", "replace")
    if not raw or len(raw) % 2:
        raise _Refused("bad_numeric")
    values = bytes(map(operator.add, raw[0::2].translate(_TENS), raw[1::2].translate(_ONES)))
    if max(values) > ord("z") - 45:
        raise _Refused("bad_numeric")
    return values.translate(_SHIFT).decode("ascii")


def _jws(compact: str) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """Return the header, the compressed payload, the signing input and the signature."""
    parts = compact.split(".")
    if len(parts) != 3:
        raise _Refused("bad_jws")
    try:
        header = load_json(b64url_decode(parts[0]))
        payload = b64url_decode(parts[1])
        signature = b64url_decode(parts[2], size=64)
    except DecodeError:
        raise _Refused("bad_jws") from None
    if not isinstance(header, dict) or "crit" in header:
        raise _Refused("bad_jws")
    if header.get("alg") != "ES256":
        raise _Refused("unsupported_algorithm")
    if header.get("zip") != "DEF" or not isinstance(header.get("kid"), str):
        raise _Refused("bad_jws")
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _inflate(compressed: bytes) -> bytes:
    try:
        return inflate_whole(compressed, _MAX_INFLATED, raw=True)
    except SigningError:
        raise _Refused("bad_deflate") from None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0 <= value < 2**37:
        raise _Refused("bad_payload")
    return float(value)


def _payload(inflated: bytes) -> dict[str, Any]:
    try:
        payload = load_json(inflated)
    except DecodeError:
        raise _Refused("bad_payload") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("iss"), str):
        raise _Refused("bad_payload")
    _number(payload.get("nbf"))
    if "exp" in payload:
        _number(payload["exp"])
    vc = payload.get("vc")
    if not isinstance(vc, dict) or not isinstance(vc.get("type"), list) \
            or HEALTH_CARD not in vc["type"]:
        raise _Refused("bad_payload")
    subject = vc.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("fhirBundle"), dict):
        raise _Refused("bad_payload")
    if "rid" in vc and not (isinstance(vc["rid"], str) and _RID.fullmatch(vc["rid"])):
        raise _Refused("bad_payload")
    return payload


def _signature(header: dict[str, Any], signing_input: bytes, signature: bytes,
               payload: dict[str, Any] | None, issuers: ShcIssuers,
               steps: Steps) -> IssuerKey | None:
    """Check the signature with the key ``kid`` names; return the issuer's key if it holds.

    A key id is a thumbprint: one key has one, whoever lists it. A key no trusted issuer
    lists is unknown, and so the card cannot be verified, unless it names a trusted
    issuer, which does not list it: that is a refusal.
    """
    candidates = issuers.keys.get(header["kid"], ())
    iss = payload["iss"] if payload is not None else None
    if not candidates:
        if iss in issuers.issuers:
            steps.failed("signature", "unknown_key")
        else:
            steps.unknown("unknown_issuer")
        return None
    if not verify_jws_es256(signing_input, signature, candidates[0].key):
        steps.failed("signature", "bad_signature")
        return None
    if payload is None:
        steps.passed("signature")
        return None
    match = next((candidate for candidate in candidates if candidate.iss == iss), None)
    if match is None:
        steps.failed("signature", "wrong_issuer")
        return None
    steps.passed("signature")
    return match


def _expiry(payload: dict[str, Any], now: datetime, steps: Steps) -> None:
    stamp = now.timestamp()
    if stamp < payload["nbf"]:
        steps.failed("expiry", "not_yet_valid")
    elif "exp" in payload and stamp > payload["exp"]:
        steps.failed("expiry", "expired")
    else:
        steps.passed("expiry")


def _revocation(key: IssuerKey, payload: dict[str, Any], issuers: ShcIssuers,
                steps: Steps) -> None:
    if key.crl_version is None:  # the issuer keeps no revocation list for this key
        steps.passed("revocation")
        return
    revocations = issuers.revocations.get((key.iss, key.key.kid))
    if revocations is None:
        steps.unknown("revocation_list_missing")
    elif revocations.ctr < key.crl_version:
        steps.unknown("revocation_list_stale")
    elif (rid := payload["vc"].get("rid")) is not None \
            and revocations.revokes(rid, payload["nbf"]):
        steps.failed("revocation", "revoked")
    else:
        steps.passed("revocation")


def verify_shc(texts: Sequence[str], issuers: ShcIssuers, *, now: datetime) -> Result:
    """Check a SMART Health Card's QR text(s) offline with the trusted issuers at ``now``.

    Args:
        texts: the numeric QR text, or the texts of all its chunks in any order; one line
            end after each is ignored.
        issuers: the trusted issuers' keys and revocation lists.
        now: the instant to judge validity at.

    Returns:
        a result of format ``shc`` whose steps are those of ``STEPS``; ``cannot_verify``
        when no step failed but the issuer is unknown or its revocation list is missing.
    """
    steps = Steps(STEPS)
    try:
        digits = assemble(texts)
    except ValueError as error:
        steps.failed("prefix", str(error))
        return _result(steps)
    steps.passed("prefix")
    try:
        compact = _characters(digits)
        steps.passed("numeric")
        header, compressed, signing_input, signature = _jws(compact)
    except _Refused as error:
        steps.failed("numeric" if error.reason == "bad_numeric" else "jws", error.reason)
        return _result(steps)
    steps.passed("jws")
    payload: dict[str, Any] | None = None
    try:
        inflated = _inflate(compressed)
        steps.passed("deflate")
        payload = _payload(inflated)
        steps.passed("payload")
    except _Refused as error:
        steps.failed("deflate" if error.reason == "bad_deflate" else "payload", error.reason)
    key = _signature(header, signing_input, signature, payload, issuers, steps)
    if payload is None:
        return _result(steps, kid=header["kid"])
    summary = _summary(payload)
    if summary is None:
        steps.failed("fhir", "bad_fhir")
    else:
        steps.passed("fhir")
    if key is not None:
        _expiry(payload, now, steps)
        _revocation(key, payload, issuers, steps)
    return _result(steps, kid=header["kid"], payload=payload, summary=summary)


def _result(steps: Steps, *, kid: str | None = None, payload: dict[str, Any] | None = None,
            summary: Summary | None = None) -> Result:
    return Result(FORMAT, steps.result, steps.reason,
                  issuer=payload["iss"] if payload else None,
                  subject=summary.name if summary else None, steps=dict(steps.outcomes),
                  summarise=(lambda: summary) if summary else None,
                  content=payload["vc"] if payload else None,
                  extra={"kid": kid} if kid is not None else {})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _first(value: Any) -> dict[str, Any]:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return {}


def _summary(payload: dict[str, Any]) -> Summary | None:
    """Summarise the FHIR bundle: the patient and each immunization and lab result.

    Returns None when the bundle names no patient.
    """
    bundle = payload["vc"]["credentialSubject"]["fhirBundle"]
    entries = bundle.get("entry")
    if bundle.get("resourceType") != "Bundle" or not isinstance(entries, list):
        return None
    resources: list[dict[str, Any]] = [
        entry["resource"] for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)]
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), None)
    if patient is None:
        return None
    name = _first(patient.get("name"))
    given = name.get("given")
    parts = [part for part in (given if isinstance(given, list) else []) if isinstance(part, str)]
    if isinstance(name.get("family"), str):
        parts.append(name["family"])
    stated = []
    for resource in resources:
        if resource.get("resourceType") == "Immunization":
            stated.append(_immunization(resource))
        elif resource.get("resourceType") == "Observation":
            stated.append(_observation(resource))
    nbf = payload["nbf"]
    exp = payload.get("exp")
    return Summary(" ".join(parts) or _text(name.get("text")), _text(patient.get("birthDate")),
                   datetime.fromtimestamp(nbf, UTC),
                   datetime.fromtimestamp(exp, UTC) if exp is not None else None,
                   tuple(stated))


def _coding(concept: Any) -> dict[str, Any]:
    return _first(concept.get("coding")) if isinstance(concept, dict) else {}


def _immunization(resource: dict[str, Any]) -> Entry:
    coding = _coding(resource.get("vaccineCode"))
    code = _text(coding.get("code"))
    product = display("cvx", code) if coding.get("system") == _CVX else \
        _text(coding.get("display")) or code
    performer = _first(resource.get("performer")).get("actor")
    return Entry("vaccination", date=_text(resource.get("occurrenceDateTime")),
                 product=product,
                 issuer=_text(performer.get("display")) if isinstance(performer, dict) else None,
                 identifier=_text(resource.get("lotNumber")),
                 codes={"product": code} if code else {})


def _observation(resource: dict[str, Any]) -> Entry:
    coding = _coding(resource.get("code"))
    code = _text(coding.get("code"))
    value = _coding(resource.get("valueCodeableConcept"))
    value_code = _text(value.get("code"))
    performer = _first(resource.get("performer"))
    codes = {name: item for name, item in (("test", code), ("result", value_code)) if item}
    return Entry("test", date=_text(resource.get("effectiveDateTime")),
                 product=display("loinc", code) or _text(coding.get("display")),
                 result=display("test_result", value_code) or _text(value.get("display")),
                 issuer=_text(performer.get("display")), codes=codes)
