"""Signed lists: the trust list of issuer keys and the revocation list.

A list is a JSON envelope ``{"alg": "ES256", "kid", "key", "payload", "signature"}``
(the signing recipes' ``sign_envelope``) where ``payload`` is the base64url of the list's
JSON and ``signature`` the base64url of the ES256 ``r || s`` over those payload bytes,
made with the jurisdiction's anchor key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from borderpass.kit.signing import (
    SigningError,
    SigningKey,
    VerifyKey,
    open_envelope,
    sign_envelope,
)

__all__ = ["ListError", "TrustStore", "TrustedKey", "open_list", "sign_list"]

TRUST_LIST = "trust-list"
REVOCATIONS = "revocations"
_MAX_LIST = 16 * 1024 * 1024


class ListError(Exception):
    """A list could not be read or its signature did not verify."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sign_list(content: dict[str, Any], anchor: SigningKey) -> dict[str, str]:
    """Sign a list with the anchor key and return its envelope."""
    payload = json.dumps(content, ensure_ascii=False, sort_keys=True,
                         separators=(",", ":")).encode()
    return sign_envelope(payload, anchor)


_LIST_REASONS = {"bad_envelope": "bad_list", "bad_signature": "bad_list_signature"}


def open_list(
    envelope: object, kind: str, *, anchor: str | None = None
) -> tuple[dict[str, Any], str]:
    """Check an envelope's signature and return its list and the anchor key id.

    Args:
        anchor: if given, the hex key id the anchor must have (a pinned anchor).

    Raises:
        ListError: ``bad_list`` (unreadable), ``bad_list_signature`` or ``wrong_anchor``.
    """
    try:
        payload, kid = open_envelope(envelope, anchor=anchor)
    except SigningError as error:  # bad_envelope, wrong_anchor or bad_signature
        raise ListError(_LIST_REASONS.get(error.reason, error.reason)) from None
    try:
        content = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ListError("bad_list") from None
    if not isinstance(content, dict) or content.get("type") != kind or content.get("version") != 1:
        raise ListError("bad_list")
    return content, kid


@dataclass(frozen=True)
class TrustedKey:
    kid: bytes
    jurisdiction: str
    key: VerifyKey
    valid_from: datetime
    valid_until: datetime | None


def _instant(value: object) -> datetime:
    if not isinstance(value, str):
        raise ListError("bad_list")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ListError("bad_list") from None
    if parsed.tzinfo is None:
        raise ListError("bad_list")
    return parsed


@dataclass
class TrustStore:
    """What an offline verifier holds: the trusted keys and the revoked code hashes."""

    anchor: str
    jurisdiction: str
    keys: dict[bytes, TrustedKey]
    trust_issued_at: datetime
    trust_max_age: timedelta
    revocations_issued_at: datetime | None = None
    revocations_max_age: timedelta = timedelta(hours=24)
    poll_seconds: int = 30
    through: int = 0
    revoked: dict[str, datetime] = field(default_factory=dict)

    @classmethod
    def from_trust_list(cls, envelope: object, *, anchor: str | None = None) -> TrustStore:
        """Build a store from a signed trust list.

        Raises:
            ListError: the list is unreadable, badly signed or from another anchor.
        """
        content, kid = open_list(envelope, TRUST_LIST, anchor=anchor)
        try:
            keys = {}
            for item in content["keys"]:
                public = VerifyKey.from_b64(item["public_key"])
                if item["alg"] != "ES256" or public.kid.hex() != item["kid"]:
                    raise ListError("bad_list")
                until = item.get("valid_until")
                keys[public.kid] = TrustedKey(
                    public.kid, str(item["jurisdiction"]), public, _instant(item["valid_from"]),
                    _instant(until) if until is not None else None)
            return cls(anchor=kid, jurisdiction=str(content["jurisdiction"]), keys=keys,
                       trust_issued_at=_instant(content["issued_at"]),
                       trust_max_age=timedelta(seconds=int(content["max_age_seconds"])))
        except (KeyError, TypeError, ValueError, SigningError):
            raise ListError("bad_list") from None

    @classmethod
    def from_bundle(cls, bundle: object, *, anchor: str | None = None) -> TrustStore:
        """Build a store from an exported file: the trust list and the revocation list."""
        if not isinstance(bundle, dict) or "trust_list" not in bundle:
            raise ListError("bad_list")
        store = cls.from_trust_list(bundle["trust_list"], anchor=anchor)
        if bundle.get("revocations") is not None:
            store.apply_revocations(bundle["revocations"])
        return store

    def apply_revocations(self, envelope: object) -> int:
        """Merge a signed revocation list (full or changes since ``through``); return entries added.

        Raises:
            ListError: unreadable, badly signed, from another anchor, or not following on.
        """
        content, _kid = open_list(envelope, REVOCATIONS, anchor=self.anchor)
        try:
            since, through = int(content["since"]), int(content["through"])
            if since > self.through:
                raise ListError("revocations_gap")
            if since == 0:
                self.revoked.clear()
            added = 0
            for entry in content["entries"]:
                code = str(entry["hash"])
                if code not in self.revoked:
                    added += 1
                self.revoked[code] = _instant(entry["expires_at"])
            issued = _instant(content["issued_at"])
            self.revocations_issued_at = issued
            self.revocations_max_age = timedelta(seconds=int(content["max_age_seconds"]))
            self.poll_seconds = int(content.get("poll_seconds", self.poll_seconds))
            self.through = max(self.through, through)
        except (KeyError, TypeError, ValueError):
            raise ListError("bad_list") from None
        # Entries expire with the codes they name.
        for code, expires in list(self.revoked.items()):
            if expires <= issued:
                del self.revoked[code]
        return added
