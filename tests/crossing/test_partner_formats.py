"""The worked examples of docs/formats/partner-lists.md and of converted codes in
docs/formats/health-code.md, byte for byte."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from borderpass.healthcode import partners
from borderpass.healthcode.codec import CodeClaims, code_hash, decode_claims, encode, read
from borderpass.healthcode.lists import Federation, TrustStore, open_list, sign_list
from borderpass.healthcode.verifier import verify
from borderpass.kit.signing import SigningKey, verify_code

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats"
LISTS = (DOCS / "partner-lists.md").read_text()
CODES = (DOCS / "health-code.md").read_text()
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def block(doc: str, info: str) -> str:
    match = re.search(rf"```{re.escape(info)}\n(.*?)```", doc, re.S)
    assert match is not None, info
    return match.group(1).strip()


def example_key() -> SigningKey:
    return SigningKey.from_pem(block(CODES, "pem").encode() + b"\n")


def canonical(content: object) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_converted_code_worked_example_byte_for_byte() -> None:
    key = example_key()
    original = code_hash(bytes(range(16)))  # the code of the first worked example
    assert original in CODES
    claims = CodeClaims("GD", bytes(range(16, 32)), NOW,
                        datetime(2026, 11, 26, 15, 59, 59, tzinfo=UTC), "green", "CTM",
                        "A1*****(3)", "hkid", original=("HK", original))
    text = encode(claims, key, prefix="BPHC1:", deterministic=True)
    assert text == block(CODES, "text converted")
    message = read(text, prefix="BPHC1:")
    assert message.payload.hex() == block(CODES, "hex converted")
    assert decode_claims(verify_code(message, key.public)) == claims


def test_partner_lists_worked_example_byte_for_byte(session: Session) -> None:
    key = example_key()
    trust = json.loads(block(LISTS, "json gd-trust-list"))
    revocations = json.loads(block(LISTS, "json gd-revocations"))
    accepted = partners.accept_lists(session, "GD", key.kid.hex(), trust_list=trust,
                                     revocations=revocations, rule_set=None, now=NOW)
    assert (accepted.keys, accepted.revoked, accepted.through) == (1, 1, 1)
    content = partners.partner_lists(session, now=NOW)
    assert canonical(content) == block(LISTS, "json partner-lists")
    # Handed to a verifier under our anchor, it checks Guangdong's codes with their lists.
    [entry] = json.loads(block(LISTS, "json partner-lists"))["partners"]
    store = TrustStore.from_partner(entry)
    assert (store.jurisdiction, store.anchor, set(store.revoked)) == (
        "GD", "e9eb5173514141c3", {code_hash(bytes(range(32, 48)))})
    ours = SigningKey.generate()
    own = sign_list({"type": "trust-list", "version": 1, "jurisdiction": "HK",
                     "issued_at": "2026-11-26T02:00:00Z", "max_age_seconds": 3600,
                     "keys": []}, ours)
    empty = sign_list({"type": "revocations", "version": 1, "jurisdiction": "HK",
                       "issued_at": "2026-11-26T02:00:00Z", "max_age_seconds": 3600,
                       "since": 0, "through": 0, "entries": []}, ours)
    bundle = {"trust_list": own, "revocations": empty,
              "partners": sign_list(json.loads(block(LISTS, "json partner-lists")), ours)}
    federation = Federation.from_bundle(json.loads(json.dumps(bundle)))
    revoked = CodeClaims("GD", bytes(range(32, 48)), NOW, NOW.replace(hour=15), "green",
                         "CTM", "A1*****(3)", "hkid")
    valid = CodeClaims("GD", bytes(range(48, 64)), NOW, NOW.replace(hour=15), "green",
                       "CTM", "A1*****(3)", "hkid")
    assert verify(encode(revoked, key, prefix="BPHC1:"), federation, now=NOW).reason == \
        "revoked"
    shown = verify(encode(valid, key, prefix="BPHC1:"), federation, now=NOW)
    assert (shown.valid, shown.issuer) == (True, "GD")


def test_rule_set_worked_example_is_accepted_and_kept(session: Session) -> None:
    key = example_key()
    content = json.loads(block(LISTS, "json rule-set"))
    # The instance's own list has the same shape.
    ours, _kid = open_list(partners.rule_set_list(session, now=NOW), "rule-set")
    assert set(ours) == set(content) and ours["rule_set"]["Identifier"] == "HK-HEALTH-CODE"
    accepted = partners.accept_lists(
        session, "GD", key.kid.hex(), trust_list=json.loads(block(LISTS, "json gd-trust-list")),
        revocations=json.loads(block(LISTS, "json gd-revocations")),
        rule_set=sign_list(content, key), now=NOW)
    assert accepted.rule_set == "GD-HEALTH-CODE@1.0.0"
    assert partners.partner_rule_set(session, "GD") == content["rule_set"]
