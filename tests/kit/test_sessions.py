"""The site's sessions live on the server: the cookie is a random id, the data a sealed
row that every web process reads, a fresh id at each sign-in, gone at sign-out."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from borderpass.kit.config import get_settings, reset_settings
from borderpass.kit.sessions import COOKIE, ServerSessions, WebSession, purge_expired
from borderpass.kit.vault import open_text

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None
    return found.group(1)


def use(client: Any, cookie: str) -> None:
    """Send this session id, and no other."""
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie)


def rows(session: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(WebSession)) or 0)


def row_of(session: Any, cookie: str) -> WebSession | None:
    session.expire_all()
    return session.get(WebSession, hashlib.sha256(cookie.encode()).hexdigest())


def sign_in(client: Any, staff_token: Any, role: str = "health_officer") -> tuple[Any, str]:
    member, _token = staff_token(role)
    page = client.get("/staff/sign-in")
    before = client.cookies[COOKIE]
    signed = client.post("/staff/sign-in", data={
        "csrf_token": csrf(page.text), "username": member.username,
        "password": "password-123", "next": ""}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    return member, before


def test_an_anonymous_page_costs_a_cookie_but_no_row(client: Any, session: Any) -> None:
    before = rows(session)
    page = client.get("/sign-in")
    cookie = page.cookies[COOKIE]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)
    assert rows(session) == before
    again = client.get("/sign-in")
    assert COOKIE not in again.cookies  # the same id goes on; nothing to set
    assert csrf(again.text) == csrf(page.text)


def test_sign_in_makes_a_fresh_id_and_a_sealed_row(client: Any, session: Any,
                                                   staff_token: Any) -> None:
    _member, before = sign_in(client, staff_token)
    after = client.cookies[COOKIE]
    assert after != before and re.fullmatch(r"[A-Za-z0-9_-]{43}", after)
    row = row_of(session, after)
    assert row is not None and row_of(session, before) is None
    assert row.expires_at > client.app.state.now
    assert b"health_officer" not in row.data_sealed  # sealed, the token with the rest
    assert client.get("/officer", follow_redirects=False).status_code == 200

    # The id known before signing in is worth nothing after it.
    use(client, before)
    assert client.get("/officer", follow_redirects=False).status_code == 303
    use(client, after)
    assert client.get("/officer", follow_redirects=False).status_code == 200

    dashboard = client.get("/officer/dashboard")
    out = client.post("/sign-out", data={"csrf_token": csrf(dashboard.text)},
                      follow_redirects=False)
    assert out.status_code == 303
    assert row_of(session, after) is None
    assert f"{COOKIE}=; Path=/; Max-Age=0" in out.headers["set-cookie"]
    use(client, after)
    assert client.get("/officer", follow_redirects=False).status_code == 303


def test_every_web_process_sees_the_same_session(app: Any, client: Any, session: Any,
                                                 staff_token: Any) -> None:
    from borderpass.web.app import create_app

    sign_in(client, staff_token)
    other = create_app()  # another process: nothing shared in memory
    other.state.session_factory = app.state.session_factory
    other.state.clock = app.state.clock
    other.state.now = app.state.now
    with TestClient(other, raise_server_exceptions=False) as elsewhere:
        use(elsewhere, client.cookies[COOKIE])
        assert elsewhere.get("/officer", follow_redirects=False).status_code == 200
        use(elsewhere, "x" * 43)
        assert elsewhere.get("/officer", follow_redirects=False).status_code == 303


def test_a_session_expires_and_is_purged(app: Any, client: Any, session: Any,
                                         staff_token: Any) -> None:
    sign_in(client, staff_token)
    cookie = client.cookies[COOKIE]
    hours = get_settings().session_hours
    start = app.state.now

    # Used after half its life, it is written again and lives on from then.
    app.state.now = start + timedelta(hours=hours * 0.6)
    renewed = client.get("/officer", follow_redirects=False)
    assert renewed.status_code == 200 and COOKIE in renewed.cookies
    row = row_of(session, cookie)
    assert row is not None and row.expires_at == app.state.now + timedelta(hours=hours)

    app.state.now = app.state.now + timedelta(hours=hours, seconds=1)
    assert client.get("/officer", follow_redirects=False).status_code == 303
    assert purge_expired(session, now=app.state.now) >= 1
    assert row_of(session, cookie) is None


def test_a_row_is_written_only_when_the_data_changes(factory: Any, session: Any,
                                                     now: Any) -> None:
    tiny = FastAPI()
    tiny.state.session_factory = factory
    tiny.state.clock = lambda: now
    tiny.add_middleware(ServerSessions, hours=12, skip=("/api",))

    @tiny.get("/put")
    def put(request: Request) -> dict[str, str]:
        request.session["flash"] = ["hello"]
        return {}

    @tiny.get("/take")
    def take(request: Request) -> dict[str, Any]:
        return {"flash": request.session.pop("flash", [])}

    @tiny.get("/look")
    def look(request: Request) -> dict[str, Any]:
        return {"flash": request.session.get("flash", [])}

    @tiny.get("/api/look")
    def api_look(request: Request) -> dict[str, bool]:
        return {"session": "session" in request.scope}

    with TestClient(tiny) as client:
        before = rows(session)
        assert client.get("/look").json() == {"flash": []}
        assert COOKIE not in client.cookies and rows(session) == before  # nothing to keep
        client.get("/put")
        cookie = client.cookies[COOKIE]
        row = row_of(session, cookie)
        assert row is not None and rows(session) == before + 1
        assert open_text("web_session.data", row.data_sealed) == '{"flash":["hello"]}'
        assert client.get("/look").json() == {"flash": ["hello"]}
        assert COOKIE not in client.get("/look").cookies  # read, not written
        assert client.get("/take").json() == {"flash": ["hello"]}
        assert row_of(session, cookie) is None  # emptied: the row goes
        assert client.get("/take").json() == {"flash": []}
        assert client.get("/api/look").json() == {"session": False}  # the API has none


@pytest.fixture()
def secure(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BORDERPASS_SECURE_COOKIES", "true")
    monkeypatch.setenv("BORDERPASS_OUTBOX_SENDER", "tests.messages:Phone")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_behind_https_the_cookie_is_secure(secure: None, factory: Any, now: Any) -> None:
    from borderpass.web.app import create_app

    app = create_app()
    app.state.session_factory = factory
    app.state.clock = lambda: now
    with TestClient(app, base_url="https://testserver") as client:
        cookie = client.get("/sign-in").headers["set-cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
