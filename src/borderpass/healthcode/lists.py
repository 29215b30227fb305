"""Signed lists: the trust list of issuer keys and the revocation list.

A list is a JSON envelope ``{"alg": "ES256", "kid", "key", "payload", "signature"}``
(the signing recipes' ``sign_envelope``) where ``payload`` is the base64url of the list's
JSON and ``signature`` the base64url of the ES256 ``r || s`` over those payload bytes,
made with the jurisdiction's anchor key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from borderpass.kit.decoding import DecodeError, load_json
from borderpass.kit.signing import (
    SigningError,
    SigningKey,
    VerifyKey,
    open_envelope,
    sign_envelope,
)

__all__ = ["Federation", "ListError", "TrustStore", "TrustedKey", "open_list", "sign_list"]

TRUST_LIST = "trust-list"
REVOCATIONS = "revocations"
RULE_SET = "rule-set"
PARTNER_LISTS = "partner-lists"
_MAX_LIST = 16 * 1024 * 1024
# A duration in a list (a maximum age, a polling interval) of at most a century, and a
# sequence number that fits a signed 64-bit column: beyond them is damage, not policy.
_MAX_SECONDS = 100 * 366 * 86400
_MAX_SEQUENCE = 2**63 - 1
_CODE_HASH = re.compile(r"[0-9a-f]{32}")


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
        content = load_json(payload)
    except DecodeError:
        raise ListError("bad_list") from None
    if not isinstance(content, dict) or content.get("type") != kind or (
            type(content.get("version")) is not int or content["version"] != 1):
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
    if not isinstance(value, str) or len(value) > 40:
        raise ListError("bad_list")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ListError("bad_list")
        parsed.astimezone(UTC)  # an instant that has no UTC time (year 0 or 10000) is refused
    except (ValueError, OverflowError):
        raise ListError("bad_list") from None
    return parsed


def _whole(value: object, high: int) -> int:
    """Return a whole number from 0 to ``high`` (JSON's ``true`` is not one)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise ListError("bad_list")
    return value


def _seconds(value: object) -> timedelta:
    return timedelta(seconds=_whole(value, _MAX_SECONDS))


def _text(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise ListError("bad_list")
    return value


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
            items = content["keys"]
            if not isinstance(items, list):
                raise ListError("bad_list")
            for item in items:
                if not isinstance(item, dict):
                    raise ListError("bad_list")
                public = VerifyKey.from_b64(item["public_key"])
                if item["alg"] != "ES256" or public.kid.hex() != item["kid"]:
                    raise ListError("bad_list")
                until = item.get("valid_until")
                keys[public.kid] = TrustedKey(
                    public.kid, _text(item["jurisdiction"]), public,
                    _instant(item["valid_from"]), _instant(until) if until is not None else None)
            return cls(anchor=kid, jurisdiction=_text(content["jurisdiction"]), keys=keys,
                       trust_issued_at=_instant(content["issued_at"]),
                       trust_max_age=_seconds(content["max_age_seconds"]))
        except (KeyError, SigningError):
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
        # Read the whole list before changing the store: a list refused half-way through
        # leaves the store as it was.
        try:
            since = _whole(content["since"], _MAX_SEQUENCE)
            through = _whole(content["through"], _MAX_SEQUENCE)
            issued = _instant(content["issued_at"])
            max_age = _seconds(content["max_age_seconds"])
            poll = (_whole(content["poll_seconds"], _MAX_SECONDS)
                    if "poll_seconds" in content else self.poll_seconds)
            entries = content["entries"]
            if not isinstance(entries, list):
                raise ListError("bad_list")
            revoked: dict[str, datetime] = {}
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry["hash"], str) or (
                        not _CODE_HASH.fullmatch(entry["hash"])):
                    raise ListError("bad_list")
                revoked[entry["hash"]] = _instant(entry["expires_at"])
        except KeyError:
            raise ListError("bad_list") from None
        if since > self.through:
            raise ListError("revocations_gap")
        if since == 0:
            self.revoked.clear()
        added = sum(1 for code in revoked if code not in self.revoked)
        self.revoked.update(revoked)
        self.revocations_issued_at = issued
        self.revocations_max_age = max_age
        self.poll_seconds = poll
        self.through = max(self.through, through)
        # Entries expire with the codes they name.
        for code, expires in list(self.revoked.items()):
            if expires <= issued:
                del self.revoked[code]
        return added

    @classmethod
    def from_partner(cls, entry: object) -> TrustStore:
        """Build the store of a partner from an entry of the partner lists
        (docs/formats/partner-lists.md): its trust list as it signed it, checked against
        the pinned anchor, and the revocations held for it.

        Raises:
            ListError: the entry is unreadable, or the trust list is badly signed, from
                another anchor or of another jurisdiction.
        """
        if not isinstance(entry, dict):
            raise ListError("bad_list")
        try:
            anchor, jurisdiction = _text(entry["anchor"]), _text(entry["jurisdiction"])
            store = cls.from_trust_list(entry["trust_list"], anchor=anchor)
            if store.jurisdiction != jurisdiction or any(
                    key.jurisdiction != jurisdiction for key in store.keys.values()):
                raise ListError("wrong_jurisdiction")
            revocations = entry["revocations"]
            if not isinstance(revocations, dict) or not isinstance(revocations["entries"], list):
                raise ListError("bad_list")
            revoked: dict[str, datetime] = {}
            for item in revocations["entries"]:
                if not isinstance(item, dict) or not isinstance(item["hash"], str) or (
                        not _CODE_HASH.fullmatch(item["hash"])):
                    raise ListError("bad_list")
                revoked[item["hash"]] = _instant(item["expires_at"])
            store.revocations_issued_at = _instant(revocations["issued_at"])
            store.revocations_max_age = _seconds(revocations["max_age_seconds"])
            store.through = _whole(revocations["through"], _MAX_SEQUENCE)
            store.revoked = revoked
        except KeyError:
            raise ListError("bad_list") from None
        return store


@dataclass
class Federation:
    """What a verifier holds to check our codes and our partners' codes: our store and,
    by jurisdiction, the store of each partner whose lists we accepted."""

    own: TrustStore
    partners: dict[str, TrustStore] = field(default_factory=dict)

    def store_for(self, kid: bytes) -> TrustStore | None:
        """Return the store whose trust list holds ``kid`` (ours first), if any."""
        if kid in self.own.keys:
            return self.own
        return next((store for store in self.partners.values() if kid in store.keys), None)

    @classmethod
    def from_bundle(cls, bundle: object, *, anchor: str | None = None) -> Federation:
        """Build a federation from an exported file: our two lists and, when present,
        the partner lists, which must be signed by the same anchor as our trust list.

        Raises:
            ListError: a list is unreadable, badly signed or from another anchor.
        """
        own = TrustStore.from_bundle(bundle, anchor=anchor)
        assert isinstance(bundle, dict)  # noqa: S101 - from_bundle checked it
        partners: dict[str, TrustStore] = {}
        if bundle.get("partners") is not None:
            content, _kid = open_list(bundle["partners"], PARTNER_LISTS, anchor=own.anchor)
            entries = content.get("partners")
            if not isinstance(entries, list):
                raise ListError("bad_list")
            for entry in entries:
                store = TrustStore.from_partner(entry)
                partners[store.jurisdiction] = store
        return cls(own, partners)

