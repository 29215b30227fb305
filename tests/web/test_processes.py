"""Several web processes on one database share everything that must be shared.

Two ``borderpass serve`` commands on one folder and one database (SQLite, or a fresh
PostgreSQL database when the suite runs on PostgreSQL), the first with ``--workers 2``:
three web processes in all. Requests alternate between the two ports, as a load
balancer in front of them would send them. Nothing a request leaves behind may stay in
the memory of the process that took it:

- a gate-1 token accepted by one is refused as a replay by the other;
- a session begun on one (signing in, with the CSRF token of the form) serves pages on
  the other, and a form posted to the other with that session's token is accepted;
- the sign-in throttle counts the failures taken by both, and locks the account after
  exactly the configured number;
- a code revoked by one (a laboratory's positive result) is refused by the other's
  verify API, whose lists are held in memory, within its check interval;
- the code page, which each process keeps rendered while what it shows holds, shows a
  new result and a revoked code at once on every process;
- ``/metrics`` of the two-worker server adds up both workers' requests, and ``/readyz``
  of each says it is ready.
"""

from __future__ import annotations

import base64
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from borderpass.echannel import qr
from borderpass.echannel.card import make_card
from borderpass.echannel.face import crop_portrait
from borderpass.kit.clock import HONG_KONG, utcnow
from borderpass.kit.signing import SigningKey
from tests.web.served import (
    PASSWORD,
    RESIDENTS,
    Database,
    Reply,
    Server,
    call,
    form,
    page_cookie,
    resident_token,
    staff_token,
)

pytestmark = pytest.mark.slow

FACES = Path(__file__).resolve().parent.parent / "vectors" / "faces"
CHAN = RESIDENTS[0]
LI = ("mainland", "430102197506151237")  # the demo's mainland resident
LOCK_AFTER = 4
SETTINGS = {
    "BORDERPASS_SIGN_IN_LOCK_AFTER": str(LOCK_AFTER),
    # Only the lock is under test: no waits between attempts, none per address.
    "BORDERPASS_SIGN_IN_DELAY_AFTER": "100",
    "BORDERPASS_SIGN_IN_ADDRESS_DELAY_AFTER": "1000",
}


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Server, Server]]:
    folder = Path(tempfile.mkdtemp(prefix="borderpass-processes-"))
    database = Database.create(folder)
    servers = (Server(folder, database), Server(folder, database))
    servers[0].serve_options = ["--workers", "2"]
    for server in servers:
        server.env.update(SETTINGS)
    try:
        servers[0].prepare()
        for server in servers:  # a shared machine may take a while to start three
            server.start(timeout=180)
        yield servers
    finally:
        for server in servers:
            server.stop()
        database.close()
        shutil.rmtree(folder, ignore_errors=True)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_of(page: Reply) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page.body)
    assert page.status == 200 and found is not None, (page.status, page.body[:300])
    return found.group(1).decode()


def test_both_are_ready(pair: tuple[Server, Server]) -> None:
    for server in pair:
        reply = call(server.port, "GET", "/readyz")
        assert reply.status == 200, reply.body
        assert reply.json() == {"status": "ready", "checks": {"database": "ok", "keys": "ok"}}


def test_a_gate1_token_accepted_by_one_is_a_replay_at_the_other(
    pair: tuple[Server, Server]
) -> None:
    one, other = pair
    # A card signed by the authority key the servers made under their folder.
    authority = SigningKey.from_pem((one.var / "keys" / "echannel-card-authority.pem")
                                    .read_bytes())
    card = make_card(number=CHAN, name_en="CHAN Tai Man", name_zh="陳大文",
                     born_on=date(1980, 5, 4), issued_on=date(2020, 1, 1),
                     photo=crop_portrait((FACES / "obama.jpg").read_bytes()),
                     authority=authority)
    device = SigningKey.generate()
    enrolled = call(other.port, "POST", "/api/echannel/enrolments/app",
                    headers=bearer(resident_token(one.port, CHAN)), json_body={
                        "card": base64.b64encode(card).decode(),
                        "live_photo": base64.b64encode(
                            (FACES / "obama2.jpg").read_bytes()).decode(),
                        "device_public_key": device.public.to_pem().decode()})
    assert enrolled.status == 201, enrolled.body
    enrolment = uuid.UUID(enrolled.json()["id"])
    gates_key = call(one.port, "GET", "/api/echannel/gates/key").json()["public_key"]
    gate = bearer(staff_token(other.port, "border"))

    for first, second in ((one, other), (other, one)):
        token = qr.make_token(enrolment, device.to_pem(), gates_key.encode(), now=utcnow())
        body = {"gate": "LWS-01", "token": token}
        accepted = call(first.port, "POST", "/api/echannel/gate1/qr", headers=gate,
                        json_body=body)
        assert accepted.status == 200, accepted.body
        assert accepted.json()["open"] is True
        replayed = call(second.port, "POST", "/api/echannel/gate1/qr", headers=gate,
                        json_body=body)
        assert replayed.status == 403, replayed.body
        assert replayed.json()["error"]["details"] == {"reason": "replayed"}


def test_a_session_and_its_csrf_token_serve_on_both(pair: tuple[Server, Server]) -> None:
    one, other = pair
    page = call(one.port, "GET", "/sign-in")
    cookies = page.cookies()
    headers, body = form({"csrf_token": csrf_of(page), "document_kind": "hkid",
                          "document_number": CHAN, "password": PASSWORD, "next": "/code"})
    headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    signed = call(other.port, "POST", "/sign-in", headers=headers, body=body)
    assert signed.status == 303, signed.body
    cookies.update(signed.cookies())
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}

    code = call(one.port, "GET", "/code", headers=cookie)
    token = csrf_of(code)
    assert b'class="code green"' in code.body
    headers, body = form({"csrf_token": token})
    refreshed = call(other.port, "POST", "/code/refresh", headers={**headers, **cookie},
                     body=body)
    assert refreshed.status == 303 and refreshed.header("location") == "/code", refreshed.body
    headers, body = form({"csrf_token": token[:-4] + "AAAA"})
    forged = call(one.port, "POST", "/code/refresh", headers={**headers, **cookie}, body=body)
    assert forged.status == 403
    # The other process knows the session too: signing out there ends it everywhere.
    headers, body = form({"csrf_token": csrf_of(call(other.port, "GET", "/code",
                                                     headers=cookie))})
    out = call(other.port, "POST", "/sign-out", headers={**headers, **cookie}, body=body)
    assert out.status == 303
    gone = call(one.port, "GET", "/code", headers=cookie)
    assert gone.status == 303 and "/sign-in" in (gone.header("location") or "")


def test_the_sign_in_throttle_counts_the_failures_of_both(pair: tuple[Server, Server]) -> None:
    kind, number = LI
    wrong = {"document_kind": kind, "document_number": number, "password": "not-" + PASSWORD}
    seen = [call(pair[attempt % 2].port, "POST", "/api/sessions", json_body=wrong).status
            for attempt in range(LOCK_AFTER + 2)]
    # Two failures on each process; the one that makes LOCK_AFTER locks the account.
    assert seen == [401] * (LOCK_AFTER - 1) + [423] * 3, seen
    right = {**wrong, "password": PASSWORD}
    for server in pair:
        reply = call(server.port, "POST", "/api/sessions", json_body=right)
        assert reply.status == 423 and reply.error_code() == "account_locked", reply.body


def test_a_code_revoked_by_one_is_refused_by_the_verify_api_of_the_other(
    pair: tuple[Server, Server]
) -> None:
    one, other = pair
    token = resident_token(one.port, CHAN)
    text = call(one.port, "GET", "/api/health-code", headers=bearer(token)).json()["text"]
    for server in pair:  # both hold the lists in memory now
        verdict = call(server.port, "POST", "/api/health-codes/verify", json_body={"text": text})
        assert verdict.json()["result"] == "valid", verdict.body

    _result(other, one.keys["lab"], CHAN, "positive")

    deadline = time.monotonic() + 10  # each verifier checks for news once a second
    results: list[str] = []
    while time.monotonic() < deadline:
        results = [call(server.port, "POST", "/api/health-codes/verify",
                        json_body={"text": text}).json()["error"] or "valid"
                   for server in (one, one, other)]  # both workers of the first, likely
        if results == ["revoked"] * 3:
            break
        time.sleep(0.2)
    assert results == ["revoked"] * 3


def _result(server: Server, key: str, number: str, result: str) -> None:
    now = datetime.now(HONG_KONG)
    collected, reported = now - timedelta(hours=3), now - timedelta(hours=1)
    batch = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,"
             f"result,lab\nPROC-{uuid.uuid4().hex[:10]},hkid,{number},"
             f"{collected.isoformat(timespec='seconds')},"
             f"{reported.isoformat(timespec='seconds')},PCR,{result},Demo Laboratory\n")
    posted = call(server.port, "POST", "/api/evidence/tests", body=batch.encode(),
                  headers={"Content-Type": "text/csv", "X-API-Key": key})
    assert posted.status in (200, 201), posted.body


def _shown(pair: tuple[Server, Server], cookie: dict[str, str]) -> set[tuple[str, bytes]]:
    """View the code page on every process (both workers of the first, likely), each view
    twice; return the distinct (colour, QR code) shown."""
    one, other = pair
    seen = set()
    for server in (one, one, one, one, other, other):
        page = call(server.port, "GET", "/code", headers=cookie)
        found = re.search(rb'class="code (\w+)".*?(<svg.*?</svg>)', page.body, re.S)
        assert page.status == 200 and found is not None, page.body[:300]
        assert csrf_of(page)  # each session's own form token, kept or not
        seen.add((found.group(1).decode(), found.group(2)))
    return seen


def test_the_code_page_shows_a_new_result_and_a_revocation_at_once_on_every_process(
    pair: tuple[Server, Server]
) -> None:
    one, other = pair
    number = RESIDENTS[1]  # no test on file: red
    cookie = {"Cookie": page_cookie(one.port, number)}
    [(colour, first)] = _shown(pair, cookie)
    assert colour == "red"

    _result(other, one.keys["lab"], number, "negative")  # no waiting: every view after it is green
    [(colour, second)] = _shown(pair, cookie)
    assert colour == "green" and second != first

    # A positive result revokes the green code: every view after it is red again, with
    # today's red code (still live: red codes are not revoked).
    _result(one, one.keys["lab"], number, "positive")
    [(colour, third)] = _shown(pair, cookie)
    assert colour == "red" and third == first


def test_metrics_add_up_the_workers_of_one_server(pair: tuple[Server, Server]) -> None:
    one, _other = pair
    for _ in range(30):
        assert call(one.port, "GET", "/api/trust-list").status == 200
    text = call(one.port, "GET", "/metrics").body.decode()
    counted = re.search(r'borderpass_request_seconds_count\{method="GET",'
                        r'route="/api/trust-list",status="2xx"\} ([0-9.]+)', text)
    assert counted is not None and float(counted.group(1)) == 30, text[:2000]
    assert re.search(r'borderpass_codes_issued_today\{colour="green"\} [1-9]', text), text
    assert 'borderpass_list_age_seconds{list="trust"}' in text
    assert 'borderpass_list_age_seconds{list="revocations"}' in text
