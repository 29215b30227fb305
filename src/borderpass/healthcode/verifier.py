"""The offline verifier: a code, a trust store and an instant in, a verdict out.

It needs neither the database nor the network. Untrusted text never raises: every
problem becomes a verdict with a reason code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from borderpass.healthcode.codec import CodeFormatError, code_hash, decode_claims, read
from borderpass.healthcode.lists import Federation, TrustStore, iso
from borderpass.kit.signing import SigningError, verify_code

__all__ = ["CANNOT_VERIFY", "INVALID", "VALID", "Verdict", "verify"]

VALID, INVALID, CANNOT_VERIFY = "valid", "invalid", "cannot_verify"
_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Verdict:
    """The result of checking a code: valid, invalid or cannot verify, with a reason code."""

    result: str
    reason: str | None
    colour: str | None = None
    issued_at: datetime | None = None
    valid_until: datetime | None = None
    holder: dict[str, str] | None = None
    issuer: str | None = None
    trust_list_age: float | None = None
    revocation_list_age: float | None = None
    code_hash: str | None = None
    """The hash of the code's id (as revocation lists name it), once its signature holds."""
    original: dict[str, str] | None = None
    """For a code converted from a partner's: ``{"issuer", "hash"}`` of the original."""

    @property
    def valid(self) -> bool:
        return self.result == VALID

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "result": self.result,
            "colour": self.colour,
            "valid_until": iso(self.valid_until) if self.valid_until else None,
            "issued_at": iso(self.issued_at) if self.issued_at else None,
            "issuer": self.issuer,
            "holder": self.holder or {},
            "error": self.reason,
            "original": self.original,
            "lists": {"trust_list_age_seconds": self.trust_list_age,
                      "revocation_list_age_seconds": self.revocation_list_age},
        }


def verify(text: str, store: TrustStore | Federation, *, now: datetime,
           prefix: str = "BPHC1:") -> Verdict:
    """Check a code offline against a trust store (or a federation of them) at ``now``.

    With a federation, the code is checked with the lists of the jurisdiction whose
    trust list holds the key that signed it: ours or a partner's.

    Returns:
        a verdict; ``reason`` is None only when the code is valid.
    """
    if isinstance(store, Federation):
        try:
            kid = read(text, prefix=prefix).kid
        except CodeFormatError:
            kid = b""
        store = store.store_for(kid) or store.own
    trust_age = (now - store.trust_issued_at).total_seconds()
    revocation_age = (
        (now - store.revocations_issued_at).total_seconds()
        if store.revocations_issued_at is not None else None
    )

    def verdict(result: str, reason: str | None, **more: Any) -> Verdict:
        return Verdict(result, reason, trust_list_age=trust_age,
                       revocation_list_age=revocation_age, **more)

    try:
        message = read(text, prefix=prefix)
    except CodeFormatError as error:
        return verdict(INVALID, error.reason)
    if trust_age > store.trust_max_age.total_seconds():
        return verdict(CANNOT_VERIFY, "trust_list_stale")
    trusted = store.keys.get(message.kid)
    if trusted is None:
        return verdict(CANNOT_VERIFY, "unknown_issuer")
    try:
        claims = decode_claims(verify_code(message, trusted.key))
    except (SigningError, CodeFormatError) as error:  # bad_signature, bad_claims ...
        return verdict(INVALID, error.reason)
    hashed = code_hash(claims.code_id)
    if claims.issuer != trusted.jurisdiction:
        result, reason = INVALID, "wrong_issuer"
    elif trusted.valid_until is not None and claims.issued_at > trusted.valid_until:
        result, reason = INVALID, "key_not_valid"
    elif now + _SKEW < claims.issued_at:
        result, reason = INVALID, "not_yet_valid"
    elif now >= claims.valid_until:
        result, reason = INVALID, "expired"
    elif revocation_age is None or revocation_age > store.revocations_max_age.total_seconds():
        result, reason = CANNOT_VERIFY, "revocation_list_stale"
    elif hashed in store.revoked:
        result, reason = INVALID, "revoked"
    else:
        result, reason = VALID, None
    # Every scan ends here: the verdict's fields are filled at once, which costs a fraction
    # of the frozen dataclass's __init__ (one object.__setattr__ per field).
    checked = object.__new__(Verdict)
    checked.__dict__.update(
        result=result, reason=reason, colour=claims.colour, issued_at=claims.issued_at,
        valid_until=claims.valid_until, issuer=claims.issuer,
        holder={"initials": claims.initials, "document": claims.document,
                "document_kind": claims.document_kind},
        trust_list_age=trust_age, revocation_list_age=revocation_age, code_hash=hashed,
        original=({"issuer": claims.original[0], "hash": claims.original[1]}
                  if claims.original is not None else None))
    return checked
