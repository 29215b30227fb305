"""Reads on the event loop (kit/db ``loop_reads``): PostgreSQL only, each statement on its
own and read-only, and never where the tests give the app a session factory of their own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.datastructures import State

from borderpass.identity.models import ApiToken
from borderpass.kit.db import Prepared, close_loop_reads, engine_for, loop_reads, session_factory
from borderpass.kit.http import loop_reads_of


def test_there_are_none_on_sqlite_or_beside_a_test_factory(app: Any, engine: Any) -> None:
    if engine.dialect.name == "sqlite":
        assert loop_reads() is None

    class Request:  # what loop_reads_of reads of a request: its app
        pass

    request: Any = Request()
    request.app = app
    assert loop_reads_of(request) is None  # the tests' factory: reads must see the test's


def test_an_app_reads_on_the_loop_from_the_database_its_reads_go_to(tmp_path: Any) -> None:
    class App:
        state = State()

    class Request:
        app = App

    request: Any = Request()
    elsewhere = "postgresql://reader@127.0.0.1:5432/elsewhere"  # never connected to here
    App.state.read_factory = session_factory(engine_for(elsewhere, read_only=True))
    reads = loop_reads_of(request)
    assert reads is not None
    url = reads.kw["bind"].url
    assert (url.database, url.username, url.drivername) == (
        "elsewhere", "reader", "postgresql+psycopg_async")
    assert loop_reads_of(request) is reads  # made once for the app
    App.state.loop_reads = None
    App.state.read_factory = session_factory(engine_for(f"sqlite:///{tmp_path / 'a.db'}"))
    assert loop_reads_of(request) is None


def test_they_read_committed_rows_and_write_nothing(engine: Any) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("reads on the event loop are PostgreSQL's")
    reads = loop_reads()
    assert reads is not None
    prepared = Prepared(select(ApiToken.role).where(ApiToken.token_hash == bindparam("hash")))

    def read(session: Session) -> list[tuple[Any, ...]]:
        return prepared.rows(session.connection(), {"hash": "loop-reads"})

    def write(session: Session) -> None:
        session.execute(text(
            "INSERT INTO api_tokens (token_hash, principal_kind, principal_id, role, label, "
            "created_at) VALUES ('loop-reads', 'resident', gen_random_uuid(), 'resident', '', "
            "now())"))

    async def run() -> tuple[list[tuple[Any, ...]], bool]:
        try:
            async with reads() as session:
                before = await session.run_sync(read)
                try:
                    await session.run_sync(write)
                except DBAPIError as error:
                    refused = "read-only" in str(error.orig)
                else:
                    refused = False
        finally:
            await close_loop_reads(reads)  # its connections wait on this loop only
        return before, refused

    before, refused = asyncio.run(run())
    assert before == [] and refused
