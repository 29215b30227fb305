"""A partner jurisdiction made in the test process: its anchor and code-signing keys,
the lists it publishes (as its `/api/trust-list…` endpoints would) and codes it issues.

The instance under test is the suite's own (Hong Kong, ``BORDERPASS_JURISDICTION``
unset); the fake partner is Guangdong unless told otherwise. ``getter`` answers the
sync's HTTP requests from the fake's lists, so a sync runs end to end without a network.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from borderpass.healthcode.codec import CodeClaims, code_hash, encode
from borderpass.healthcode.lists import iso, sign_list
from borderpass.kit.signing import SigningKey

URL = "https://gd.example.org"
PREFIX = "BPHC1:"
RULE_SET = {"Identifier": "GD-HEALTH-CODE", "Version": "2.1.0", "Jurisdiction": "GD",
            "Rules": []}


@dataclass
class FakePartner:
    jurisdiction: str = "GD"
    url: str = URL
    anchor: SigningKey = field(default_factory=SigningKey.generate)
    key: SigningKey = field(default_factory=SigningKey.generate)
    revoked: list[tuple[str, datetime]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    now: datetime | None = None
    down: bool = False

    @property
    def kid(self) -> str:
        return self.anchor.kid.hex()

    def code(self, now: datetime, *, colour: str = "green", hours: float = 10,
             issued_at: datetime | None = None, initials: str = "CTM",
             document: str = "A1*****(3)") -> tuple[str, str]:
        """Issue a code; return its text and its hash."""
        code_id = secrets.token_bytes(16)
        issued = (issued_at or now).replace(microsecond=0)
        claims = CodeClaims(self.jurisdiction, code_id, issued,
                            (now + timedelta(hours=hours)).replace(microsecond=0), colour,
                            initials, document, "hkid")
        return encode(claims, self.key, prefix=PREFIX), code_hash(code_id)

    def revoke(self, code: str, expires: datetime) -> None:
        self.revoked.append((code, expires))

    def trust_list(self, now: datetime, *, anchor: SigningKey | None = None,
                   jurisdiction: str | None = None) -> dict[str, str]:
        return sign_list({
            "type": "trust-list", "version": 1, "jurisdiction": jurisdiction or self.jurisdiction,
            "issued_at": iso(now), "max_age_seconds": 7 * 86400,
            "keys": [{"kid": self.key.kid.hex(), "jurisdiction": jurisdiction or self.jurisdiction,
                      "alg": "ES256", "public_key": self.key.public.to_b64(),
                      "valid_from": iso(now - timedelta(days=30)), "valid_until": None}],
        }, anchor or self.anchor)

    def revocations(self, now: datetime, since: int = 0) -> dict[str, str]:
        entries = [{"seq": seq, "hash": code, "expires_at": iso(expires)}
                   for seq, (code, expires) in enumerate(self.revoked, start=1) if seq > since]
        return sign_list({
            "type": "revocations", "version": 1, "jurisdiction": self.jurisdiction,
            "issued_at": iso(now), "max_age_seconds": 86400, "poll_seconds": 30,
            "since": since, "through": max(since, len(self.revoked)), "entries": entries,
        }, self.anchor)

    def rule_set(self, now: datetime) -> dict[str, str]:
        return sign_list({"type": "rule-set", "version": 1, "jurisdiction": self.jurisdiction,
                          "issued_at": iso(now), "rule_set": RULE_SET}, self.anchor)

    def getter(self, now: datetime) -> Any:
        """Answer the sync's requests as the partner's instance would at ``now``."""

        def get(url: str) -> tuple[int, bytes]:
            from borderpass.crossing.partners import FetchFailed

            self.requests.append(url)
            if self.down:
                raise FetchFailed("unreachable", "connection refused")
            at = self.now or now
            path = url.removeprefix(self.url)
            if path == "/api/trust-list":
                body: object = self.trust_list(at)
            elif path.startswith("/api/trust-list/revocations?since="):
                body = self.revocations(at, int(path.rsplit("=", 1)[1]))
            elif path == "/api/trust-list/rule-set":
                body = self.rule_set(at)
            else:
                return 404, b'{"error": {"code": "not_found"}}'
            return 200, json.dumps(body).encode()

        return get
