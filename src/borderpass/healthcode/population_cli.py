"""What `borderpass code reevaluate-all` and `reevaluate-join` do: plan a run, have
chunks taken by local processes or by jobs on the queue, show the progress bar."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from borderpass.healthcode import population
from borderpass.healthcode.population import RunProgress
from borderpass.kit import jobs
from borderpass.kit.clock import utcnow
from borderpass.kit.db import unit_of_work

__all__ = ["reevaluate_all", "reevaluate_join"]


@contextmanager
def _bar(chunks: int) -> Iterator[Callable[[RunProgress], None]]:
    """Show the chunks done out of all, with those queued, running and failed, on stderr
    when it is a terminal."""
    console = Console(stderr=True)
    with Progress(TextColumn("re-evaluating"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("chunks · {task.fields[states]}"), TimeElapsedColumn(),
                  console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task("chunks", total=chunks, states="")

        def show(current: RunProgress) -> None:
            bar.update(task, completed=current.done + current.failed, states=(
                f"{current.queued} queued, {current.running} running, {current.failed} failed, "
                f"{current.people:,} people"))

        yield show


def _summary(current: RunProgress, elapsed: float) -> None:
    typer.echo(f"{current.people:,} people re-evaluated in {elapsed:,.1f} s "
               f"({current.people / elapsed if elapsed > 0 else 0:,.0f} people/s): "
               f"{current.green:,} green, {current.amber:,} amber, {current.red:,} red")
    if current.failed:
        typer.echo(f"{current.failed} chunks failed after {population.MAX_ATTEMPTS} attempts; "
                   f"run `borderpass code reevaluate-all` again", err=True)
        raise typer.Exit(1)


def _watch_jobs(run_id: uuid.UUID, show: Callable[[RunProgress], None],
                poll_seconds: float) -> RunProgress:
    """Wait for the workers to do the run's chunks, sending again the jobs of chunks whose
    worker stopped beating."""
    if jobs.embedded():
        jobs.drain(timeout_seconds=24 * 3600)  # no broker: this process is the worker
    while True:
        with unit_of_work() as session:
            current = population.progress(session, run_id)
            stale = population.requeue_expired(session, run_id, now=utcnow())
        for chunk_id in stale:
            jobs.send("healthcode.reevaluate_chunk", str(chunk_id))
        show(current)
        if current.finished:
            return current
        if jobs.embedded():
            jobs.drain(timeout_seconds=24 * 3600)
        time.sleep(poll_seconds)


def reevaluate_all(*, chunk_size: int, processes: int, page: int, queue: bool,
                   lease_seconds: float) -> None:
    """Plan a run of every active resident at this instant and see it done."""
    started = time.perf_counter()
    with unit_of_work() as session:
        run = population.plan(session, now=utcnow(), chunk_size=chunk_size)
        run_id, chunks = run.id, run.chunks
        chunk_ids = population.chunk_ids(session, run_id) if queue else []
    typer.echo(f"run {run_id}: {chunks:,} chunks of up to {chunk_size:,} people", err=True)
    with _bar(chunks) as show:
        if queue:
            for chunk_id in chunk_ids:
                jobs.send("healthcode.reevaluate_chunk", str(chunk_id))
            current = _watch_jobs(run_id, show, poll_seconds=0.5)
        else:
            current = population.run_locally(run_id, processes, page=page,
                                             lease_seconds=lease_seconds, watch=show)
    _summary(current, time.perf_counter() - started)


def reevaluate_join(run: str, *, processes: int, page: int, lease_seconds: float) -> None:
    """Take chunks of a run planned elsewhere until none is left."""
    try:
        run_id = uuid.UUID(run)
    except ValueError:
        typer.echo(f"not a run id: {run!r}", err=True)
        raise typer.Exit(2) from None
    started = time.perf_counter()
    with unit_of_work() as session:
        chunks = population.progress(session, run_id).chunks
    with _bar(chunks) as show:
        current = population.run_locally(run_id, processes, page=page,
                                         lease_seconds=lease_seconds, watch=show)
    _summary(current, time.perf_counter() - started)
    sys.stdout.flush()
