"""Partners: registering one with its anchor pinned, syncing its lists (accepted only
when signed by the pinned anchor, of its jurisdiction, fresh and not older than those
held; revocations as deltas), and verifying its codes with them."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from borderpass.crossing import partners as federation
from borderpass.healthcode import service as healthcode
from borderpass.healthcode.lists import Federation, ListError
from borderpass.healthcode.verifier import verify
from borderpass.kit.db import unit_of_work
from borderpass.kit.signing import SigningKey
from tests.crossing.fake_partner import URL, FakePartner

Unit = Callable[[], AbstractContextManager[Session]]


@pytest.fixture()
def unit(factory: sessionmaker[Session]) -> Unit:
    """Units of work on the test's transaction, as the command line opens them."""
    return lambda: unit_of_work(factory)


@pytest.fixture()
def gd() -> FakePartner:
    return FakePartner()


def added(session: Session, partner: FakePartner, now: datetime) -> None:
    federation.add_partner(session, partner.jurisdiction, partner.url, partner.kid, now=now)


def test_a_partner_needs_a_jurisdiction_an_address_and_an_anchor(
    session: Session, now: datetime, gd: FakePartner
) -> None:
    cases = [
        (("guangdong province", URL, gd.kid), "jurisdiction"),
        (("HK", URL, gd.kid), "jurisdiction"),  # the instance's own
        (("GD", "ftp://gd.example.org", gd.kid), "url"),
        (("GD", "https://gd.example.org/?x=1", gd.kid), "url"),
        (("GD", URL, "not-a-key-id"), "anchor"),
        (("GD", URL, gd.kid + "00"), "anchor"),
    ]
    for (jurisdiction, url, anchor), field in cases:
        with pytest.raises(federation.InvalidPartner) as refused:
            federation.add_partner(session, jurisdiction, url, anchor, now=now)
        assert refused.value.field == field, (jurisdiction, url, anchor)
    shown = federation.add_partner(session, " gd ", URL + "/", gd.kid.upper(), now=now)
    assert (shown.jurisdiction, shown.url, shown.anchor) == ("GD", URL, gd.kid)
    with pytest.raises(federation.PartnerExists):
        federation.add_partner(session, "GD", URL, gd.kid, now=now)
    moved = federation.add_partner(session, "GD", "https://new.gd.example.org", gd.kid,
                                   now=now, replace=True)
    assert moved.url == "https://new.gd.example.org"
    with pytest.raises(federation.PartnerNotFound):
        federation.remove_partner(session, "MO")


def test_sync_keeps_the_lists_and_the_partners_codes_verify(
    session: Session, unit: Unit, now: datetime, gd: FakePartner
) -> None:
    added(session, gd, now)
    green, _hash = gd.code(now)
    before = healthcode.verify_code(session, green, now=now)
    assert (before.result, before.reason) == ("cannot_verify", "unknown_issuer")

    results = federation.sync(unit, now=now, get=gd.getter(now))
    assert [(r.jurisdiction, r.result) for r in results] == [("GD", "ok")]
    accepted = results[0].accepted
    assert accepted is not None and accepted.keys == 1 and accepted.rule_set == \
        "GD-HEALTH-CODE@2.1.0"
    assert gd.requests == [f"{URL}/api/trust-list", f"{URL}/api/trust-list/revocations?since=0",
                           f"{URL}/api/trust-list/rule-set"]

    verdict = healthcode.verify_code(session, green, now=now + timedelta(minutes=5))
    assert (verdict.valid, verdict.colour, verdict.issuer) == (True, "green", "GD")
    assert verdict.holder == {"initials": "CTM", "document": "A1*****(3)",
                              "document_kind": "hkid"}
    [shown] = federation.list_partners(session)
    assert (shown.last_result, shown.last_success_at, shown.site_url) == ("ok", now, URL)
    assert shown.lists is not None and shown.lists.rule_set == "GD-HEALTH-CODE@2.1.0"
    assert healthcode.partner_rule_set(session, "GD") == {
        "Identifier": "GD-HEALTH-CODE", "Version": "2.1.0", "Jurisdiction": "GD", "Rules": []}


def test_revocations_come_as_deltas_and_revoke_the_partners_codes(
    session: Session, unit: Unit, now: datetime, gd: FakePartner
) -> None:
    added(session, gd, now)
    first, first_hash = gd.code(now)
    second, second_hash = gd.code(now)
    gd.revoke(first_hash, now + timedelta(hours=10))
    assert federation.sync(unit, now=now, get=gd.getter(now))[0].ok
    assert healthcode.verify_code(session, first, now=now).reason == "revoked"
    assert healthcode.verify_code(session, second, now=now).valid

    later = now + timedelta(minutes=10)
    gd.revoke(second_hash, now + timedelta(hours=10))
    gd.requests.clear()
    [result] = federation.sync(unit, now=later, get=gd.getter(later))
    assert result.ok and result.accepted is not None
    assert (result.accepted.through, result.accepted.revoked) == (2, 2)
    assert f"{URL}/api/trust-list/revocations?since=1" in gd.requests  # only what is new
    assert healthcode.verify_code(session, second, now=later).reason == "revoked"
    assert healthcode.verify_code(session, first, now=later).reason == "revoked"


def test_lists_not_signed_by_the_pinned_anchor_are_refused_and_the_held_ones_kept(
    session: Session, unit: Unit, now: datetime, gd: FakePartner
) -> None:
    added(session, gd, now)
    green, _hash = gd.code(now)
    assert federation.sync(unit, now=now, get=gd.getter(now))[0].ok
    impostor = FakePartner(key=gd.key)  # same code key, another anchor
    later = now + timedelta(minutes=5)
    [result] = federation.sync(unit, now=later, get=impostor.getter(later))
    assert (result.result, result.ok) == ("wrong_anchor", False)
    assert "not signed by the anchor key pinned" in result.message
    [shown] = federation.list_partners(session)
    assert (shown.last_result, shown.last_success_at) == ("wrong_anchor", now)
    assert shown.lists is not None and shown.lists.trust_issued_at == now
    assert healthcode.verify_code(session, green, now=later).valid


def test_older_lists_gaps_and_other_jurisdictions_are_refused(
    session: Session, now: datetime, gd: FakePartner
) -> None:
    def accept(trust: object, revocations: object, at: datetime) -> None:
        healthcode.accept_lists(session, "GD", gd.kid, trust_list=trust,
                                revocations=revocations, rule_set=None, now=at)

    later = now + timedelta(hours=1)
    gd.revoke("0" * 32, now + timedelta(hours=5))
    accept(gd.trust_list(later), gd.revocations(later), later)
    cases = [
        ((gd.trust_list(now), gd.revocations(later, since=1)), "list_older"),
        ((gd.trust_list(later), gd.revocations(now, since=1)), "list_older"),
        ((gd.trust_list(later), gd.revocations(later, since=5)), "revocations_gap"),
        ((gd.trust_list(later, jurisdiction="MO"), gd.revocations(later)), "wrong_jurisdiction"),
        ((gd.trust_list(later - timedelta(days=8)), gd.revocations(later)), "list_stale"),
        ((gd.trust_list(later + timedelta(hours=1)), gd.revocations(later)), "list_from_future"),
        ((gd.trust_list(later, anchor=SigningKey.generate()), gd.revocations(later)),
         "wrong_anchor"),
        (({"alg": "ES256"}, gd.revocations(later)), "bad_list"),
    ]
    for (trust, revocations), reason in cases:
        with pytest.raises(healthcode.ListRefused) as refused:
            accept(trust, revocations, later)
        assert refused.value.code == reason
        assert refused.value.render("en").startswith("The lists of GD were refused: ")
    tampered = dict(gd.trust_list(later))
    tampered["signature"] = gd.trust_list(later + timedelta(seconds=1))["signature"]
    with pytest.raises(healthcode.ListRefused) as refused:
        accept(tampered, gd.revocations(later), later)
    assert refused.value.code == "bad_list_signature"


def test_a_partner_that_does_not_answer_is_recorded_and_the_others_synced(
    session: Session, unit: Unit, now: datetime, gd: FakePartner
) -> None:
    mo = FakePartner(jurisdiction="MO", url="https://mo.example.org")
    added(session, gd, now)
    added(session, mo, now)
    gd.down = True

    def get(url: str) -> tuple[int, bytes]:
        return (gd.getter(now) if url.startswith(gd.url) else mo.getter(now))(url)

    results = federation.sync(unit, now=now, get=get)
    assert [(r.jurisdiction, r.result) for r in results] == [("GD", "unreachable"),
                                                            ("MO", "ok")]
    assert "the partner did not answer" in results[0].message
    only = federation.sync(unit, now=now, only="mo", get=get)
    assert [r.jurisdiction for r in only] == ["MO"]
    with pytest.raises(federation.PartnerNotFound):
        federation.sync(unit, now=now, only="XX", get=get)

    def broken(url: str) -> tuple[int, bytes]:
        return (503, b"") if url.endswith("/api/trust-list") else (200, b"{")

    assert federation.sync(unit, now=now, only="MO", get=broken)[0].result == "http_503"


def test_removing_a_partner_forgets_its_lists(
    session: Session, unit: Unit, now: datetime, gd: FakePartner
) -> None:
    added(session, gd, now)
    green, _hash = gd.code(now)
    federation.sync(unit, now=now, get=gd.getter(now))
    assert healthcode.verify_code(session, green, now=now).valid
    federation.remove_partner(session, "GD")
    assert healthcode.verify_code(session, green, now=now).reason == "unknown_issuer"
    assert federation.list_partners(session) == []


def test_a_new_anchor_pinned_drops_what_was_held_under_the_old_one(
    session: Session, unit: Unit, now: datetime, gd: FakePartner
) -> None:
    added(session, gd, now)
    federation.sync(unit, now=now, get=gd.getter(now))
    renewed = FakePartner(key=gd.key)
    federation.add_partner(session, "GD", URL, renewed.kid, now=now, replace=True)
    green, _hash = gd.code(now)
    assert healthcode.verify_code(session, green, now=now).reason == "unknown_issuer"
    later = now + timedelta(minutes=1)
    assert federation.sync(unit, now=later, get=renewed.getter(later))[0].ok
    assert healthcode.verify_code(session, green, now=later).valid


def test_the_exported_file_carries_the_partners_lists_for_offline_verifiers(
    session: Session, unit: Unit, now: datetime, gd: FakePartner
) -> None:
    added(session, gd, now)
    green, revoked_hash = gd.code(now)
    other, _hash = gd.code(now)
    gd.revoke(revoked_hash, now + timedelta(hours=10))
    federation.sync(unit, now=now, get=gd.getter(now))
    bundle: dict[str, Any] = json.loads(json.dumps(healthcode.export(session, now=now)))
    assert set(bundle) == {"trust_list", "revocations", "partners"}
    lists = Federation.from_bundle(bundle, anchor=bundle["trust_list"]["kid"])
    assert set(lists.partners) == {"GD"}
    assert verify(other, lists, now=now).valid
    assert verify(green, lists, now=now).reason == "revoked"
    # The partner lists are vouched for by our anchor: another key's signature is refused.
    from borderpass.healthcode.lists import open_list, sign_list

    content, _kid = open_list(bundle["partners"], "partner-lists")
    forged = dict(bundle, partners=sign_list(content, SigningKey.generate()))
    with pytest.raises(ListError) as refused:
        Federation.from_bundle(forged)
    assert refused.value.reason == "wrong_anchor"


def test_the_rule_set_in_force_is_published_signed_by_the_anchor(
    client: Any, session: Session, now: datetime
) -> None:
    from borderpass.healthcode.lists import open_list

    envelope = client.get("/api/trust-list/rule-set").json()
    content, kid = open_list(envelope, "rule-set", anchor=healthcode.anchor_kid(now=now))
    assert content["jurisdiction"] == "HK"
    assert content["rule_set"]["Identifier"] == "HK-HEALTH-CODE"
    assert kid == client.get("/api/trust-list").json()["kid"]


def test_lists_under_a_new_anchor_replace_all_that_was_held(
    session: Session, now: datetime, gd: FakePartner
) -> None:
    gd.revoke("1" * 32, now + timedelta(hours=5))
    gd.revoke("2" * 32, now + timedelta(hours=5))
    healthcode.accept_lists(session, "GD", gd.kid, trust_list=gd.trust_list(now),
                            revocations=gd.revocations(now), rule_set=None, now=now)
    renewed = FakePartner(key=gd.key)
    later = now + timedelta(minutes=1)
    # A delta that follows on from the old anchor's lists is no use under the new one.
    with pytest.raises(healthcode.ListRefused) as refused:
        healthcode.accept_lists(session, "GD", renewed.kid,
                                trust_list=renewed.trust_list(later),
                                revocations=renewed.revocations(later, since=2),
                                rule_set=None, now=later)
    assert refused.value.code == "revocations_gap"
    assert healthcode.held_through(session, "GD", gd.kid) == 2  # nothing changed
    accepted = healthcode.accept_lists(session, "GD", renewed.kid,
                                       trust_list=renewed.trust_list(later),
                                       revocations=renewed.revocations(later),
                                       rule_set=None, now=later)
    assert (accepted.revoked, accepted.through) == (0, 0)
    [held] = healthcode.held_lists(session)
    assert (held.anchor, held.revoked) == (renewed.kid, 0)
