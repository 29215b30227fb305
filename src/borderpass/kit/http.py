"""What every endpoint depends on: the unit of work, the clock, the caller's token and
language. Endpoints name them with the ``Annotated`` aliases below.

The unit of work ends when the endpoint returns, before the response is sent (FastAPI's
``scope="function"`` dependencies): an acknowledgement means the commit happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, Request
from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from starlette.datastructures import State

from borderpass.kit.clock import utcnow
from borderpass.kit.config import get_settings
from borderpass.kit.db import close_loop_reads, loop_reads, session_factory, unit_of_work
from borderpass.kit.errors import InvalidInput, Unauthorised
from borderpass.kit.i18n import _, normalise_locale

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = [
    "Body", "ClientAddress", "DbSession", "Now", "UnstorableText", "Writer", "bearer_token",
    "WriteInRead", "client_address", "close_loop_reads_of", "get_now", "get_session",
    "loop_reads_of", "read_unit",
    "refuse", "refuse_unstorable_text", "request_body", "request_locale", "write_unit",
]


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_factory(request: Request, *, read_only: bool = False) -> sessionmaker[Session]:
    """Return the session factory of the app: read-only or for writing.

    Tests set ``app.state.session_factory`` (one factory for both, on the test's
    transaction).
    """
    state = request.app.state
    factory: sessionmaker[Session] | None = _state_value(state, "session_factory")
    if factory is not None:
        return factory
    name = "read_factory" if read_only else "write_factory"
    factory = _state_value(state, name)
    if factory is None:
        factory = session_factory(read_only=read_only)
        setattr(state, name, factory)
    return factory


def _state_value(state: State, name: str) -> Any:
    """Return a value the app keeps in its state, or None: read from the dict Starlette's
    ``State`` keeps, since asking the state for a name it lacks raises (and formats a
    message), on nearly every request."""
    kept: dict[str, Any] = vars(state).get("_state", {})
    return kept.get(name)


def loop_reads_of(request: Request) -> async_sessionmaker[AsyncSession] | None:
    """Return the app's sessions for short reads on the event loop (``kit.db.loop_reads``),
    on the database its reads go to, or None where there are none: on SQLite, and where
    tests give the app a session factory of their own (reads must see the test's
    transaction)."""
    state = request.app.state
    if _state_value(state, "session_factory") is not None:
        return None
    made = _state_value(state, "loop_reads")
    if made is None:
        reads = get_factory(request, read_only=True).kw["bind"]
        made = loop_reads(reads.url) or False  # False: looked for, there are none
        state.loop_reads = made
    return made if made is not False else None


async def close_loop_reads_of(app: Any) -> None:
    """Close the connections of the app's loop reads, if it opened any (when its event
    loop ends)."""
    made = _state_value(app.state, "loop_reads")
    if made:
        app.state.loop_reads = None
        await close_loop_reads(made)


def refuse(request: Request) -> None:
    """Mark the request refused: its unit of work rolls back though the page answers."""
    request.state.refused = True


class WriteInRead(RuntimeError):
    """A read (GET, HEAD) tried to write; it must use ``write_unit`` for that."""


def _refuse_writes(session: Session) -> None:
    # The read-only engine refuses writes too; this says which statement, and holds
    # where one connection serves both (the tests' transaction).
    def flush(session: Session, _context: Any, _instances: Any) -> None:
        if session.new or session.dirty or session.deleted:
            raise WriteInRead("a read tried to write rows")

    def execute(state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            raise WriteInRead("a read tried to execute a write")

    event.listen(session, "before_flush", flush)
    event.listen(session, "do_orm_execute", execute)


def get_session(request: Request) -> Iterator[Session]:
    """Open the request's unit of work; it ends before the response is sent.

    A read (GET, HEAD) is a read-only unit: it never takes the write lock, and the
    database refuses a write through it. Otherwise the unit commits when the endpoint
    returns, so that an answer means the data is on disk. It rolls back when the
    endpoint raises (unless the error keeps what was flushed, like a spent PIN attempt)
    or when a page answers with a refusal.
    """
    read_only = request.method in READ_METHODS
    session = get_factory(request, read_only=read_only)()
    if read_only:
        _refuse_writes(session)
    try:
        yield session
    except BaseException as error:
        if getattr(error, "keep", False) and not read_only:
            session.commit()
        else:
            session.rollback()
        raise
    else:
        # A read-only transaction has nothing to commit: its commit only ends it, and
        # leaves alone what a nested ``write_unit`` committed.
        if getattr(request.state, "refused", False):
            session.rollback()
        else:
            session.commit()
    finally:
        session.close()


@contextmanager
def read_unit(request: Request, *, each_on_its_own: bool = False) -> Iterator[Session]:
    """Open a read-only unit of work beside the request's (for a cache refreshed now and
    then). Call it from a worker thread, never on the event loop.

    ``each_on_its_own``: on PostgreSQL each statement runs in a transaction of its own
    (autocommit), sparing a BEGIN and a COMMIT, two round trips: for a few reads that
    need no snapshot in common (under READ COMMITTED, each statement has its own anyway).
    """
    with unit_of_work(get_factory(request, read_only=True)) as session:
        bind = session.get_bind()
        if each_on_its_own and isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


@contextmanager
def write_unit(request: Request) -> Iterator[Session]:
    """Open a unit of work that may write, inside a read (a code issued on first view).

    It commits when the block ends, before the response is sent.
    """
    with unit_of_work(get_factory(request)) as session:
        yield session


async def get_now(request: Request) -> datetime:
    """Return the current instant; tests may pin the app's clock."""
    clock = _state_value(request.app.state, "clock")
    return clock() if clock is not None else utcnow()


# scope="function": the unit of work ends when the endpoint returns, before the answer.
DbSession = Annotated[Session, Depends(get_session, scope="function")]


async def get_writer(request: Request) -> Callable[[], AbstractContextManager[Session]]:
    """Return what opens a writing unit of work inside a read (see ``write_unit``)."""
    return lambda: write_unit(request)


# For a read that may have to write once (today's code on its first view).
Writer = Annotated[Callable[[], AbstractContextManager[Session]], Depends(get_writer)]
Now = Annotated[datetime, Depends(get_now)]


async def request_body(request: Request) -> bytes:
    """Return the raw request body, read on the event loop (its size is bounded by the
    app's body limits) so that the endpoint itself can run on a worker thread."""
    return await request.body()


Body = Annotated[bytes, Depends(request_body)]


async def bearer_token(
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> str:
    """Return the bearer token or API key the caller sent."""
    if x_api_key:
        return x_api_key.strip()
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    raise Unauthorised()


async def client_address(request: Request) -> str | None:
    """Return the caller's network address.

    It is the connection's, unless ``trusted_proxies`` says how many proxies in front of
    us append to X-Forwarded-For: then it is the entry that many from the right, the
    address the outermost trusted proxy saw (entries further left are whatever the
    client sent, so never trusted).
    """
    hops = get_settings().trusted_proxies
    if hops:
        forwarded = [entry.strip() for header in request.headers.getlist("x-forwarded-for")
                     for entry in header.split(",") if entry.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops][:128]
    return request.client.host if request.client else None


ClientAddress = Annotated[str | None, Depends(client_address)]


def request_locale(request: Request) -> str:
    """Return the caller's language: the site's remembered choice, else Accept-Language."""
    return normalise_locale(
        request.cookies.get("locale") or request.headers.get("accept-language", "en")[:5]
    )


class UnstorableText(InvalidInput):
    code = "unstorable_text"
    message = _("The text holds a character that cannot be stored: a NUL character or half "
                "of a surrogate pair.")


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _refuse_in(value: Any, field: str, depth: int = 0) -> None:
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise UnstorableText(field=field or None)
    elif isinstance(value, dict) and depth < 64:
        for key, item in value.items():
            _refuse_in(key, field, depth + 1)
            _refuse_in(item, f"{field}.{key}" if field else str(key), depth + 1)
    elif isinstance(value, list) and depth < 64:
        for index, item in enumerate(value):
            _refuse_in(item, f"{field}[{index}]", depth + 1)


async def refuse_unstorable_text(request: Request) -> None:
    """Refuse text that no database stores (a NUL character; half of a surrogate pair,
    which JSON's escapes can carry): a 422 naming the field, before the endpoint runs,
    rather than a failed write. Reads the query and the JSON body or form the endpoint's
    parameters were parsed from."""
    for name, value in request.query_params.multi_items():
        _refuse_in(value, name)
    parsed = getattr(request, "_json", None)  # parsed already for the endpoint's model
    if parsed is not None:
        _refuse_in(parsed, "")
    form = getattr(request, "_form", None)
    if form is not None:
        for name, value in form.multi_items():
            if isinstance(value, str):
                _refuse_in(value, name)
