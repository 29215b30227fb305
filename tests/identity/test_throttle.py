"""Throttled sign-in: a sliding window of failures, then a growing delay, then a lock that
an officer lifts; per account (residents and staff) and per client address."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from borderpass.identity import service as identity
from borderpass.identity.documents import hkid_check_character
from borderpass.identity.models import SignInFailure, SignInLock
from borderpass.identity.throttle import resident_account, staff_account
from borderpass.kit.clock import utcnow
from borderpass.kit.config import get_settings
from borderpass.kit.db import unit_of_work
from tests.conftest import Command

NUMBER = "A123456(3)"
PASSWORD = "password-123"
WRONG = "not-the-password"


@pytest.fixture(autouse=True)
def throttle(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Small thresholds: a delay from the 3rd failure (2 s, then 4 s, 8 s ...), a lock at
    the 6th; an address is delayed from its 8th."""
    settings = get_settings()
    for name, value in (("sign_in_delay_after", 3), ("sign_in_lock_after", 6),
                        ("sign_in_delay_seconds", 2.0), ("sign_in_delay_growth", 2.0),
                        ("sign_in_delay_max_seconds", 60.0), ("sign_in_window_seconds", 900),
                        ("sign_in_address_delay_after", 8), ("trusted_proxies", 0)):
        monkeypatch.setattr(settings, name, value)
    return settings


def hkid(body: str) -> str:
    return f"{body}({hkid_check_character(body)})"


def resident(client: Any, password: str, number: str = NUMBER,
             headers: dict[str, str] | None = None) -> Any:
    return client.post("/api/sessions", headers=headers or {}, json={
        "document_kind": "hkid", "document_number": number, "password": password})


def staff(client: Any, username: str, password: str) -> Any:
    return client.post("/api/staff/sessions", json={"username": username, "password": password})


def later(app: Any, seconds: float) -> None:
    app.state.now = app.state.now + timedelta(seconds=seconds)


def code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def test_failures_bring_a_growing_delay_then_a_lock_that_an_officer_lifts(
    client: Any, app: Any, register_person: Any, staff_token: Any
) -> None:
    register_person(NUMBER)
    assert [resident(client, WRONG).status_code for _ in range(2)] == [401, 401]
    third = resident(client, WRONG)  # the 3rd failure: the next attempt waits 2 s
    assert third.status_code == 401 and code(third) == "sign_in_failed"
    early = resident(client, PASSWORD)  # even the right password waits, unread
    assert early.status_code == 429 and code(early) == "sign_in_delayed"
    assert early.headers["retry-after"] == "2"
    later(app, 1)
    assert resident(client, WRONG).headers["retry-after"] == "1"
    later(app, 1)
    assert resident(client, WRONG).status_code == 401  # the 4th: now 4 s
    later(app, 3)
    assert resident(client, WRONG).headers["retry-after"] == "1"
    later(app, 1)
    assert resident(client, WRONG).status_code == 401  # the 5th: now 8 s
    later(app, 7)
    assert resident(client, WRONG).status_code == 429
    later(app, 1)
    locked = resident(client, WRONG)  # the 6th failure locks the account
    assert locked.status_code == 423 and code(locked) == "account_locked"
    assert "help desk" in locked.json()["error"]["message"]
    later(app, 3600)  # a lock does not wear off
    right = resident(client, PASSWORD)
    assert right.status_code == 423 and code(right) == "account_locked"

    _officer, token = staff_token("help_desk")
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/sign-in-locks", headers=auth).json()
    assert [(lock["scope"], lock["account"], lock["failures"]) for lock in listed] == [
        ("resident", "A1*****(3)", 6)]
    lifted = client.post("/api/sign-in-locks/unlock", headers=auth, json={
        "document_kind": "hkid", "document_number": "a1234563"})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json() | {"at": None} == {"scope": "resident", "account": "A1*****(3)",
                                            "was_locked": True, "failures_cleared": 6,
                                            "at": None}
    assert resident(client, PASSWORD).status_code == 200
    assert client.get("/api/sign-in-locks", headers=auth).json() == []


def test_a_success_forgets_the_failures_and_the_window_slides(
    client: Any, app: Any, register_person: Any
) -> None:
    register_person(NUMBER)
    for _ in range(2):
        assert resident(client, WRONG).status_code == 401
    assert resident(client, PASSWORD).status_code == 200
    for _ in range(2):  # counted afresh: still no delay
        assert resident(client, WRONG).status_code == 401
    later(app, 600)
    assert resident(client, WRONG).status_code == 401  # the 3rd within 15 minutes
    assert resident(client, WRONG).status_code == 429
    later(app, 301)  # the first two left the window: one failure remains in it
    assert resident(client, WRONG).status_code == 401
    assert resident(client, WRONG).status_code == 401  # the 3rd again
    assert resident(client, WRONG).status_code == 429


def test_an_account_that_does_not_exist_is_answered_the_same(client: Any, app: Any) -> None:
    nobody = "Z437626(A)"
    statuses = []
    for _ in range(6):
        reply = resident(client, WRONG, nobody)
        statuses.append(reply.status_code)
        later(app, 60)
    assert statuses == [401, 401, 401, 401, 401, 423]
    assert code(resident(client, PASSWORD, nobody)) == "account_locked"


def test_staff_are_throttled_and_only_a_supervisor_unlocks_them(
    client: Any, app: Any, staff_token: Any
) -> None:
    member, _token = staff_token("health_officer")
    for _ in range(5):
        assert staff(client, member.username, WRONG).status_code == 401
        later(app, 60)
    locked = staff(client, member.username, WRONG)
    assert locked.status_code == 423 and "supervisor" in locked.json()["error"]["message"]
    assert staff(client, member.username, PASSWORD).status_code == 423
    _desk, desk_token = staff_token("help_desk")
    refused = client.post("/api/sign-in-locks/unlock", json={"username": member.username},
                          headers={"Authorization": f"Bearer {desk_token}"})
    assert refused.status_code == 403
    assert client.get("/api/sign-in-locks",
                      headers={"Authorization": f"Bearer {desk_token}"}).json() == []
    _boss, boss_token = staff_token("supervisor")
    boss = {"Authorization": f"Bearer {boss_token}"}
    assert [lock["account"] for lock in client.get("/api/sign-in-locks", headers=boss).json()
            ] == [member.username]
    assert client.post("/api/sign-in-locks/unlock", json={"username": member.username},
                       headers=boss).json()["was_locked"] is True
    assert staff(client, member.username, PASSWORD).status_code == 200
    resident_only = client.post("/api/sign-in-locks/unlock", json={"username": "x"},
                                headers={"Authorization": f"Bearer {desk_token}"})
    assert resident_only.status_code == 403


def test_unlock_names_one_account(client: Any, staff_token: Any) -> None:
    _boss, token = staff_token("supervisor")
    auth = {"Authorization": f"Bearer {token}"}
    for body, field in (({}, "account"), ({"username": "a", "address": "10.0.0.1"}, "account"),
                        ({"document_kind": "hkid"}, "document_number"),
                        ({"document_kind": "hkid", "document_number": "A123456(4)"},
                         "document_number")):
        reply = client.post("/api/sign-in-locks/unlock", json=body, headers=auth)
        assert reply.status_code == 422, body
        assert reply.json()["error"]["field"] == field, body
    assert client.post("/api/sign-in-locks/unlock", json={"username": "a"}).status_code == 401
    _resident_desk, desk = staff_token("border_officer")
    assert client.get("/api/sign-in-locks",
                      headers={"Authorization": f"Bearer {desk}"}).status_code == 403


def test_one_address_trying_many_accounts_is_delayed(
    client: Any, app: Any, throttle: Any, register_person: Any
) -> None:
    register_person(NUMBER)
    # Eight accounts fail once each, from one address: its 8th failure delays it.
    numbers = [hkid(f"K{n:06d}") for n in range(1, 9)]
    assert [resident(client, WRONG, n).status_code for n in numbers] == [401] * 8
    blocked = resident(client, PASSWORD)
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "2"
    # Another address is not held back by this one (the header counts only behind a proxy).
    other = {"X-Forwarded-For": "198.51.100.7"}
    assert resident(client, PASSWORD, headers=other).status_code == 429
    throttle.trusted_proxies = 1
    assert resident(client, PASSWORD, headers=other).status_code == 200
    spoofed = {"X-Forwarded-For": "198.51.100.7, testclient"}  # the proxy saw "testclient"
    assert resident(client, PASSWORD, headers=spoofed).status_code == 429
    # An address is never locked: it waits, and may try again afterwards.
    later(app, 2)
    assert resident(client, PASSWORD).status_code == 200


def test_pages_keep_the_failures_and_say_when_to_come_back(
    client: Any, app: Any, register_person: Any, staff_token: Any
) -> None:
    register_person(NUMBER)
    client.cookies.set("locale", "en")
    page = client.get("/sign-in")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None

    def post(password: str) -> Any:
        return client.post("/sign-in", data={
            "csrf_token": csrf.group(1), "document_kind": "hkid", "document_number": NUMBER,
            "password": password, "next": "/"}, follow_redirects=False)

    assert [post(WRONG).status_code for _ in range(3)] == [401, 401, 401]
    early = post(PASSWORD)
    assert early.status_code == 429 and early.headers["retry-after"] == "2"
    assert "Wait 2 seconds" in early.text
    for _ in range(3):
        later(app, 60)
        post(WRONG)
    locked = post(PASSWORD)
    assert locked.status_code == 423 and "help desk" in locked.text

    # The help desk's page lists the lock and lifts it once the document was seen.
    officer, _token = staff_token("help_desk")
    member = officer.username
    staff_page = client.get("/staff/sign-in")
    staff_csrf = re.search(r'name="csrf_token" value="([^"]+)"', staff_page.text)
    assert staff_csrf is not None
    signed = client.post("/staff/sign-in", data={
        "csrf_token": staff_csrf.group(1), "username": member, "password": PASSWORD,
        "next": "/officer/help-desk/unlock"}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    shown = client.get("/officer/help-desk/unlock")
    assert shown.status_code == 200 and "A1*****(3)" in shown.text
    form_csrf = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
    assert form_csrf is not None
    unchecked = client.post("/officer/help-desk/unlock", data={
        "csrf_token": form_csrf.group(1), "document_kind": "hkid", "document_number": NUMBER})
    assert unchecked.status_code == 422
    done = client.post("/officer/help-desk/unlock", data={
        "csrf_token": form_csrf.group(1), "document_kind": "hkid", "document_number": NUMBER,
        "documents_checked": "yes"})
    assert done.status_code == 200 and "is unlocked" in done.text
    assert "No account is locked." in done.text
    assert resident(client, PASSWORD).status_code == 200


def test_refusals_are_logged_without_the_password_or_the_number(
    client: Any, app: Any, register_person: Any, caplog: pytest.LogCaptureFixture
) -> None:
    register_person(NUMBER)
    with caplog.at_level(logging.INFO):
        for _ in range(6):
            resident(client, "secret-guess-771")
            later(app, 60)
        resident(client, PASSWORD)
    lines = [json.loads(record.getMessage()) for record in caplog.records
             if "sign_in." in record.getMessage()]
    refused = [line for line in lines if line["event"] == "sign_in.refused"]
    assert [line["reason"] for line in refused] == ["wrong_password"] * 6 + ["locked"]
    assert {line["address"] for line in refused} == {"testclient"}
    assert {line["scope"] for line in refused} == {"resident"}
    assert len({line["account"] for line in refused}) == 1
    assert [line["event"] for line in lines].count("sign_in.locked") == 1
    text = caplog.text
    for secret in ("secret-guess-771", PASSWORD, "A123456", "A1234563"):
        assert secret not in text


def test_the_failures_and_the_lock_are_rows_every_process_reads(
    session: Any, now: Any, register_person: Any
) -> None:
    register_person(NUMBER)
    for minutes in range(10, 5, -1):
        with pytest.raises(identity.SignInFailed):
            identity.sign_in(session, "hkid", NUMBER, WRONG,
                             now=now - timedelta(minutes=minutes), address="192.0.2.1")
    failures = session.scalar(select(func.count()).select_from(SignInFailure)
                              .where(SignInFailure.scope == "resident"))
    assert failures == 5
    with pytest.raises(identity.AccountLocked):
        identity.sign_in(session, "hkid", NUMBER, WRONG, now=now, address="192.0.2.2")
    lock = session.scalars(select(SignInLock)).one()
    assert (lock.scope, lock.label, lock.failures) == ("resident", "A1*****(3)", 6)
    assert NUMBER not in lock.key and len(lock.key) == 64
    with pytest.raises(identity.AccountLocked):
        identity.sign_in(session, "hkid", NUMBER, PASSWORD, now=now)
    assert identity.purge_sign_in_failures(session, now=now + timedelta(hours=1)) >= 6
    with pytest.raises(identity.AccountLocked):  # a purge leaves the lock alone
        identity.sign_in(session, "hkid", NUMBER, PASSWORD, now=now + timedelta(hours=1))


@pytest.fixture()
def locked_on_file(engine: Any) -> Iterator[tuple[str, str]]:
    """A resident's and a staff account locked in the database the command line uses."""
    number = hkid(f"X{uuid.uuid4().int % 1_000_000:06d}")
    username = f"locked-{uuid.uuid4().hex[:8]}"
    accounts = [resident_account("hkid", number), staff_account(username)]
    with unit_of_work() as session:
        for account in accounts:
            session.add(SignInLock(scope=account.scope, key=account.key, label=account.label,
                                   failures=10, locked_at=utcnow()))
    yield number, username
    with unit_of_work() as session:
        for account in accounts:
            session.execute(delete(SignInLock).where(SignInLock.key == account.key))


def test_the_command_line_lists_and_unlocks(cli: Command, locked_on_file: tuple[str, str]
                                            ) -> None:
    number, username = locked_on_file
    listed = cli("accounts", "locks")
    assert listed.exit_code == 0
    assert f"{number[:2]}*****({number[-2]})" in listed.stdout and username in listed.stdout
    done = cli("accounts", "unlock", "--kind", "hkid", "--number", number)
    assert done.exit_code == 0, done.output
    assert "unlocked" in done.stdout and number not in done.stdout
    again = cli("accounts", "unlock", "--kind", "hkid", "--number", number)
    assert "was not locked" in again.stdout
    assert cli("accounts", "unlock", "--staff", username).exit_code == 0
    assert username not in cli("accounts", "locks").stdout
    both = cli("accounts", "unlock", "--staff", username, "--address", "10.0.0.1")
    assert both.exit_code == 1 and "Name one account" in both.stderr
    bad = cli("accounts", "unlock", "--kind", "hkid", "--number", "A123456(4)")
    assert bad.exit_code == 1 and "A123456" not in bad.stderr
    assert cli("accounts", "purge").exit_code == 0
