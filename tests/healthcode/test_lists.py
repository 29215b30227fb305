"""Key rotation, revocation-list sync, the verifier's three results, the QR image, the API."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from borderpass.healthcode import service as healthcode
from borderpass.healthcode.codec import CodeClaims, encode, read
from borderpass.healthcode.lists import ListError, TrustStore, sign_list
from borderpass.healthcode.verifier import CANNOT_VERIFY, INVALID, VALID, verify
from borderpass.kit.config import get_settings
from borderpass.kit.signing import SigningKey
from tests.healthcode.test_end_to_end import _batch

H = timedelta(hours=1)


@pytest.fixture()
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A key store of the test's own, so that rotating keys touches no other test."""
    directory = tmp_path / "keys"
    monkeypatch.setattr(get_settings(), "key_dir", directory)
    yield directory


def _green(session: Any, person: Any, source: Any, number: str, specimen: str,
           now: datetime) -> None:
    from borderpass.evidence import service as evidence

    evidence.ingest(session, source.id, "tests", _batch(number, specimen, now - H, "negative"),
                    "csv", now=now)
    assert healthcode.issue(session, person.id, now=now).colour == "green"


def _positive(session: Any, source: Any, number: str, specimen: str, now: datetime) -> None:
    from borderpass.evidence import service as evidence

    evidence.ingest(session, source.id, "tests",
                    _batch(number, specimen, now - timedelta(minutes=30), "positive"), "csv",
                    now=now)


def _file(session: Any, now: datetime) -> TrustStore:
    # What `borderpass trust-list export` writes, read back as a verifier reads the file.
    return TrustStore.from_bundle(json.loads(json.dumps(healthcode.export(session, now=now))))


def _listed(now: datetime) -> dict[str, Any]:
    content = json.loads(_payload(healthcode.trust_list(now=now)))
    return {item["kid"]: item for item in content["keys"]}


def _payload(envelope: dict[str, str]) -> bytes:
    import base64

    text = envelope["payload"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --------------------------------------------------------------------------- key rotation


def test_rotation_new_key_signs_old_codes_stay_valid(
    keys: Path, session: Any, now: datetime, register_person: Any, lab: Any
) -> None:
    person = register_person("A123456(3)")
    source, _ = lab
    _green(session, person, source, "A123456(3)", "R-1", now)
    old = healthcode.issue(session, person.id, now=now)
    old_kid = read(old.text, prefix=get_settings().code_prefix).kid.hex()

    rotated_at = now + H
    new_kid = healthcode.rotate_key(now=rotated_at)
    assert new_kid != old_kid
    listed = _listed(rotated_at)
    assert set(listed) == {old_kid, new_kid}
    grace = timedelta(hours=get_settings().key_grace_hours)
    assert listed[old_kid]["valid_until"] == (rotated_at + grace).isoformat().replace(
        "+00:00", "Z")
    assert listed[new_kid]["valid_until"] is None

    new = healthcode.issue(session, person.id, now=rotated_at)
    assert new.text != old.text
    assert read(new.text, prefix=get_settings().code_prefix).kid.hex() == new_kid
    store = _file(session, rotated_at)
    for code in (old, new):
        verdict = verify(code.text, store, now=rotated_at)
        assert (verdict.result, verdict.colour) == (VALID, "green")

    # The old key leaves the list once its codes have all expired; a verifier holding only
    # the new list cannot check an old code any more, and says so.
    after = rotated_at + grace + H
    assert set(_listed(after)) == {new_kid}
    verdict = verify(old.text, _file(session, after), now=after)
    assert (verdict.result, verdict.reason) == (CANNOT_VERIFY, "unknown_issuer")


# --------------------------------------------------------------------------- revocations


def test_a_verifier_that_syncs_fetches_only_what_changed(
    keys: Path, session: Any, now: datetime, register_person: Any, lab: Any
) -> None:
    source, _ = lab
    first = register_person("A123456(3)")
    second = register_person("Z437626(A)")
    _green(session, first, source, "A123456(3)", "D-1", now)
    _green(session, second, source, "Z437626(A)", "D-2", now)
    first_code = healthcode.issue(session, first.id, now=now)
    second_code = healthcode.issue(session, second.id, now=now)
    store = _file(session, now)
    synced = store.through

    t1 = now + H
    _positive(session, source, "A123456(3)", "D-3", t1)
    delta = json.loads(_payload(healthcode.revocation_list(session, since=synced, now=t1)))
    assert delta["since"] == synced and len(delta["entries"]) == 1
    assert delta["through"] == delta["entries"][0]["seq"] > synced
    assert store.apply_revocations(healthcode.revocation_list(session, since=store.through,
                                                              now=t1)) == 1
    assert verify(first_code.text, store, now=t1).reason == "revoked"
    assert verify(second_code.text, store, now=t1).valid

    # Nothing new: the next poll carries nothing.
    nothing = json.loads(_payload(healthcode.revocation_list(session, since=store.through,
                                                             now=t1 + H)))
    assert nothing["entries"] == [] and nothing["through"] == store.through

    t2 = now + 2 * H
    _positive(session, source, "Z437626(A)", "D-4", t2)
    delta = json.loads(_payload(healthcode.revocation_list(session, since=store.through,
                                                           now=t2)))
    assert len(delta["entries"]) == 1  # only the second, not the first again
    store.apply_revocations(healthcode.revocation_list(session, since=store.through, now=t2))
    assert verify(second_code.text, store, now=t2).reason == "revoked"
    assert len(store.revoked) == 2

    # A list that does not follow on from what the verifier holds is refused.
    behind = TrustStore.from_trust_list(healthcode.trust_list(now=t2))
    behind.through = 0
    ahead = healthcode.revocation_list(session, since=store.through, now=t2)
    if json.loads(_payload(ahead))["since"] > 0:
        with pytest.raises(ListError) as caught:
            behind.apply_revocations(ahead)
        assert caught.value.reason == "revocations_gap"


def test_revocation_entries_expire_with_their_codes(
    keys: Path, session: Any, now: datetime, register_person: Any, lab: Any
) -> None:
    source, _ = lab
    person = register_person("A123456(3)")
    _green(session, person, source, "A123456(3)", "E-1", now)
    code = healthcode.issue(session, person.id, now=now)
    _positive(session, source, "A123456(3)", "E-2", now + H)
    full = json.loads(_payload(healthcode.revocation_list(session, now=now + H)))
    assert [e["expires_at"] for e in full["entries"]] == [
        code.valid_until.isoformat().replace("+00:00", "Z")]
    store = _file(session, now + H)
    assert len(store.revoked) == 1

    after = code.valid_until + timedelta(seconds=1)
    assert json.loads(_payload(healthcode.revocation_list(session, now=after)))["entries"] == []
    # A verifier that syncs drops the entry too, once a list issued after its expiry arrives.
    store.apply_revocations(healthcode.revocation_list(session, since=store.through, now=after))
    assert store.revoked == {}
    assert verify(code.text, store, now=after).reason == "expired"


def test_a_polling_verifier_sees_a_revocation_within_60_seconds(
    keys: Path, session: Any, now: datetime, register_person: Any, lab: Any, app: Any,
    client: Any
) -> None:
    source, _ = lab
    person = register_person("A123456(3)")
    _green(session, person, source, "A123456(3)", "P-1", now)
    code = healthcode.issue(session, person.id, now=now)
    store = TrustStore.from_bundle(client.get("/api/trust-list/export").json())
    assert store.poll_seconds <= 60

    revoked_at = now + timedelta(seconds=1)  # just after the verifier's last poll
    _positive(session, source, "A123456(3)", "P-2", revoked_at)
    # The verifier polls every poll_seconds: its next poll is within 60 s of the revocation,
    # and the list served then already carries it (it is made per request, never cached).
    next_poll = now + timedelta(seconds=store.poll_seconds)
    assert next_poll - revoked_at <= timedelta(seconds=60)
    app.state.now = next_poll
    response = client.get("/api/trust-list/revocations", params={"since": store.through})
    assert response.status_code == 200
    assert store.apply_revocations(response.json()) == 1
    verdict = verify(code.text, store, now=next_poll)
    assert (verdict.result, verdict.reason) == (INVALID, "revoked")
    assert verdict.revocation_list_age == 0.0
    bad = client.get("/api/trust-list/revocations", params={"since": -1})
    assert bad.status_code == 422 and "since" in bad.text


# --------------------------------------------------------------------------- the verifier


def _bundle(key: Any, anchor: Any, now: datetime, *, revocations: bool = True,
            revoked: tuple[str, ...] = ()) -> dict[str, Any]:
    trust = sign_list({"type": "trust-list", "version": 1, "jurisdiction": "HK",
                       "issued_at": now.isoformat(), "max_age_seconds": 3600, "keys": [
                           {"kid": key.kid.hex(), "jurisdiction": "HK", "alg": "ES256",
                            "public_key": key.public.to_b64(), "valid_from": now.isoformat(),
                            "valid_until": None}]}, anchor)
    bundle: dict[str, Any] = {"trust_list": trust}
    if revocations:
        bundle["revocations"] = sign_list({
            "type": "revocations", "version": 1, "jurisdiction": "HK",
            "issued_at": now.isoformat(), "max_age_seconds": 600, "poll_seconds": 30,
            "since": 0, "through": len(revoked), "entries": [
                {"seq": n + 1, "hash": h, "expires_at": (now + 48 * H).isoformat()}
                for n, h in enumerate(revoked)]}, anchor)
    return bundle


def test_the_three_results_with_reason_codes_and_list_ages(now: datetime) -> None:
    from borderpass.healthcode.codec import code_hash

    key, anchor, stranger = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    claims = CodeClaims("HK", b"\x07" * 16, now, now + 24 * H, "green", "CTM", "A1*****(3)",
                        "hkid")
    text = encode(claims, key, prefix="BPHC1:")
    store = TrustStore.from_bundle(_bundle(key, anchor, now))

    at = now + timedelta(seconds=90)
    valid = verify(text, store, now=at)
    assert (valid.result, valid.reason, valid.colour) == (VALID, None, "green")
    assert (valid.trust_list_age, valid.revocation_list_age) == (90.0, 90.0)
    shown = valid.as_json()
    assert shown["lists"] == {"trust_list_age_seconds": 90.0,
                              "revocation_list_age_seconds": 90.0}

    unknown = verify(encode(claims, stranger, prefix="BPHC1:"), store, now=at)
    assert (unknown.result, unknown.reason) == (CANNOT_VERIFY, "unknown_issuer")

    stale_trust = verify(text, store, now=now + 3601 * timedelta(seconds=1))
    assert (stale_trust.result, stale_trust.reason) == (CANNOT_VERIFY, "trust_list_stale")
    assert stale_trust.trust_list_age == 3601.0

    stale_revocations = verify(text, store, now=now + timedelta(seconds=601))
    assert (stale_revocations.result, stale_revocations.reason) == (
        CANNOT_VERIFY, "revocation_list_stale")
    assert stale_revocations.revocation_list_age == 601.0

    without = TrustStore.from_bundle(_bundle(key, anchor, now, revocations=False))
    missing = verify(text, without, now=at)
    assert (missing.result, missing.reason) == (CANNOT_VERIFY, "revocation_list_stale")
    assert missing.revocation_list_age is None

    revoked = TrustStore.from_bundle(_bundle(key, anchor, now,
                                             revoked=(code_hash(claims.code_id),)))
    assert (verify(text, revoked, now=at).result, verify(text, revoked, now=at).reason) == (
        INVALID, "revoked")
    short = encode(CodeClaims("HK", b"\x08" * 16, now, now + timedelta(seconds=60), "green",
                              "CTM", "A1*****(3)", "hkid"), key, prefix="BPHC1:")
    expired = verify(short, store, now=at)
    assert (expired.result, expired.reason) == (INVALID, "expired")
    tampered = text[:-3] + ("A" if text[-3] != "A" else "B") + text[-2:]
    assert verify(tampered, store, now=at).result == INVALID
    wrong = TrustStore.from_bundle(_bundle(key, stranger, now))
    assert verify(text, wrong, now=at).valid  # the anchor is pinned separately, below
    with pytest.raises(ListError) as caught:
        TrustStore.from_bundle(_bundle(key, stranger, now), anchor=anchor.kid.hex())
    assert caught.value.reason == "wrong_anchor"


# --------------------------------------------------------------------------- the API


def test_the_qr_image_decodes_to_the_code_text(
    keys: Path, session: Any, now: datetime, register_person: Any, lab: Any, client: Any
) -> None:
    import zxingcpp
    from PIL import Image

    from borderpass.identity import service as identity

    person = register_person("A123456(3)")
    source, _ = lab
    _green(session, person, source, "A123456(3)", "Q-1", now)
    _, token, _ = identity.sign_in(session, "hkid", "A123456(3)", "password-123", now=now)
    headers = {"Authorization": f"Bearer {token}"}
    text = client.get("/api/health-code", headers=headers).json()["text"]
    png = client.get("/api/health-code.png", headers=headers)
    assert png.status_code == 200 and png.headers["cache-control"] == "no-store"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)).convert("L"))
    assert [code.text for code in found if code.valid] == [text]
    assert client.get("/api/health-code.gif", headers=headers).status_code == 404
    assert client.get("/api/health-code.png").status_code == 401


def test_verify_endpoint(keys: Path, session: Any, now: datetime, register_person: Any,
                         lab: Any, client: Any) -> None:
    person = register_person("A123456(3)")
    source, _ = lab
    _green(session, person, source, "A123456(3)", "V-1", now)
    code = healthcode.issue(session, person.id, now=now)

    ok = client.post("/api/health-codes/verify", json={"text": code.text}).json()
    assert (ok["valid"], ok["result"], ok["colour"], ok["error"]) == (True, VALID, "green", None)
    assert ok["holder"] == {"initials": "CTM", "document": "A1*****(3)", "document_kind": "hkid"}
    assert ok["lists"]["trust_list_age_seconds"] == 0.0

    later = (code.valid_until + H).isoformat()
    expired = client.post("/api/health-codes/verify", json={"text": code.text, "at": later})
    assert (expired.json()["result"], expired.json()["error"]) == (INVALID, "expired")

    stranger = encode(CodeClaims("HK", b"\x01" * 16, now, now + H, "green", "X", "X", "hkid"),
                      SigningKey.generate(), prefix=get_settings().code_prefix)
    unknown = client.post("/api/health-codes/verify", json={"text": stranger}).json()
    assert (unknown["valid"], unknown["result"], unknown["error"]) == (
        False, CANNOT_VERIFY, "unknown_issuer")

    _positive(session, source, "A123456(3)", "V-2", now)
    revoked = client.post("/api/health-codes/verify", json={"text": code.text}).json()
    assert (revoked["result"], revoked["error"]) == (INVALID, "revoked")

    for body, field in (({}, "text"), ({"text": ""}, "text"), ({"text": "x" * 5000}, "text"),
                        ({"text": code.text, "at": "yesterday"}, "at"),
                        ({"text": code.text, "extra": 1}, "extra")):
        response = client.post("/api/health-codes/verify", json=body)
        assert response.status_code == 422 and field in response.text, body
    garbage = client.post("/api/health-codes/verify", json={"text": "BPHC1:%%%"}).json()
    assert (garbage["valid"], garbage["error"]) == (False, "bad_base45")
