"""Long computations in worker processes, so that a web process keeps answering.

A thread of the web process is enough for work that waits (the database, the network)
but not for work that computes for seconds: it holds the interpreter lock, and each
request the event loop serves (``/healthz`` included) waits for it again and again, the
longer the busier the machine. Ingesting a batch of hundreds of thousands of rows is such
work. ``Pool`` runs it in a child process of the web process instead, in a unit of work
of its own that commits there, before the answer goes back: an acknowledgement still
means the data is on disk.

The public API:

``Pool(processes, setup)``
    The app's pool of worker processes, started on first use. ``setup`` (a module-level
    function: the wiring) runs first in each. ``close()`` stops them.
``Pool.run(fn, *args, **kwargs)``
    Await ``fn(session, *args, **kwargs)`` in a worker process, in a unit of work of its own; return
    what it returns, or raise what it raises (the platform's errors cross intact);
    ``WorkerLost`` when the worker died first (its unit rolled back). Jobs the
    unit sends after its commit are sent by this process when there is no broker (the
    in-memory broker of the embedded default lives here), by the worker when there is.
``run_unit(request, session, fn, *args, heavy=True, **kwargs)``
    What an endpoint calls: the request's own unit of work (its caller's authentication)
    ends first, so that it holds no write lock, then ``fn`` runs in the app's pool. Where
    the work is not ``heavy`` (a batch of a few rows), where the app has no pool, or where
    the tests give it their own session factory, ``fn`` runs on a thread with the
    request's session, as any blocking endpoint does.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import Request
from sqlalchemy.orm import Session

from borderpass.kit import jobs
from borderpass.kit.config import get_settings
from borderpass.kit.db import unit_of_work
from borderpass.kit.logging import configure_logging, get_logger

__all__ = ["Pool", "WorkerLost", "make_pool", "pool_of", "run_unit"]

log = get_logger(__name__)

R = TypeVar("R")

_NICENESS = 10  # how much lower a worker's CPU priority is than its web process's


class WorkerLost(RuntimeError):
    """A worker process died before it answered; what it was doing rolled back. The web
    layer answers 503 with Retry-After: the same request may simply be sent again."""


@dataclass(frozen=True)
class _Done:
    result: Any
    sent: list[jobs.Forwarded]


def _start(setup: Callable[[], None] | None) -> None:
    # Below the web process in the scheduler's order: on a busy machine the requests it
    # serves (``/healthz`` included) come first, and a batch takes a little longer.
    os.nice(_NICENESS)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_file, json=settings.log_json,
                      stderr_level="WARNING")
    if setup is not None:
        setup()


def _in_unit(fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Done:
    with jobs.forwarded() as sent:
        with unit_of_work() as session:
            result = fn(session, *args, **kwargs)
    return _Done(result, sent)


class Pool:
    """Worker processes for long computations of one web process (see the module)."""

    def __init__(self, processes: int, setup: Callable[[], None] | None = None) -> None:
        self.processes, self.setup = processes, setup
        self._executor: ProcessPoolExecutor | None = None

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # Spawned, not forked: the web process has threads and open connections.
            self._executor = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start, initargs=(self.setup,))
        return self._executor

    async def run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Return ``fn(session, *args, **kwargs)``, run in a worker process in a unit of
        its own."""
        loop = asyncio.get_running_loop()
        try:
            done: _Done = await loop.run_in_executor(self._started(), _in_unit, fn, args,
                                                   kwargs)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): its unit rolled back. The next call
            # starts a fresh pool; this one is answered as a busy service is.
            log.error("offload.worker_died", fn=getattr(fn, "__qualname__", str(fn)))
            self.close(wait=False)
            raise WorkerLost("a worker process died before it answered") from None
        for item in done.sent:
            jobs.send(item.name, *item.args, delay_seconds=item.delay_seconds)
        result: R = done.result
        return result

    def close(self, *, wait: bool = True) -> None:
        """Stop the worker processes (after the running calls end, with ``wait``)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)


def pool_of(request: Request) -> Pool | None:
    """Return the app's pool, or None where work runs on the web process's threads."""
    state = request.app.state
    if getattr(state, "session_factory", None) is not None:
        return None  # the tests' factory lives in this process only
    pool: Pool | None = getattr(state, "offload", None)
    return pool


def make_pool(setup: Callable[[], None] | None) -> Pool | None:
    """Return a pool of the configured size (``BORDERPASS_OFFLOAD_PROCESSES``; 0: none)."""
    processes = get_settings().offload_processes
    return Pool(processes, setup) if processes > 0 else None


async def run_unit(request: Request, session: Session, fn: Callable[..., R], *args: Any,
                   heavy: bool = True, **kwargs: Any) -> R:
    """Run ``fn(session, *args, **kwargs)`` for an endpoint: in the app's pool if it has one
    and the work is ``heavy``, on a thread with the request's session if not (see the
    module). Light work stays on a thread: handing it to a worker costs more than it does."""
    pool = pool_of(request) if heavy else None
    if pool is None:
        return await anyio.to_thread.run_sync(partial(fn, session, *args, **kwargs))
    await anyio.to_thread.run_sync(session.commit)
    return await pool.run(fn, *args, **kwargs)
