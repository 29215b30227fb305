"""Sign-in throttling shared by two web processes on one database.

Two ``borderpass serve`` processes (``tests/web/served.py``) on one folder and one
database (SQLite, or a fresh PostgreSQL database when the suite runs on PostgreSQL),
prepared with ``borderpass db upgrade`` and ``borderpass demo``. 100 wrong passwords,
sent to the two in turn, for the demo resident and then the demo health officer: each
account is locked after exactly the configured number of failures, whichever process
took them; the delays before the lock grow; while locked the right password is refused
by both processes; a supervisor unlocks it on one and the right password works on both.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.served import (
    PASSWORD,
    RESIDENTS,
    Database,
    Server,
    Tally,
    burst,
    call,
    encode,
    staff_token,
)

pytestmark = pytest.mark.slow

DELAY_AFTER = 3  # failures before each further attempt must wait
LOCK_AFTER = 5  # failures that lock the account
ATTEMPTS = 100
SETTINGS = {
    "BORDERPASS_SIGN_IN_DELAY_AFTER": str(DELAY_AFTER),
    "BORDERPASS_SIGN_IN_LOCK_AFTER": str(LOCK_AFTER),
    "BORDERPASS_SIGN_IN_DELAY_SECONDS": "1",
    "BORDERPASS_SIGN_IN_DELAY_GROWTH": "2",
    # One address (this test) tries two accounts: only the accounts' own counts matter here.
    "BORDERPASS_SIGN_IN_ADDRESS_DELAY_AFTER": "1000",
}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Server, Server]]:
    folder = Path(tempfile.mkdtemp(prefix="borderpass-throttle-"))
    database = Database.create(folder)
    # One folder: both processes read the same keys (var/secrets.json) and database.
    pair = (Server(folder, database), Server(folder, database))
    for server in pair:
        server.env.update(SETTINGS)
    try:
        pair[0].prepare()
        for server in pair:
            server.start()
        yield pair
    finally:
        for server in pair:
            server.stop()
        database.close()
        shutil.rmtree(folder, ignore_errors=True)


def hammer(pair: tuple[Server, Server], path: str, body: dict[str, str]
           ) -> list[tuple[int, int, str | None]]:
    """Send ATTEMPTS requests to the two processes in turn, waiting when told to; return
    (process, status, Retry-After) for each."""
    seen = []
    for attempt in range(ATTEMPTS):
        reply = call(pair[attempt % 2].port, "POST", path, json_body=body, timeout=30)
        retry_after = reply.header("retry-after")
        seen.append((attempt % 2, reply.status, retry_after))
        if reply.status == 429:
            assert retry_after is not None and reply.error_code() == "sign_in_delayed"
            time.sleep(int(retry_after))
        else:
            assert reply.status in (401, 423), reply.body[:300]
    return seen


def check_locked_after_the_configured_count(seen: list[tuple[int, int, str | None]]) -> None:
    checked = [(process, status) for process, status, _ in seen if status != 429]
    first_lock = next(n for n, (_, status) in enumerate(checked) if status == 423)
    # Four wrong passwords refused as wrong; the fifth locked the account; everything after
    # it was refused as locked, unread.
    assert first_lock == LOCK_AFTER - 1
    assert [status for _, status in checked[:first_lock]] == [401] * (LOCK_AFTER - 1)
    assert {status for _, status in checked[first_lock:]} == {423}
    assert {process for process, _ in checked[:first_lock + 1]} == {0, 1}  # both counted
    # Between the third failure and the lock, each further attempt waited longer.
    waits = [int(value) for _, status, value in seen if status == 429 and value is not None]
    assert waits == sorted(waits) and waits[0] == 1 and waits[-1] >= 2
    assert len(seen) == ATTEMPTS


def unlock(pair: tuple[Server, Server], body: dict[str, str]) -> Any:
    token = staff_token(pair[1].port, "supervisor")
    reply = call(pair[1].port, "POST", "/api/sign-in-locks/unlock", json_body=body,
                 headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 200, reply.body[:300]
    return reply.json()


def test_a_resident_is_locked_after_the_configured_failures_on_either_process(
    servers: tuple[Server, Server],
) -> None:
    started = time.monotonic()
    number = RESIDENTS[0]
    wrong = {"document_kind": "hkid", "document_number": number, "password": "wrong-guess"}
    right = dict(wrong, password=PASSWORD)
    check_locked_after_the_configured_count(hammer(servers, "/api/sessions", wrong))
    for server in servers:
        refused = call(server.port, "POST", "/api/sessions", json_body=right)
        assert refused.status == 423 and refused.error_code() == "account_locked"
    done = unlock(servers, {"document_kind": "hkid", "document_number": number})
    assert done["was_locked"] is True and done["failures_cleared"] == LOCK_AFTER
    for server in servers:
        assert call(server.port, "POST", "/api/sessions", json_body=right).status == 200
    assert time.monotonic() - started < 30


def test_a_staff_member_is_locked_the_same_way(servers: tuple[Server, Server]) -> None:
    started = time.monotonic()
    wrong = {"username": "officer", "password": "wrong-guess"}
    right = dict(wrong, password=PASSWORD)
    check_locked_after_the_configured_count(hammer(servers, "/api/staff/sessions", wrong))
    for server in servers:
        assert call(server.port, "POST", "/api/staff/sessions", json_body=right).status == 423
    assert unlock(servers, {"username": "officer"})["was_locked"] is True
    for server in servers:
        assert call(server.port, "POST", "/api/staff/sessions", json_body=right).status == 200
    # The refusals are in the servers' log, without the password.
    log = (servers[0].folder / "var" / "log" / "borderpass.log").read_text()
    assert '"sign_in.locked"' in log and "wrong-guess" not in log
    assert time.monotonic() - started < 30


def test_concurrent_guesses_on_both_processes_are_counted_one_by_one(
    servers: tuple[Server, Server],
) -> None:
    """40 wrong passwords at once, 20 to each process: the account's attempts take turns,
    so exactly DELAY_AFTER passwords are read and every other attempt is told to wait."""
    number = RESIDENTS[1]
    body = json.dumps({"document_kind": "hkid", "document_number": number,
                       "password": "wrong-guess"}).encode()

    async def both() -> list[Tally]:
        sent = await asyncio.gather(*(
            burst(server.port, [encode(server.port, "POST", "/api/sessions",
                                       {"Content-Type": "application/json"}, body)] * 20, 20)
            for server in servers))
        return [tally for tally, _replies in sent]

    tallies = asyncio.run(both())
    statuses = {status: sum(t.statuses[status] for t in tallies) for status in (401, 429)}
    assert statuses == {401: DELAY_AFTER, 429: 40 - DELAY_AFTER}, [t.summary() for t in tallies]
    assert all(t.timeouts == 0 and not t.failures for t in tallies)
    done = unlock(servers, {"document_kind": "hkid", "document_number": number})
    assert (done["was_locked"], done["failures_cleared"]) == (False, DELAY_AFTER)
