"""The EU Digital COVID Certificate verifier (docs/formats/dcc.md).

``HC1:`` + base45(zlib(COSE_Sign1(CWT claims))), with the certificate in claim -260/1,
checked in this order, each step giving True, False, or None when not reached:

``prefix``, ``base45``, ``zlib``, ``cose`` (a COSE_Sign1, tagged or not), ``cbor`` (the CWT
claims and the certificate), ``schema`` (the DCC JSON schema 1.3.3, for versions 1.0.x to
1.3.x), ``signature`` (by the document signer certificate its key id names),
``expiry`` (certificate notBefore <= iat <= now <= exp <= certificate notAfter) and
``key_usage`` (the certificate's extended key usage allows the kind of certificate).

Untrusted text never raises: every problem is a step that failed, with a reason code.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from borderpass.kit.decoding import without_line_end
from borderpass.kit.signing.foreign import (
    ForeignSign1,
    SigningError,
    b45decode,
    cbor_decode,
    inflate_whole,
    read_foreign_sign1,
    verify_foreign_sign1,
)
from borderpass.worldcodes._dccplain import plain_kind
from borderpass.worldcodes.result import VALID, Entry, Result, Steps, Summary
from borderpass.worldcodes.trust import KEY_USAGE_OIDS, DccSigner, DccTrust
from borderpass.worldcodes.valuesets import display

__all__ = ["FORMAT", "KEY_USAGE_OIDS", "PREFIX", "STEPS", "schema", "schema_errors", "verify_dcc"]

FORMAT = "dcc"
PREFIX = "HC1:"
STEPS = ("prefix", "base45", "zlib", "cose", "cbor", "schema", "signature", "expiry",
         "key_usage")
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_HCERT = 1, 4, 6, -260
_KINDS = {"v": "vaccination", "t": "test", "r": "recovery"}
_MAX_TEXT = 8192
_MAX_INFLATED = 64 * 1024
_MAX_DEPTH = 16
_VERSION = re.compile(r"1\.[0-3]\.\d+")
_SCHEMA = Path(__file__).with_name("data") / "DCC.combined-schema.json"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# The whole seconds ``datetime.fromtimestamp(…, UTC)`` reads: 0001-01-01 to 9999-12-31.
_FIRST_SECOND, _LAST_SECOND = -62_135_596_800, 253_402_300_799
_UNKNOWN_KID = "unknown_kid"
_ALL_PASSED: dict[str, bool | None] = dict.fromkeys(STEPS, True)


class _Unreadable(Exception):
    """The claims are not a DCC's: the ``cbor`` step fails with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def _validator() -> Any:
    # jsonschema-rs: the same JSON Schema 2020-12 semantics as the reference ``jsonschema``
    # package (a test checks they agree on every case), some 400 times faster. It gives
    # the verdict on a payload not in the plain form (``_plain_kind``), and is the
    # reference the plain form is tested against.
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(_schema())


@cache
def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_SCHEMA.read_text(encoding="utf-8"))
    return loaded


def schema() -> dict[str, Any]:
    """Return the DCC JSON schema the ``schema`` step checks a certificate against."""
    copy: dict[str, Any] = json.loads(json.dumps(_schema()))  # the cached one stays as read
    return copy


# The plain form issuers write, checked in C (``_dccplain.c``) for every DCC scanned: what
# the schema asks, more strictly (a test's ``dr`` too, as text), and JSON values only, so
# that the decoded payload needs no walk to be shown or turned into facts. ``_plain_kind``
# gives the kind of its one entry (``v``, ``t`` or ``r``), or None, which says nothing: any
# other payload goes to the whole check (``_jsonable`` then ``schema_errors``). The verdict
# is the same either way, as the plain form asks more than the schema (a test checks it on
# every case changed in every member).
_plain_kind = plain_kind


def schema_errors(certificate: Any) -> list[str]:
    """Return what keeps a DCC payload (claim -260/1) from its schema; empty when valid."""
    if _plain_kind(certificate) is not None:
        return []
    errors = []
    version = certificate.get("ver") if isinstance(certificate, dict) else None
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        errors.append(f"version {version!r} is not 1.0.x to 1.3.x")
    try:
        validator = _validator()
        if not validator.is_valid(certificate):  # the errors are gathered only when needed
            errors.extend(error.message for error in validator.iter_errors(certificate))
    except (ValueError, TypeError, OverflowError) as error:  # a value JSON cannot hold
        errors.append(str(error))
    return errors


def _date_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise _Unreadable("bad_cbor")
    text = value.astimezone(UTC).isoformat(timespec="seconds" if not value.microsecond
                                           else "microseconds")
    return text.replace("+00:00", "Z")


_PLAIN = (str, int, bool, type(None))


def _jsonable(value: Any, depth: int = 0) -> Any:
    """Make a decoded CBOR map or array the JSON value it stands for, in place.

    Dates (tags 0 and 1) become RFC 3339 text, as the schema reads them; a value JSON
    cannot hold (bytes, a tag, a map keyed by other than text, NaN …) is refused. The
    containers are those the decoder just made, so changing them costs no copy.
    """
    if depth > _MAX_DEPTH:
        raise _Unreadable("bad_cbor")
    if type(value) is dict:
        pairs = value.items()
    elif type(value) is list:
        pairs = enumerate(value)  # type: ignore[assignment]
    else:
        raise _Unreadable("bad_cbor")
    for key, item in pairs:
        if type(key) is not str and type(value) is dict:
            raise _Unreadable("bad_cbor")
        kind = type(item)
        if kind in _PLAIN:
            continue
        if kind is dict or kind is list:
            _jsonable(item, depth + 1)
        elif kind is float:
            if not math.isfinite(item):
                raise _Unreadable("bad_cbor")
        elif kind is datetime:
            value[key] = _date_text(item)
        else:
            raise _Unreadable("bad_cbor")
    return value


def _instant(value: Any) -> int:
    """Return a NumericDate claim as the microseconds since 1970 of the instant it reads as.

    Whole seconds, as issuers write them, need no datetime: that is made only when a
    summary is asked for (``_moment``). Anything else is read as ``datetime`` reads it.
    """
    if type(value) is int and _FIRST_SECOND <= value <= _LAST_SECOND:
        return value * 1_000_000
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Unreadable("bad_claims")
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise _Unreadable("bad_claims") from None
    return (moment - _EPOCH) // _MICROSECOND


def _moment(microseconds: int | None) -> datetime | None:
    return None if microseconds is None else _EPOCH + timedelta(microseconds=microseconds)


def _claims(payload: bytes) -> tuple[str | None, int, int, dict[str, Any], str | None]:
    """Read the CWT claims: issuer, issued at and expires at (microseconds since 1970),
    the certificate (-260/1), and its kind if it is in the plain form (``_plain_kind``)."""
    try:
        claims = cbor_decode(payload)
    except SigningError:
        raise _Unreadable("bad_cbor") from None
    if not isinstance(claims, dict):
        raise _Unreadable("bad_claims")
    issuer = claims.get(CLAIM_ISS)
    if issuer is not None and not isinstance(issuer, str):
        raise _Unreadable("bad_claims")
    hcert = claims.get(CLAIM_HCERT)
    if not isinstance(hcert, dict) or not isinstance(hcert.get(1), dict):
        raise _Unreadable("bad_claims")
    certificate = hcert[1]
    # A payload in the plain form is JSON already: only another is walked.
    plain = _plain_kind(certificate)
    if plain is None:
        certificate = _jsonable(certificate)
    issued, expires = claims.get(CLAIM_IAT), claims.get(CLAIM_EXP)
    # Whole seconds, as issuers write them, without a call for each.
    if type(issued) is int and _FIRST_SECOND <= issued <= _LAST_SECOND:
        issued *= 1_000_000
    else:
        issued = _instant(issued)
    if type(expires) is int and _FIRST_SECOND <= expires <= _LAST_SECOND:
        expires *= 1_000_000
    else:
        expires = _instant(expires)
    return issuer, issued, expires, certificate, plain


def _signature(message: ForeignSign1, trust: DccTrust) -> tuple[DccSigner | None, str | None]:
    """Check the signature with the document signers the key id names, each in turn.

    Returns the first signer whose key the signature holds for, else None and why:
    ``unknown_kid`` (no trusted certificate to check it with) leaves the step not reached,
    any other reason fails it.
    """
    kid, alg = message.kid, message.alg
    if type(kid) is not bytes or len(kid) != 8:
        return None, "bad_kid"
    if type(alg) is not int or alg not in (-7, -37):
        return None, "unsupported_algorithm"
    signers = trust.checked.get(kid)
    if signers is None:
        return None, _UNKNOWN_KID
    refusal = None
    for signer in signers:
        try:
            verify_foreign_sign1(message, signer.certificate)
        except SigningError as error:
            # A key of the wrong type says less than a signature that does not hold.
            if refusal is None or refusal == "wrong_key_type":
                refusal = error.reason
            continue
        return signer, None
    return None, refusal


def _expiry(signer: DccSigner, issued: int, expires: int, now: datetime, steps: Steps) -> None:
    # Exact microseconds since 1970 compare as the instants do.
    if issued < signer.not_before:
        steps.failed("expiry", "issued_before_certificate")
        return
    at = (now - _EPOCH) // _MICROSECOND
    if at < issued:
        steps.failed("expiry", "not_yet_valid")
    elif at > expires:
        steps.failed("expiry", "expired")
    elif expires > signer.not_after:
        steps.failed("expiry", "expires_after_certificate")
    else:
        steps.passed("expiry")


def _kind(certificate: dict[str, Any]) -> str | None:
    present = [key for key in ("v", "t", "r") if key in certificate]
    return present[0] if len(present) == 1 else None


def _key_usage(signer: DccSigner, kind: str, steps: Steps) -> None:
    if kind in signer.kinds:  # from KEY_USAGE_OIDS, when the trust was made
        steps.passed("key_usage")
    else:
        steps.failed("key_usage", "wrong_key_usage")


def verify_dcc(text: str, trust: DccTrust, *, now: datetime) -> Result:
    """Check an EU DCC's QR text offline with document signer certificates at ``now``.

    Args:
        text: the QR text (``HC1:…``); one line end after it is ignored.
        trust: the document signer certificates (and CSCAs) trusted.
        now: the instant to judge validity at.

    Returns:
        a result of format ``dcc`` whose steps are those of ``STEPS``; ``cannot_verify``
        when no step failed but the key id names no trusted certificate.
    """
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        return _stopped("prefix", "too_long" if isinstance(text, str) else "bad_prefix")
    text = without_line_end(text)
    if not text.startswith(PREFIX):
        return _stopped("prefix", "bad_prefix")
    try:
        compressed = b45decode(text[len(PREFIX):])
    except SigningError:
        return _stopped("base45", "bad_base45")
    try:
        raw = inflate_whole(compressed, _MAX_INFLATED)
    except SigningError:
        return _stopped("zlib", "bad_compression")
    try:
        message = read_foreign_sign1(raw)
    except SigningError:
        return _stopped("cose", "bad_cose")
    try:
        claims = _claims(message.payload)
    except _Unreadable as error:
        return _judged(message, *_signature(message, trust), now, unreadable=error.reason)
    signer, refusal = _signature(message, trust)
    issuer, issued, expires, certificate, plain = claims
    if plain is not None and signer is not None:
        # Exact microseconds since 1970 compare as the instants do.
        at = (now - _EPOCH) // _MICROSECOND
        if (signer.not_before <= issued <= at <= expires <= signer.not_after
                and plain in signer.kinds):
            # Every step passed (``_judged`` would note each and find no failure): the
            # result of nearly every DCC scanned, made at once.
            return Result(FORMAT, VALID, None, issuer=issuer or signer.certificate.country,
                          subject=_name(certificate), steps=_ALL_PASSED.copy(),
                          content=certificate, extra={"kid": message.kid.hex()},
                          summarise=_summariser(certificate, issued, expires))
    return _judged(message, signer, refusal, now, claims=claims)


def _stopped(step: str, reason: str) -> Result:
    """Return the result of a text that failed ``step`` before its signature was read."""
    steps = Steps(STEPS)
    for name in STEPS[:STEPS.index(step)]:
        steps.passed(name)
    steps.failed(step, reason)
    return _result(steps)


def _judged(message: ForeignSign1, signer: DccSigner | None, refusal: str | None,
            now: datetime, *, unreadable: str | None = None,
            claims: tuple[str | None, int, int, dict[str, Any], str | None] | None = None
            ) -> Result:
    """Note each step's outcome for a COSE_Sign1 read, its claims (or why they could not
    be read) and its signature's check (``_signature``), and return the result."""
    steps = Steps(STEPS)
    for name in ("prefix", "base45", "zlib", "cose"):
        steps.passed(name)
    certificate = None
    if claims is None:
        steps.failed("cbor", unreadable or "bad_cbor")
    else:
        issuer, issued, expires, certificate, plain = claims
        steps.passed("cbor")
        if not plain and schema_errors(certificate):
            steps.failed("schema", "schema_invalid")
        else:
            steps.passed("schema")
    if signer is not None:
        steps.passed("signature")
    elif refusal == _UNKNOWN_KID:
        steps.unknown(refusal)
    else:
        steps.failed("signature", refusal or "bad_signature")
    if signer is None or claims is None:
        return _result(steps, message=message, certificate=certificate)
    _expiry(signer, issued, expires, now, steps)
    kind = plain or _kind(claims[3])
    if kind is not None:
        _key_usage(signer, kind, steps)
    return _result(steps, message=message, certificate=claims[3], issued=issued,
                   expires=expires, issuer=issuer or signer.certificate.country)


def _result(steps: Steps, *, message: ForeignSign1 | None = None,
            certificate: dict[str, Any] | None = None, issued: int | None = None,
            expires: int | None = None, issuer: str | None = None) -> Result:
    extra: dict[str, Any] = {}
    if message is not None and isinstance(message.kid, bytes):
        extra["kid"] = message.kid.hex()
    readable = certificate is not None and steps.outcomes["schema"] is True
    return Result(FORMAT, steps.result, steps.reason, issuer=issuer,
                  subject=_name(certificate) if certificate is not None and readable else None,
                  steps=steps.outcomes, content=certificate, extra=extra,
                  summarise=_summariser(certificate, issued, expires)
                  if certificate is not None and readable else None)


def _summariser(certificate: dict[str, Any], issued: int | None,
                expires: int | None) -> Callable[[], Summary]:
    return lambda: _summary(certificate, _moment(issued), _moment(expires))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _summary(certificate: dict[str, Any], issued: datetime | None,
             expires: datetime | None) -> Summary:
    """Say what a schema-valid DCC states: the holder and the one vaccination, test or recovery."""
    entries = []
    for key, kind in _KINDS.items():
        for item in certificate.get(key) or ():
            entries.append(_entry(kind, item))
    return Summary(_name(certificate), _text(certificate.get("dob")), issued, expires,
                   tuple(entries))


def _name(certificate: dict[str, Any]) -> str | None:
    names = certificate.get("nam") or {}
    given = _text(names.get("gn")) or _text(names.get("gnt"))
    family = _text(names.get("fn")) or _text(names.get("fnt"))
    if given and family:
        return f"{given} {family}"
    return given or family


def _entry(kind: str, item: dict[str, Any]) -> Entry:
    common = {"disease": display("disease", item.get("tg")), "country": _text(item.get("co")),
              "issuer": _text(item.get("is")), "identifier": _text(item.get("ci"))}
    codes = {"disease": item.get("tg")}
    if kind == "vaccination":
        dose, doses = item.get("dn"), item.get("sd")
        codes.update(vaccine=item.get("vp"), product=item.get("mp"),
                     manufacturer=item.get("ma"))
        return Entry(kind, date=_text(item.get("dt")), product=display("product", item.get("mp")),
                     dose=f"{dose}/{doses}" if dose is not None and doses is not None else None,
                     codes=_codes(codes), **common)
    if kind == "test":
        codes.update(test_type=item.get("tt"), result=item.get("tr"))
        test = " · ".join(part for part in (
            display("test_type", item.get("tt")), _text(item.get("nm")),
            display("manufacturer", item.get("ma"))) if part)
        return Entry(kind, date=_text(item.get("sc")), product=test or None,
                     result=display("test_result", item.get("tr")), codes=_codes(codes),
                     **common)
    return Entry(kind, date=_text(item.get("fr")), valid_from=_text(item.get("df")),
                 valid_until=_text(item.get("du")), codes=_codes(codes), **common)


def _codes(codes: dict[str, Any]) -> dict[str, str]:
    return {name: value for name, value in codes.items() if isinstance(value, str) and value}
