"""Privacy, proved: a whole scenario with three phones, after which the server's database
and logs hold no check-in of the two phones that did not upload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from borderpass.checkin.models import UploadedVisit
from borderpass.kit.config import get_settings
from borderpass.kit.db import Base
from tests.checkin.conftest import LEGACY_CODE

H = timedelta(hours=1)


def _instants(phone: Any, now: datetime) -> set[datetime]:
    found = set()
    for checkin in phone.records(now=now):
        found.update({checkin.started_at, checkin.ended_at})
    return found


def _forms(instant: datetime) -> set[str]:
    """Every way a stored or logged instant could be written."""
    utc = instant.astimezone(UTC)
    return {str(int(utc.timestamp())), utc.isoformat(), utc.strftime("%Y-%m-%d %H:%M:%S"),
            utc.strftime("%Y-%m-%dT%H:%M:%S"), instant.astimezone().isoformat()}


def _database_values(session: Any) -> list[Any]:
    values: list[Any] = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            values.extend(row)
    return values


def test_server_holds_no_check_in_of_phones_that_did_not_upload(
    client: Any, app: Any, session: Any, staff_token: Any, register_person: Any,
    make_venue: Any, make_phone: Any, now: datetime, caplog: Any,
) -> None:
    from borderpass.identity import service as identity

    restaurant, restaurant_code = make_venue()
    market, market_code = make_venue(name_en="Tsuen Wan Market", name_zh="荃灣街市",
                                     name_zh_hans="荃湾街市", type="market")
    chan = make_phone("chan", since=now - 21 * timedelta(days=1))
    lee = make_phone("lee", since=now - 30 * timedelta(days=1))
    wong = make_phone("wong", since=now - 5 * timedelta(days=1))
    sunday = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # 18:00 in Hong Kong
    # Odd seconds, so that each phone's times are its own.
    chan.check_in(restaurant_code, now=sunday + timedelta(minutes=1, seconds=11))
    lee.check_in(restaurant_code, now=sunday + timedelta(minutes=7, seconds=43))
    wong.check_in(restaurant_code, now=sunday + timedelta(minutes=13, seconds=29))
    chan.check_out(now=sunday + 2 * H + timedelta(seconds=5))
    lee.check_in(market_code, now=sunday + 1 * H + timedelta(minutes=2, seconds=37))
    wong.check_in_taxi("AB1234", now=sunday + 3 * H + timedelta(seconds=53))
    wong.check_out(now=sunday + 3 * H + timedelta(minutes=21, seconds=17))
    lee.check_in(LEGACY_CODE, now=sunday + timedelta(days=1, seconds=19))
    lee.check_out(now=sunday + timedelta(days=1, hours=1, seconds=47))

    # Wednesday: a diner at the restaurant tests positive; an officer records the visit.
    _officer, officer = staff_token("health_officer")
    recorded = client.post("/api/checkin/cases", headers={"Authorization": f"Bearer {officer}"},
                           json={"venue_id": restaurant.code,
                                 "starts_at": (sunday + 0.5 * H).isoformat(),
                                 "ends_at": (sunday + 1.5 * H).isoformat()})
    assert recorded.status_code == 201
    ordered = client.post("/api/evidence/testing-orders",
                          headers={"Authorization": f"Bearer {officer}"},
                          json={"reference": f"CTO-{uuid.uuid4().hex[:6]}",
                                "period_from": sunday.isoformat(),
                                "period_to": (sunday + 4 * H).isoformat(),
                                "test_by": (now + 2 * timedelta(days=1)).isoformat(),
                                "premises": [{"address": "G/F, 18 Sai Lau Kok Road",
                                              "venue_id": restaurant.code}]})
    assert ordered.status_code == 201, ordered.text
    app.state.now = now + timedelta(minutes=5)
    published = client.get("/api/checkin/exposure-list")  # anonymous, the same for all
    assert published.status_code == 200
    for phone in (chan, lee, wong):
        warnings = phone.warnings(published.text, now=now)
        assert [w.kind for w in warnings] == ["direct"]
        assert "Golden Dragon Restaurant" in warnings[0].message("en")

    # Only Mrs Chan uploads, with consent, to her account.
    person = register_person()
    _p, token, _ = identity.sign_in(session, "hkid", "A123456(3)", "password-123",
                                    now=app.state.now)
    uploaded = client.post("/api/checkin/uploads", headers={"Authorization": f"Bearer {token}"},
                           json={"consent": True, "bundle": chan.upload_bundle(now=app.state.now)})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["covers_last_14_days"] is True
    from borderpass.checkin import service

    facts = service.upload_facts(session, person.id, now=app.state.now)
    assert [e.place_id for e in facts.exposures] == [restaurant.code]
    assert [o.place_id for o in facts.orders] == [restaurant.code]

    # The server knows Mrs Chan's visit, because she sent it ...
    stored = session.scalars(select(UploadedVisit)).all()
    assert [(v.person_id, v.place_id) for v in stored] == [(person.id, restaurant.code)]
    assert market.code not in {v.place_id for v in stored}
    assert {v.starts_at for v in stored} <= _instants(chan, app.state.now)

    # ... and nothing of the other two phones: no time of theirs, no device key, anywhere.
    secret_instants = (_instants(lee, app.state.now) | _instants(wong, app.state.now))
    secret_instants -= _instants(chan, app.state.now)
    assert len(secret_instants) >= 8
    # (The market itself is a registered venue; that someone was there is what must not show.)
    secret_texts = {lee.device_key, wong.device_key, "AB1234", "WHBvLDSa"}
    for instant in secret_instants:
        secret_texts |= _forms(instant)
    for value in _database_values(session):
        if isinstance(value, datetime):
            assert value.astimezone(UTC) not in secret_instants, value
        elif isinstance(value, str | bytes):
            text = value if isinstance(value, str) else value.decode("latin-1")
            for secret in secret_texts:
                assert secret not in text, (secret, text[:80])
    log_file = get_settings().log_file
    logs = (log_file.read_text(encoding="utf-8") if log_file and log_file.exists() else "")
    logs += caplog.text
    assert "checkin.uploaded" in logs  # the logs are really read
    for secret in secret_texts:
        assert secret not in logs, secret
