"""Conversion: a partner's green code of today becomes our code, holding only what the
original showed; anything else is refused with its reason; the converted code is
revoked at the sync after the partner revokes the original."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import base45
import cbor2
import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.orm import Session, sessionmaker

from borderpass.crossing import conversion
from borderpass.crossing import partners as federation
from borderpass.healthcode import service as healthcode
from borderpass.healthcode.codec import CLAIM_HEALTH_CODE, decode_claims
from borderpass.healthcode.qr import qr_image
from borderpass.kit.clock import end_of_day
from borderpass.kit.db import unit_of_work
from tests.crossing.fake_partner import FakePartner
from tests.web.test_pages import csrf_of, english, sign_in_staff


@pytest.fixture()
def gd(session: Session, factory: sessionmaker[Session], now: datetime) -> FakePartner:
    """Guangdong, a partner whose lists this instance (Hong Kong) holds."""
    partner = FakePartner()
    federation.add_partner(session, "GD", partner.url, partner.kid, now=now)
    [synced] = federation.sync(lambda: unit_of_work(factory), now=now, get=partner.getter(now))
    assert synced.ok
    return partner


def refused(session: Session, code: str, now: datetime) -> str:
    with pytest.raises(conversion.ConversionRefused) as raised:
        conversion.convert(session, code, now=now)
    return raised.value.code


def test_a_green_code_of_today_converts_to_our_code(
    session: Session, now: datetime, gd: FakePartner
) -> None:
    original, original_hash = gd.code(now, hours=20)  # valid past midnight: capped at 23:59
    converted = conversion.convert(session, original, now=now)
    assert (converted.colour, converted.original_issuer) == ("green", "GD")
    assert converted.valid_until == end_of_day(now).astimezone(UTC)
    verdict = healthcode.verify_code(session, converted.text, now=now)
    assert (verdict.valid, verdict.colour, verdict.issuer) == (True, "green", "HK")
    assert verdict.holder == {"initials": "CTM", "document": "A1*****(3)",
                              "document_kind": "hkid"}
    assert verdict.original == {"issuer": "GD", "hash": original_hash}
    # Converting the same code again gives the same code, not another.
    assert conversion.convert(session, original, now=now + timedelta(minutes=1)).text == \
        converted.text
    # A code that expires before midnight gives a code that expires with it.
    short, _hash = gd.code(now, hours=3)
    assert conversion.convert(session, short, now=now).valid_until == now + timedelta(hours=3)


def test_what_cannot_be_converted_is_refused_with_its_reason(
    session: Session, factory: sessionmaker[Session], register_person: Any, now: datetime,
    gd: FakePartner,
) -> None:
    stranger = FakePartner(jurisdiction="MO")
    unsynced, _h = stranger.code(now)
    red, _h = gd.code(now, colour="red")
    amber, _h = gd.code(now, colour="amber")
    revoked, revoked_hash = gd.code(now)
    yesterday, _h = gd.code(now, issued_at=now - timedelta(hours=12))  # 22:00 the day before
    green, _h = gd.code(now)
    tampered = _with_signature_changed(green)
    person = register_person()
    ours = healthcode.issue(session, person.id, now=now).text
    cases = {
        "not_green": [red, amber],
        "unknown_partner": [unsynced],
        "invalid_signature": [tampered],
        "own_code": [ours],
        "not_today": [yesterday],
        "not_a_code": ["", "BPHC1:NOT-A-CODE", "HC1:anything"],
    }
    for reason, codes in cases.items():
        for code in codes:
            assert refused(session, code, now) == reason, (reason, code[:20])
    assert refused(session, green, now + timedelta(hours=11)) == "expired"
    assert refused(session, green, now - timedelta(hours=1)) == "not_yet_valid"
    # Lists not synced for more than a day can no longer say a code is not revoked.
    late_code, _h = gd.code(now + timedelta(days=2), hours=5)
    assert refused(session, late_code, now + timedelta(days=2)) == "lists_stale"

    gd.revoke(revoked_hash, now + timedelta(hours=10))
    later = now + timedelta(minutes=5)
    federation.sync(lambda: unit_of_work(factory), now=later, get=gd.getter(later))
    assert refused(session, revoked, later) == "revoked"
    # The reason is said in the three languages.
    with pytest.raises(conversion.ConversionRefused) as raised:
        conversion.convert(session, red, now=now)
    assert raised.value.render("en") == "Only a green code can be converted."
    assert raised.value.render("zh_Hant") != raised.value.render("en")
    assert raised.value.render("zh_Hans") != raised.value.render("zh_Hant")


def test_the_converted_code_is_revoked_at_the_sync_after_the_original(
    session: Session, factory: sessionmaker[Session], now: datetime, gd: FakePartner
) -> None:
    original, original_hash = gd.code(now)
    converted = conversion.convert(session, original, now=now)
    later = now + timedelta(minutes=30)
    gd.revoke(original_hash, now + timedelta(hours=10))
    assert healthcode.verify_code(session, converted.text, now=later).valid  # not synced yet
    [synced] = federation.sync(lambda: unit_of_work(factory), now=later, get=gd.getter(later))
    assert synced.accepted is not None and synced.accepted.converted_revoked == 1
    verdict = healthcode.verify_code(session, converted.text, now=later)
    assert (verdict.result, verdict.reason) == ("invalid", "revoked")
    # Our own revocation list names it, so every verifier of ours learns it.
    ours = healthcode.revocation_list(session, now=later)
    from borderpass.healthcode.lists import open_list

    content, _kid = open_list(ours, "revocations")
    assert verdict.code_hash in {entry["hash"] for entry in content["entries"]}
    assert refused(session, original, later) == "revoked"


def _with_signature_changed(code: str) -> str:
    """The same code with one bit of its signature flipped: it reads, but does not verify."""
    message = cbor2.loads(zlib.decompress(base45.b45decode(code.removeprefix("BPHC1:"))))
    signature = bytearray(message.value[3])
    signature[10] ^= 1
    message.value[3] = bytes(signature)
    return "BPHC1:" + base45.b45encode(zlib.compress(cbor2.dumps(message))).decode()


def _payload(code: str) -> dict[Any, Any]:
    message = cbor2.loads(zlib.decompress(base45.b45decode(code.removeprefix("BPHC1:"))))
    assert message.tag == 18  # COSE_Sign1
    claims = cbor2.loads(message.value[2])
    assert isinstance(claims, dict)
    return claims


def _tables(session: Session) -> dict[str, int]:
    """Count the rows of every table of the database, as it is."""
    tables = MetaData()
    tables.reflect(bind=session.connection())
    return {table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in tables.sorted_tables}


def test_no_check_in_record_test_result_or_address_travels(
    session: Session, now: datetime, gd: FakePartner
) -> None:
    from borderpass.healthcode.partner_models import ConvertedCode

    original, original_hash = gd.code(now, initials="CTM", document="A1*****(3)")
    before = _tables(session)
    converted = conversion.convert(session, original, now=now)
    after = _tables(session)
    # One row is written, in one table: the converted code.
    assert {name: after[name] - before[name] for name in after
            if after[name] != before[name]} == {"converted_codes": 1}
    row = session.scalars(select(ConvertedCode)).one()
    assert (row.original_issuer, row.original_hash, row.colour) == ("GD", original_hash,
                                                                    "green")
    # The code says what the original showed, its validity and where it came from.
    claims = _payload(converted.text)
    assert set(claims) == {1, 4, 6, 7, CLAIM_HEALTH_CODE}
    assert claims[CLAIM_HEALTH_CODE] == {"v": 1, "c": "green", "n": "CTM", "d": "A1*****(3)",
                                         "k": "hkid", "r": {"i": "GD", "h": original_hash}}
    assert decode_claims(claims).original == ("GD", original_hash)
    assert row.text == converted.text


def test_convert_api(client: Any, now: datetime, gd: FakePartner) -> None:
    original, _hash = gd.code(now)
    answer = client.post("/api/health-codes/convert", json={"text": original})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["colour"], body["issuer"], body["original_issuer"]) == ("green", "HK", "GD")
    assert body["holder"] == {"initials": "CTM", "document": "A1*****(3)"}
    checked = client.post("/api/health-codes/verify", json={"text": body["text"]}).json()
    assert (checked["valid"], checked["issuer"], checked["original"]["issuer"]) == \
        (True, "HK", "GD")
    red, _hash = gd.code(now, colour="red")
    no = client.post("/api/health-codes/convert", json={"text": red})
    assert no.status_code == 422
    assert no.json()["error"]["code"] == "not_green"
    assert client.post("/api/health-codes/convert", json={"text": ""}).status_code == 422


def test_the_partners_endpoint_is_for_staff(client: Any, staff_token: Any,
                                            gd: FakePartner) -> None:
    assert client.get("/api/partners").status_code == 401
    _member, token = staff_token("border_officer")
    shown = client.get("/api/partners", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(p["jurisdiction"], p["anchor"], p["last_result"]) for p in shown] == \
        [("GD", gd.kid, "ok")]
    assert shown[0]["lists"]["rule_set"] == "GD-HEALTH-CODE@2.1.0"


def test_the_conversion_page_pasted_text_and_photo(
    client: Any, now: datetime, gd: FakePartner
) -> None:
    english(client)
    page = client.get("/convert")
    assert page.status_code == 200
    assert "Codes recognised here: Guangdong." in page.text
    assert "No test result, travel record, name or address" in page.text
    token = csrf_of(page.text)
    original, _hash = gd.code(now)
    done = client.post("/convert/text", data={"csrf_token": token, "code_text": original})
    assert done.status_code == 200, done.text
    assert 'class="code green"' in done.text and "Hong Kong code" in done.text
    assert "Converted from a Guangdong code" in done.text and "CTM · A1*****(3)" in done.text
    assert "<svg" in done.text
    photo = client.post("/convert/photo", data={"csrf_token": token},
                        files={"photo": ("code.png", qr_image(original, "png"), "image/png")})
    assert photo.status_code == 200 and "Converted from a Guangdong code" in photo.text
    red, _hash = gd.code(now, colour="red")
    no = client.post("/convert/text", data={"csrf_token": token, "code_text": red})
    assert no.status_code == 422 and "Only a green code can be converted." in no.text
    blank = client.post("/convert/text", data={"csrf_token": token, "code_text": ""})
    assert blank.status_code == 422 and "Paste the text of a code." in blank.text
    unreadable = client.post("/convert/photo", data={"csrf_token": token},
                             files={"photo": ("x.png", b"not an image", "image/png")})
    assert unreadable.status_code == 422 and "No health code could be read" in unreadable.text
    forged = client.post("/convert/text", data={"csrf_token": "nope", "code_text": original})
    assert forged.status_code == 403
    client.cookies.set("locale", "zh_Hant")
    chinese = client.post("/convert/text", data={"csrf_token": token, "code_text": red})
    assert "Only a green code" not in chinese.text


def test_the_officers_scanner_says_whose_code_it_is(
    client: Any, staff_token: Any, now: datetime, gd: FakePartner
) -> None:
    english(client)
    sign_in_staff(client, staff_token, "border_officer")
    page = client.get("/officer/scan")
    original, _hash = gd.code(now)
    shown = client.post("/officer/scan/text", data={"csrf_token": csrf_of(page.text),
                                                    "code_text": original})
    assert 'class="code green"' in shown.text and "Guangdong code" in shown.text


def test_the_code_page_links_to_the_partners_conversion_page(
    client: Any, register_person: Any, lab: Any, session: Any, now: datetime, gd: FakePartner
) -> None:
    from tests.healthcode.test_pages import negative_test, sign_in_resident

    english(client)
    register_person()
    negative_test(session, lab, now)
    sign_in_resident(client)
    page = client.get("/code")
    assert 'class="code green"' in page.text
    assert "Convert to a Guangdong code" in page.text
    assert f'href="{gd.url}/convert#code=BPHC1%3A' in page.text
