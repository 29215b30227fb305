"""The database: engine, declarative base, column types and the unit of work.

One unit of work per request or command: it commits when the block succeeds and rolls
back when it raises. Services may ``flush()``; they never ``commit()``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from time import monotonic
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    MetaData,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import Select
from sqlalchemy.types import NullType, TypeDecorator

from borderpass.kit.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = [
    "among",
    "array_literal",
    "Base",
    "DatabaseBusy",
    "Prepared",
    "UTCDateTime",
    "engine_for",
    "get_engine",
    "close_loop_reads",
    "loop_reads",
    "new_id",
    "ping",
    "session_factory",
    "unit_of_work",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every table; tables live with their domain."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; naive values are refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def new_id() -> uuid.UUID:
    """Return a fresh random identifier."""
    return uuid.uuid4()


_BUSY_MS = 30_000


def _sqlite_pragmas(read_only: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()
    return on_connect


# SQLite has one writer at a time. Within a process, writers queue on this lock (one per
# database file) rather than polling SQLite's busy handler; between processes the busy
# timeout does the same. Readers never take it: in WAL mode they read beside the writer.
_WRITERS: dict[str, threading.Lock] = {}
_WRITERS_GUARD = threading.Lock()


class DatabaseBusy(Exception):
    """The database's single writer stayed busy for longer than the wait allowed."""


def _writer_lock(path: str) -> threading.Lock:
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(path, threading.Lock())


def _serialise_writers(engine: Engine, path: str) -> None:
    lock = _writer_lock(path)

    def begin(connection: Any) -> None:
        if not lock.acquire(timeout=_BUSY_MS / 1000):
            raise DatabaseBusy("the database stayed busy; try again")
        connection.info["writer_lock"] = lock
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            connection.info.pop("writer_lock").release()
            raise

    def end(connection: Any) -> None:
        held = connection.info.pop("writer_lock", None)
        if held is not None:
            held.release()

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)


def engine_for(url: str, *, read_only: bool = False, pool_size: int | None = None,
               pool_timeout: float | None = None) -> Engine:
    """Create an engine for ``url`` with the settings each database needs.

    ``read_only``: for read-only units of work. They never take the write lock; on
    SQLite their transactions begin deferred and read (WAL) beside the writer, and any
    write through them fails. On SQLite a writer's transaction begins immediate and
    writers of one process queue in turn.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_database_file(path)
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               pool_size=pool_size or 5, max_overflow=pool_size or 10,
                               pool_timeout=pool_timeout or 30)
        event.listen(engine, "connect", _sqlite_pragmas(read_only))
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's recipe is to
        # switch it off and emit BEGIN ourselves.
        if read_only:
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        else:
            _serialise_writers(engine, path)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    options: dict[str, Any] = {"postgresql_readonly": True} if read_only else {}
    engine = create_engine(url, pool_size=pool_size or 10, max_overflow=10,
                           pool_timeout=pool_timeout or 30, execution_options=options)
    _ping_when_idle(engine)
    return engine


PING_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before lending it only if it lay idle for more than
    ``PING_IDLE_SECONDS`` (a dead one is replaced, as ``pool_pre_ping`` does).

    A connection in steady use answered a moment ago; pinging it again costs a round
    trip on every unit of work, which for a short read is a third of its time. Should
    the server restart meanwhile, the first statement on such a connection fails, and
    the pool drops all its connections at once.
    """

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or monotonic() - since <= PING_IDLE_SECONDS:
            return  # just connected, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError() from error
            raise

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


def _private_database_file(path: str) -> None:
    """Make the SQLite file readable by its owner only, before SQLite opens it.

    SQLite creates the ``-wal`` and ``-shm`` files with the database file's mode, so all
    three are 0600; a file an earlier version made readable to others is narrowed too.
    """
    import os
    from pathlib import Path

    database = Path(path)
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not database.exists():
        # Only a file not there yet is opened here: closing a descriptor of a database
        # this process already has open would drop the process's POSIX locks on it, and
        # another process closing its last connection would then delete the WAL in use.
        os.close(os.open(database, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm"):
        part = Path(path + suffix)
        if part.exists() and part.stat().st_mode & 0o077:
            part.chmod(0o600)


@lru_cache(maxsize=8)
def _cached_engine(url: str, read_only: bool) -> Engine:
    settings = get_settings()
    return engine_for(url, read_only=read_only,
                      pool_size=settings.db_pool_size or settings.threads,
                      pool_timeout=settings.db_pool_timeout)


def get_engine(*, read_only: bool = False) -> Engine:
    """Return the engine for the configured database (its read-only twin if asked)."""
    return _cached_engine(get_settings().database_url, read_only)


def loop_reads(url: URL | str | None = None) -> async_sessionmaker[AsyncSession] | None:
    """Return new sessions for short reads made on the event loop, on the database at
    ``url`` (the configured one by default), where the database allows it (PostgreSQL:
    its driver waits on the loop); None otherwise (SQLite).

    A page read on nearly every visit runs its reads here (``AsyncSession.run_sync``:
    the service code as it is, each statement awaited on the loop) instead of in a
    worker thread, sparing the hop to the thread and back, which costs about as much
    as the reads. Each statement runs on its own, read-only: for reads that need no
    snapshot in common. Nothing that may wait long (a write, a lock) belongs here.
    The connections wait on the loop that opened them: an app keeps its own sessions
    (``kit.http.loop_reads_of``) and closes them with ``close_loop_reads`` when its loop
    ends.
    """

    found = make_url(url if url is not None else get_settings().database_url)
    if found.get_backend_name() != "postgresql":
        return None
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    settings = get_settings()
    size = settings.db_pool_size or settings.threads
    # Each statement is a read-only transaction of its own (autocommit; the server
    # refuses writes), set once for each connection rather than on every unit of work.
    engine = create_async_engine(
        found.set(drivername="postgresql+psycopg_async"), pool_size=size,
        max_overflow=10, pool_timeout=settings.db_pool_timeout,
        isolation_level="AUTOCOMMIT",
        connect_args={"options": "-c default_transaction_read_only=on"})
    _ping_when_idle(engine.sync_engine)
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def close_loop_reads(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Close the connections of sessions ``loop_reads`` made (on the loop they wait on)."""
    await sessions.kw["bind"].dispose()


def session_factory(engine: Engine | None = None, *,
                    read_only: bool = False) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine`` (the configured one by default)."""
    return sessionmaker(bind=engine or get_engine(read_only=read_only), expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session] | None = None) -> Iterator[Session]:
    """Open a session; commit when the block succeeds, roll back when it raises."""
    session = (factory or session_factory())()
    try:
        yield session
        session.commit()
    except BaseException as error:
        if getattr(error, "keep", False):
            session.commit()
        else:
            session.rollback()
        raise
    finally:
        session.close()


_NUMBER = attrgetter("int")


def among(session: Session, column: Any, values: Sequence[Any], *,
          contiguous: bool = False) -> ColumnElement[bool]:
    """``column IN values`` for a long list of values.

    On PostgreSQL the list travels as one array parameter (``= ANY(:values)``), so the
    statement stays short whatever the number of values; elsewhere it is a plain IN.

    ``contiguous`` says that the caller wants, or filters out, the rows of every value
    from the least of ``values`` to the greatest (a page of ids taken in order): the
    condition is then that range, one index range scan instead of a probe per value,
    and no list to write or read.
    """
    if contiguous and values:
        # Ids compare by their number: UUID's own comparisons run in Python, slowly.
        order = _NUMBER if type(values[0]) is uuid.UUID else None
        return column.between(min(values, key=order),  # type: ignore[no-any-return]
                              max(values, key=order))
    if session.get_bind().dialect.name == "postgresql":
        # Untyped, the parameter takes the array's type from the cast, and the server
        # reads the literal once (a text parameter would be cast again for every row).
        literal = bindparam(None, array_literal(values), type_=NullType())
        return column == any_(cast(literal, ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(list(values))  # type: ignore[no-any-return]


def array_literal(values: Sequence[Any]) -> str:
    """Write values as a PostgreSQL array literal, to be cast (``CAST(:x AS uuid[])``).

    The driver's array adapter checks and quotes element by element, in Python, about
    2.6 µs per id: for the thousands of ids of a set-based read, more than the query
    itself. Ids go as hex, numbers as written, instants in ISO form, bytes as ``\\x``
    hex, text quoted with ``\\`` and ``"`` escaped; None is NULL.
    """
    if values and all(type(value) is uuid.UUID for value in values):
        return "{" + ",".join([value.hex for value in values]) + "}"
    if values and all(type(value) is str and "\\" not in value and '"' not in value
                      for value in values):
        return '{"' + '","'.join(values) + '"}'  # text with nothing to escape
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, uuid.UUID):
            parts.append(value.hex)
        elif isinstance(value, bool):
            parts.append("true" if value else "false")
        elif isinstance(value, int):
            parts.append(str(value))
        elif isinstance(value, bytes):
            parts.append(f'"\\\\x{value.hex()}"')
        elif isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the database")
            parts.append(f'"{value.isoformat()}"')
        else:
            text_value = str(value)
            if "\\" in text_value or '"' in text_value:
                text_value = text_value.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'"{text_value}"')
    return "{" + ",".join(parts) + "}"


_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Form:
    """A statement as one database's driver takes it."""

    sql: str
    names: tuple[str, ...]
    """The parameters in the order the SQL names them (once each for named parameters)."""
    positional: bool
    fixed: dict[str, Any]
    """The values the statement holds itself (literals bound when it was built)."""
    binds: dict[str, _Processor]
    results: tuple[_Processor, ...]

    def arguments(self, params: Mapping[str, Any]) -> Any:
        values = {**self.fixed, **params}
        done = [values[name] if (process := self.binds[name]) is None else process(values[name])
                for name in self.names]
        return tuple(done) if self.positional else dict(zip(self.names, done, strict=True))

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(value if process is None or value is None else process(value)
                     for process, value in zip(self.results, values, strict=True))


class Prepared:
    """A read statement compiled once for each kind of database and run on the driver's
    own cursor: for the few reads made on nearly every request.

    For a short read by key, SQLAlchemy's way of running a statement (its cache of
    compiled statements, an execution context, a result with its metadata) costs a few
    times what the driver and the database do. Here the statement is compiled once, its
    parameters and values converted by their columns' types as SQLAlchemy converts them,
    and a failure of the driver raised as SQLAlchemy raises it (a lost connection is
    dropped from the pool). While anything listens to the connection's statements
    (``before_cursor_execute``), the statement runs through SQLAlchemy so that it is seen.
    """

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._forms: dict[tuple[str, str], _Form] = {}

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run the statement with ``params`` on ``connection``; return its rows as tuples."""
        if connection.dispatch.before_cursor_execute:
            return [tuple(row) for row in connection.execute(self.statement, dict(params))]
        dialect = connection.dialect
        form = self._form(dialect)
        arguments = form.arguments(params)
        pooled = connection.connection
        cursor = pooled.cursor()
        try:
            cursor.execute(form.sql, arguments)
            fetched = cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
            if lost:
                connection.invalidate(error)
            # Without its parameters: they name sessions and tokens.
            raise DBAPIError.instance(form.sql, arguments, error, dialect.loaded_dbapi.Error,
                                      hide_parameters=True, connection_invalidated=lost,
                                      dialect=dialect) from error
        finally:
            cursor.close()
        return [form.row(values) for values in fetched]

    def _form(self, dialect: Dialect) -> _Form:
        key = (dialect.name, dialect.driver)
        form = self._forms.get(key)
        if form is None:
            compiled = self.statement.compile(dialect=dialect)
            named = {name: bind for bind, name in compiled.bind_names.items()}
            # Names the driver cannot take as they are, or lists expanded when run.
            if compiled.escaped_bind_names or any(bind.expanding for bind in named.values()):
                raise ValueError("a prepared statement takes plain, single parameters")
            positional = bool(compiled.positional)
            names = tuple(compiled.positiontup or ()) if positional else tuple(named)
            form = _Form(
                compiled.string, names, positional,
                {name: bind.effective_value for name, bind in named.items()
                 if not bind.required},
                {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                 for name, bind in named.items()},
                tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in self.statement.selected_columns))
            self._forms[key] = form
        return form


def ping(session: Session) -> None:
    """Ask the database a trivial question: raises when it does not answer."""
    session.execute(text("SELECT 1")).scalar_one()
