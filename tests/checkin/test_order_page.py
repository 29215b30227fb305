"""A testing order entered on the officer's page names venues (found by name or venue
id), and so reaches the residents who uploaded a visit there: they turn red."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from borderpass.healthcode.models import PersonStatus
from borderpass.kit.clock import HONG_KONG
from tests.checkin.test_rules import _negative, _visit
from tests.web.test_pages import csrf_of, english, sign_in_staff

H = timedelta(hours=1)
D = timedelta(days=1)


def _local(instant: datetime) -> str:
    return instant.astimezone(HONG_KONG).strftime("%Y-%m-%dT%H:%M")


def test_an_order_entered_on_the_page_with_a_venue_turns_an_uploader_red(
    client: Any, session: Any, now: datetime, staff_token: Any, register_person: Any,
    lab: Any, make_venue: Any, make_phone: Any
) -> None:
    from borderpass.checkin import service

    person = register_person()
    _negative(session, lab, "A123456(3)", now - 2 * H, now)
    venue, code = make_venue(name_en="Golden Dragon Restaurant", name_zh="金龍酒家")
    make_venue(name_en="Silver Phoenix Tea House", name_zh="銀鳳茶樓")
    phone = make_phone(since=now - 20 * D)
    sunday = now - 4 * D
    _visit(phone, code, sunday + H)
    service.receive_upload(session, person.id, phone.upload_bundle(now=now), consent=True,
                           now=now)
    assert session.get(PersonStatus, person.id).colour == "green"

    english(client)
    sign_in_staff(client, staff_token, "health_officer")
    form = client.get("/officer/testing-orders")
    token = csrf_of(form.text)
    details = {"csrf_token": token, "reference": "CTO-PAGE-1",
               "period_from": _local(sunday), "period_to": _local(sunday + 4 * H),
               "test_by": _local(now + 2 * D), "premises": ""}

    # Without JavaScript, "Find" sends the form back with the venues found, by name ...
    found = client.post("/officer/testing-orders",
                        data={**details, "venue_q": "golden dragon", "find": "1"})
    assert found.status_code == 200
    assert f'name="venue" value="{venue.code}"' in found.text
    assert "Silver Phoenix" not in found.text
    assert 'value="CTO-PAGE-1"' in found.text  # what was typed is kept
    # ... by Chinese name, and by venue id (any case); the picker's search says the same.
    assert venue.code in client.post("/officer/testing-orders", data={
        **details, "venue_q": "金龍", "find": "1"}).text
    by_id = client.get(f"/officer/testing-orders/venues?q={venue.code.lower()}").json()
    assert [v["venue_id"] for v in by_id] == [venue.code]
    assert by_id[0]["name_zh"] == "金龍酒家" and by_id[0]["address"]

    # A venue id that names no venue is refused, naming it; nothing is recorded.
    bad = client.post("/officer/testing-orders", data={**details, "venue": "NOSUCHVENUE"})
    assert bad.status_code == 422
    assert re.search(r'id="e-venues">There is no venue with the id NOSUCHVENUE', bad.text)
    none = client.post("/officer/testing-orders", data=details)
    assert none.status_code == 422
    assert "Choose at least one venue or give at least one address." in none.text

    recorded = client.post("/officer/testing-orders", data={**details, "venue": venue.code},
                           follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    saved = session.get(PersonStatus, person.id)
    assert (saved.colour, saved.reasons) == ("red", "HK-RED-TESTING-ORDER")
    listed = client.get("/officer/testing-orders").text
    assert "CTO-PAGE-1" in listed and "18 Sai Lau Kok Road" in listed


def test_the_venue_search_needs_a_health_officer(client: Any, staff_token: Any) -> None:
    english(client)
    refused = client.get("/officer/testing-orders/venues?q=dragon", follow_redirects=False)
    assert refused.status_code in (303, 401, 403)
    sign_in_staff(client, staff_token, "help_desk")
    assert client.get("/officer/testing-orders/venues?q=dragon",
                      follow_redirects=False).status_code in (303, 403)


def test_the_api_finds_venues_for_an_order(client: Any, staff_token: Any,
                                           make_venue: Any) -> None:
    venue, _code = make_venue(name_en="Golden Dragon Restaurant")
    _member, token = staff_token("health_officer")
    found = client.get("/api/evidence/venues", params={"q": "Dragon"},
                       headers={"Authorization": f"Bearer {token}"})
    assert found.status_code == 200
    assert [v["venue_id"] for v in found.json()] == [venue.code]
    empty = client.get("/api/evidence/venues", params={"q": ""},
                       headers={"Authorization": f"Bearer {token}"})
    assert empty.status_code == 422


def test_a_venues_simplified_name_is_converted_from_the_traditional_one(
        make_venue: Any) -> None:
    venue, _code = make_venue(name_en="Silver Phoenix Tea House", name_zh="銀鳳茶樓",
                              name_zh_hans=None)
    assert venue.name_zh_hans == "银凤茶楼"
    given, _code = make_venue(name_zh="金龍酒家", name_zh_hans="金龙大酒家")
    assert given.name_zh_hans == "金龙大酒家"  # a name given is kept as it is
