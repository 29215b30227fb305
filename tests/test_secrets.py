"""Secrets stay secret: the demo and the main flows, run for real against a database of
their own, leave no PIN, password, bearer token, API key, session id or plain document
number in the log, the database (its file and WAL, or a ``pg_dump``), and every file they
make is readable by its owner only.

The same look at the whole run's logs and databases happens after the last test
(``pytest_sessionfinish`` in ``conftest.py``).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from borderpass.identity.documents import hkid_check_character
from tests.conftest import DEMO_PDF, Command, database_url, is_postgres
from tests.secrets_scan import ISSUED, document_numbers, dump_postgres, find, mailbox_pins

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"
DEMO_PASSWORD = "borderpass-demo"


def csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no form with a CSRF token"
    return found.group(1)


def _own_database(tmp_path: Path) -> str:
    if not is_postgres():
        return f"sqlite:///{tmp_path / 'site.sqlite3'}"
    from tests.databases import worker_database

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return worker_database(database_url(), f"secrets_{worker}")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _walk(client: Any, cli: Command, tmp_path: Path, number: str,
          lab_key: str) -> dict[str, Any]:
    """Register on the site, take the PIN from the mailbox, activate, use the API and the
    site as resident, laboratory and officer, and sign out; return what was seen."""
    seen: dict[str, Any] = {"tokens": []}
    client.cookies.set("locale", "en")
    start = client.get("/register")
    client.post("/register", data={"csrf_token": csrf(start.text)})
    form = client.get("/register/details")
    sent = client.post("/register/details", data={
        "csrf_token": csrf(form.text), "name_zh": "何美玲", "name_en": "HO Mei Ling",
        "document_kind": "hkid", "document_number": number,
        "document_issued_on": "2018-03-01", "hrp_number": "H97531864", "will_cross": "yes",
        "phone": "+852 9876 5432", "address": "Flat D, 9/F, 7 Secret Road, Sha Tin",
        "pin_channel": "sms", "password": PASSWORD, "password_again": PASSWORD,
    }, files={"proof": ("bill.pdf", DEMO_PDF, "application/pdf")}, follow_redirects=False)
    assert sent.status_code == 303, sent.text

    # The PIN is made as it is delivered, into the mailbox that stands in for the phone.
    page = client.get("/register/activate")
    early = client.post("/register/activate", data={"csrf_token": csrf(page.text),
                                                    "pin": "123456"})
    # Refused either way: the PIN is not sent yet (409), or, delivered by the job the commit
    # sent, it is not this one (422).
    assert early.status_code in (409, 422), early.text
    delivered = cli("outbox", "deliver")
    assert delivered.exit_code == 0, delivered.stderr
    assert f"{tmp_path / 'mailbox'}/" in delivered.stdout  # it says where the messages are
    pins = mailbox_pins(tmp_path / "mailbox")
    assert len(pins) == 1, pins
    (pin,) = pins
    seen["pin"] = pin
    done = client.post("/register/activate", data={"csrf_token": csrf(page.text), "pin": pin},
                       follow_redirects=False)
    assert done.status_code == 303, done.text
    cookie = client.cookies.get("borderpass_session")
    assert cookie is not None and re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)
    assert "HO Mei Ling" in client.get("/").text

    # The API, with a bearer token; every answer about the caller says no-store.
    wrong = client.post("/api/sessions", json={"document_kind": "hkid",
                                               "document_number": number,
                                               "password": "wrong-password"})
    assert wrong.status_code == 401
    signed = client.post("/api/sessions", json={"document_kind": "hkid",
                                                "document_number": number, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    token = signed.json()["token"]
    seen["tokens"].append(token)
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/api/me", "/api/health-code", "/api/evidence/mine"):
        answer = client.get(path, headers=bearer)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["cache-control"] == "no-store", path

    # A laboratory files a result for the document; an officer signs in on the site.
    batch = ("specimen_id,document_kind,document_number,collected_at,reported_at,method,"
             f"result\nSECRET-1,hkid,{number},2026-11-25T09:00:00+08:00,"
             "2026-11-25T15:00:00+08:00,PCR,negative\n")
    filed = client.post("/api/evidence/tests", content=batch,
                        headers={"X-API-Key": lab_key, "Content-Type": "text/csv"})
    assert filed.status_code in (200, 201), filed.text
    signed_out = client.post("/sign-out", data={"csrf_token": csrf(client.get("/").text)},
                             follow_redirects=False)
    assert signed_out.status_code == 303
    staff = client.get("/staff/sign-in")
    officer = client.post("/staff/sign-in", data={
        "csrf_token": csrf(staff.text), "username": "border", "password": DEMO_PASSWORD,
        "next": ""}, follow_redirects=False)
    assert officer.status_code == 303, officer.text
    assert client.get("/officer/scan").status_code == 200
    resident = client.get("/sign-in")
    again = client.post("/sign-in", data={
        "csrf_token": csrf(resident.text), "document_kind": "hkid",
        "document_number": number.lower(), "password": PASSWORD, "next": "/"},
        follow_redirects=False)
    assert again.status_code == 303, again.text
    return seen


def test_demo_and_flows_leave_no_secret_behind(
    tmp_path: Path, cli: Command, own_settings: Callable[[Path, str], None]
) -> None:
    from fastapi.testclient import TestClient

    from borderpass.kit.db import get_engine
    from borderpass.web.app import create_app

    url = _own_database(tmp_path)
    own_settings(tmp_path, url)
    assert cli("db", "upgrade").exit_code == 0
    demo = cli("demo")
    assert demo.exit_code == 0, demo.stderr
    keys = re.findall(r"API key (\S+)", demo.stdout)
    assert len(keys) == 2
    number = "K" + "482616" + f"({hkid_check_character('K482616')})"

    with TestClient(create_app(), raise_server_exceptions=True) as client:
        seen = _walk(client, cli, tmp_path, number, keys[0])
    with get_engine().connect() as connection:  # the site's sessions are rows, sealed
        assert connection.execute(text("SELECT count(*) FROM web_sessions")).scalar_one() >= 1

    issued = set().union(*ISSUED.values())
    assert set(seen["tokens"]) <= issued and keys[0] in issued  # the scan knows them
    places: dict[str, bytes] = {}
    logs = sorted((tmp_path / "log").glob("*"))
    assert logs and any(b'"event": "request"' in log.read_bytes() for log in logs)
    for log in logs:
        places[str(log)] = log.read_bytes()
    if url.startswith("sqlite"):
        database = tmp_path / "site.sqlite3"
        wal = Path(f"{database}-wal")
        assert wal.exists() and wal.stat().st_size > 0  # read while the engine holds it open
        for part in (database, wal):
            places[str(part)] = part.read_bytes()
    else:
        places["pg_dump"] = dump_postgres(url)

    found = find(places, pins={seen["pin"]},
                 extra={"API key": keys, "document number": [number, number.lower()]})
    assert found == []

    # Readable by the owner only: the database and its WAL, the log, the secrets and keys,
    # the mailbox.
    private = [tmp_path / "secrets.json", *logs, *(tmp_path / "keys").glob("*"),
               *(tmp_path / "mailbox").glob("*")]
    if url.startswith("sqlite"):
        private += [tmp_path / "site.sqlite3", Path(f"{tmp_path / 'site.sqlite3'}-wal"),
                    Path(f"{tmp_path / 'site.sqlite3'}-shm")]
    assert private and {str(path): oct(_mode(path)) for path in private} == {
        str(path): oct(0o600) for path in private}
    assert _mode(tmp_path / "mailbox") == 0o700
    get_engine().dispose()


def test_the_scan_finds_each_kind_of_secret() -> None:
    """The scan is only worth something if it finds what it looks for, in any formatting,
    and not the same digits inside a timestamp or an identifier."""
    ISSUED["session id"].add("a-session-id-that-was-issued-in-this-process")
    text = (b'{"event": "x", "pin": "PIN 482913", "at": "2026-11-30T09:38:34.482913Z", '
            b'"id": "0e5eee2f-482913-4a"}')
    assert find({"log": text}, pins={"482913"}) == ["log: the PIN 482913"]
    assert find({"log": b"timestamp 09:38:34.482913Z id x482913y"}, pins={"482913"}) == []
    assert find({"db": b"...a-session-id-that-was-issued-in-this-process..."}) == [
        "db: a session id (a-se…)"]
    assert find({"log": b'{"password": "borderpass-demo"}'}) == ["log: a password (bord…)"]
    for written in (b"A123456(3)", b"A1234563", b"A123456 3", b"a123456(3)", b"K482616(7)",
                    b"110105194912310021"):
        assert document_numbers(b"number=" + written + b";"), written
    assert document_numbers(b"A1*****(3) A123456(4) 0f3a1234564b 1101051949123100219") == set()
