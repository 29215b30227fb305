"""The site's sessions, kept on the server.

The cookie holds a random session id and nothing else. What a session remembers (the
access token of whoever signed in, a registration in progress, flash messages) is a row
of ``web_sessions``, keyed by the SHA-256 of the id and sealed under the PII key, so
every web process sees the same sessions and neither the cookie nor a database dump
shows a token. A session expires ``session_hours`` after it was last written, and a row
still in use is written again when half of that is gone; ``borderpass sessions purge``
deletes the expired rows.

Pages use ``request.session`` as a dict. Clearing it (signing in or out) also gives the
session a fresh id, so an id known before a sign-in is worth nothing after it. A page
that only needs a CSRF token gets an id in its cookie but no row: the token is derived
from the id (``kit.pages.csrf_token``), so an anonymous visitor costs no write.

The middleware reads the row in a short read-only unit of work of its own before the
page runs, and writes it in another when the response starts, after the page's own unit
has committed; it never touches the page's unit. A page named in ``deferred`` reads the
row itself instead, in its own unit of work, before it uses the session
(``load_session``): one worker thread and one connection for the whole page.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection, Engine, LargeBinary, String, bindparam, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from borderpass.kit import jobs
from borderpass.kit.db import Base, Prepared, UTCDateTime, unit_of_work
from borderpass.kit.http import get_factory, get_now
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import SigningError
from borderpass.kit.vault import open_text, seal_text

__all__ = ["COOKIE", "ServerSessions", "SessionData", "WebSession", "load_session",
           "purge_expired"]

log = get_logger(__name__)
COOKIE = "borderpass_session"
_SEALED_AS = "web_session.data"
_ID = re.compile(r"[A-Za-z0-9_-]{43}")


class WebSession(Base):
    """One site session: its data sealed, found by the hash of the id in the cookie."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _serialise(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class SessionData(dict[str, Any]):
    """``request.session``: a dict that knows its id, made only when first needed."""

    def __init__(self, data: dict[str, Any], session_id: str | None,
                 expires_at: datetime | None = None, *, pending: bool = False) -> None:
        super().__init__(data)
        self.loaded_id = session_id
        self.loaded_expires_at = expires_at
        self._id = session_id
        self._initial = _serialise(self)
        self.pending = pending
        """True until ``load_session`` reads it, for a page whose session is read in its
        own unit of work (``ServerSessions``' ``deferred``)."""

    def _loaded(self, data: dict[str, Any], expires_at: datetime | None) -> None:
        self.update(data)
        self.loaded_expires_at = expires_at
        self._initial = _serialise(self)
        self.pending = False

    @property
    def id(self) -> str:
        """Return the session's id, making a fresh one if it has none yet."""
        if self._id is None:
            self._id = secrets.token_urlsafe(32)
        return self._id

    @property
    def current_id(self) -> str | None:
        """Return the session's id if it has one, without making one."""
        return self._id

    def clear(self) -> None:
        """Forget everything, and the id too: what follows gets a fresh one."""
        super().clear()
        self._id = None

    def changed(self) -> bool:
        """Tell whether the data differs from what was loaded."""
        return _serialise(self) != self._initial


_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}
# Read for nearly every page: compiled once, run on the driver's cursor.
_LOAD = Prepared(select(WebSession.data_sealed, WebSession.expires_at).where(
    WebSession.id_hash == bindparam("id_hash"), WebSession.expires_at > bindparam("now")))


def _load(factory: Any, session_id: str, now: datetime) -> tuple[dict[str, Any], datetime | None]:
    with unit_of_work(factory) as db:
        # One statement: on PostgreSQL it needs no transaction around it (a BEGIN and a
        # COMMIT would be two more round trips on every page).
        bind = db.get_bind()
        return _read(db.connection(
            execution_options=_AUTOCOMMIT
            if isinstance(bind, Engine) and bind.dialect.name == "postgresql" else None),
            session_id, now)


def _read(connection: Connection, session_id: str,
          now: datetime) -> tuple[dict[str, Any], datetime | None]:
    # On the connection: a plain row, none of the ORM's bookkeeping.
    rows = _LOAD.rows(connection, {"id_hash": _hash(session_id), "now": now})
    if not rows:
        return {}, None
    sealed, expires_at = rows[0]
    try:
        data = json.loads(open_text(_SEALED_AS, sealed))
    except (SigningError, ValueError):
        return {}, None
    return (data if isinstance(data, dict) else {}), expires_at


def load_session(request: Request, db: Session, now: datetime) -> None:
    """Read the request's session in the page's own unit of work ``db``, if the middleware
    left it to the page (``deferred``); call it from the page's worker thread before the
    session is used."""
    session = request.scope.get("session")
    if isinstance(session, SessionData) and session.pending:
        if session.loaded_id is None:
            session.pending = False
            return
        session._loaded(*_read(db.connection(), session.loaded_id, now))


def _store(db: Session, session_id: str, data: dict[str, Any], now: datetime,
           expires_at: datetime) -> None:
    sealed = seal_text(_SEALED_AS, _serialise(data))
    row = db.get(WebSession, _hash(session_id))
    if row is None:
        db.add(WebSession(id_hash=_hash(session_id), data_sealed=sealed, created_at=now,
                          expires_at=expires_at))
    else:
        row.data_sealed = sealed
        row.expires_at = expires_at
    db.flush()


def _forget(db: Session, session_id: str) -> None:
    db.execute(delete(WebSession).where(WebSession.id_hash == _hash(session_id)))


def purge_expired(db: Session, *, now: datetime) -> int:
    """Delete the sessions that expired; return how many."""
    result = db.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


@jobs.actor("sessions.purge", every=timedelta(hours=1))
def purge_job(db: Session) -> None:
    """Delete the expired sessions (hourly)."""
    purge_expired(db, now=jobs.now())


class ServerSessions:
    """Give each page request ``request.session``, kept server-side behind a random id.

    The cookie is HttpOnly, SameSite=Lax, Secure when ``secure``; it lasts as long as
    the session. Paths starting with one of ``skip`` (the API, static files) have no
    session: they authenticate with a bearer token, never with the cookie.
    """

    def __init__(self, app: ASGIApp, *, hours: int, secure: bool = False,
                 skip: tuple[str, ...] = (), deferred: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.lifetime = timedelta(hours=hours)
        self.secure = secure
        self.skip = skip
        self.deferred = deferred

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(self.skip):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        now = await get_now(request)
        given = request.cookies.get(COOKIE)
        session_id = given if given and _ID.fullmatch(given) else None
        data: dict[str, Any] = {}
        expires_at = None
        # A deferred page (a GET of one of ``deferred``) reads the session itself, in its
        # own worker thread and unit of work (``load_session``): no thread and no
        # connection of its own for it.
        pending = scope["method"] == "GET" and scope["path"] in self.deferred
        if session_id is not None and not pending:
            data, expires_at = await anyio.to_thread.run_sync(
                _load, get_factory(request, read_only=True), session_id, now)
        session = SessionData(data, session_id, expires_at, pending=pending)
        scope["session"] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                write, drop = self._changes(session, now)
                if write or drop is not None:
                    cookie = await anyio.to_thread.run_sync(self._save, request, session, now)
                else:  # nothing to write: no worker thread needed
                    cookie = self._cookie_for(session, write=False)
                if cookie is not None:
                    MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, value: str, max_age: int) -> str:
        return (f"{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"
                + ("; Secure" if self.secure else ""))

    def _changes(self, session: SessionData, now: datetime) -> tuple[bool, str | None]:
        """Say whether the session must be written, and which stored session to forget."""
        if session.pending:  # never read: nothing changed
            return False, None
        old, new = session.loaded_id, session.current_id
        renewed = session.loaded_expires_at is not None and \
            session.loaded_expires_at - now < self.lifetime / 2
        write = bool(session) and (session.changed() or new != old or renewed)
        drop = old if old is not None and (new != old or (not session and session.changed())) \
            else None
        return write, drop

    def _save(self, request: Request, session: SessionData, now: datetime) -> str | None:
        """Write what changed and return the Set-Cookie value, if one is needed."""
        write, drop = self._changes(session, now)
        if write or drop is not None:
            with unit_of_work(get_factory(request)) as db:
                if drop is not None:
                    _forget(db, drop)
                if write:
                    _store(db, session.id, dict(session), now, now + self.lifetime)
        return self._cookie_for(session, write=write)

    def _cookie_for(self, session: SessionData, *, write: bool) -> str | None:
        old = session.loaded_id
        new = session.current_id
        if new is not None and (new != old or write):
            return self._cookie(new, int(self.lifetime.total_seconds()))
        if old is not None and new is None:
            return self._cookie("", 0)
        return None
