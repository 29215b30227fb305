"""Long computations run in a worker process of the web process: in a unit of work of their
own there, with the platform's errors and the jobs they send coming back whole."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from borderpass.evidence.sources import BatchRejected
from borderpass.kit import jobs
from borderpass.kit.errors import NotFound
from borderpass.kit.offload import Pool
from borderpass.wiring import wire

NOTED: list[str] = []


@jobs.actor("test.offload_note", unit=False, max_retries=0)
def offload_note(value: str) -> None:
    NOTED.append(value)


def where(session: Session, word: str, *, times: int = 1) -> tuple[int, int, str]:
    """Run in the worker: its pid, a query through the unit's session, and the word."""
    return os.getpid(), session.execute(text("SELECT 1")).scalar_one(), word * times


def refuse(_session: Session, count: int) -> None:
    raise BatchRejected(count=count, details=[{"line": 2, "field": "hkid", "reason": "bad"}])


def missing(_session: Session) -> None:
    raise NotFound(field="source")


def note_then(session: Session, value: str, fail: bool) -> str:
    jobs.enqueue(session, "test.offload_note", value)
    session.execute(text("SELECT 1"))
    if fail:
        raise NotFound()
    return value


@pytest.fixture(scope="module")
def pool(engine: Engine) -> Iterator[Pool]:
    made = Pool(1, wire)
    yield made
    made.close()


@pytest.fixture()
def queued() -> Iterator[None]:
    jobs.clear()
    NOTED.clear()
    yield
    jobs.clear()


def test_the_work_runs_in_another_process_in_a_unit_of_its_own(pool: Pool) -> None:
    pid, one, word = asyncio.run(pool.run(where, "ab", times=3))
    assert pid != os.getpid()
    assert (one, word) == (1, "ababab")
    # The same worker serves the next call: it is started once, not per call.
    assert asyncio.run(pool.run(where, "c"))[0] == pid


def test_a_refusal_in_the_worker_reaches_the_caller_whole(pool: Pool) -> None:
    with pytest.raises(BatchRejected) as raised:
        asyncio.run(pool.run(refuse, 7))
    error = raised.value
    assert error.as_json()["error"] == {
        "code": "batch_rejected",
        "message": "The batch was not accepted: 7 row(s) were rejected. Nothing was written.",
        "details": [{"line": 2, "field": "hkid", "reason": "bad"}]}
    assert "7" in error.render("zh_Hant") and error.render("zh_Hant") != error.render("en")
    with pytest.raises(NotFound) as raised_again:
        asyncio.run(pool.run(missing))
    assert raised_again.value.field == "source"


def test_jobs_of_a_committed_unit_are_sent_by_the_web_process(pool: Pool, queued: None) -> None:
    value = uuid.uuid4().hex
    assert asyncio.run(pool.run(note_then, value, False)) == value
    assert [c.ready for c in jobs.queue_counts() if c.queue == "default"] == [1]
    jobs.drain()
    assert NOTED == [value]


def test_a_unit_that_fails_in_the_worker_sends_no_job(pool: Pool, queued: None) -> None:
    with pytest.raises(NotFound):
        asyncio.run(pool.run(note_then, "never", True))
    assert sum(c.ready for c in jobs.queue_counts()) == 0
    jobs.drain()
    assert NOTED == []
