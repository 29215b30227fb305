"""The ``borderpass`` command: each domain's command group, mounted on one root.

The groups live with their domains (``identity/cli.py``, ``evidence/cli.py``, ...) and
call the same services as the API. Here the root sets up (``wire()``, logging), holds the
commands that assemble everything (``db``, ``serve``, ``demo``) and turns a platform
error from any command into its message and an exit code, in this one place.

Exit codes: 0 success, 1 the input or the request was refused (the reason is printed),
2 usage error.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from borderpass.checkin.cli import checkin_app, phone_app, venue_app
from borderpass.crossing.cli import cross_app
from borderpass.crossing.partners_cli import code_convert, partners_app
from borderpass.echannel.cli import card_app, gates_app
from borderpass.evidence.cli import ingest_app, sources_app
from borderpass.healthcode.cli import code_app, keys_app, trust_app, verify
from borderpass.identity.cli import (
    accounts_app,
    document_registries_app,
    ids_app,
    registrations_app,
    staff_app,
)
from borderpass.kit import jobs
from borderpass.kit.cli import fail, mailbox_note, outbox_app, sessions_app
from borderpass.kit.clock import utcnow
from borderpass.kit.config import get_settings
from borderpass.kit.db import unit_of_work
from borderpass.kit.errors import BorderpassError
from borderpass.kit.logging import configure_logging, get_logger
from borderpass.permits.cli import permits_app
from borderpass.rules.cli import rules_app
from borderpass.wiring import wire

if TYPE_CHECKING:
    from typer._click import Context  # Typer's own copy of click, which it runs on

__all__ = ["app", "main"]


def _reason(error: BorderpassError) -> str:
    """Render a platform error for standard error: its code, message and any line details."""
    details = ""
    if isinstance(error.details, list):
        details = "".join(
            f"\n  line {item.get('line', '?')}: {item.get('field') or '-'}: "
            f"{item.get('reason') or item.get('problem')}"
            for item in error.details if isinstance(item, dict)
        )
    return f"{error.code}: {error.render('en')}{details}"


class _Root(TyperGroup):
    """The root group: a ``BorderpassError`` that any command beneath it lets escape (its
    unit of work has ended by then) becomes the reason on stderr and exit code 1."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except BorderpassError as error:
            fail(_reason(error))


app = typer.Typer(cls=_Root, help="borderpass: crossing a border during an epidemic.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
# The order of the groups is the order `borderpass --help` lists them in.
app.add_typer(db_app, name="db")
app.add_typer(ids_app, name="ids")
app.add_typer(ingest_app, name="ingest")
app.add_typer(sources_app, name="sources")
app.add_typer(staff_app, name="staff")
app.add_typer(accounts_app, name="accounts")
app.add_typer(outbox_app, name="outbox")
app.add_typer(sessions_app, name="sessions")
app.add_typer(registrations_app, name="registrations")
app.add_typer(document_registries_app, name="document-registries")
app.add_typer(card_app, name="card")
app.add_typer(gates_app, name="gates")
app.add_typer(code_app, name="code")
app.add_typer(rules_app, name="rules")
app.add_typer(trust_app, name="trust-list")
app.add_typer(keys_app, name="keys")
app.add_typer(permits_app, name="permits")
app.add_typer(venue_app, name="venue")
app.add_typer(checkin_app, name="checkin")
app.add_typer(phone_app, name="phone")
app.add_typer(cross_app, name="cross")
app.add_typer(partners_app, name="partners")
code_app.command("convert")(code_convert)  # the crossing's conversion, beside `code issue`

log = get_logger("borderpass.cli")


@app.callback()
def _setup(ctx: typer.Context) -> None:
    wire()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_file, json=settings.log_json,
                      stderr_level="WARNING")
    if jobs.embedded() and settings.embedded_jobs:
        ctx.call_on_close(_run_sent_jobs)
    if settings.generated_secrets:
        log.info("secrets.embedded", path=str(settings.var_dir / "secrets.json"),
                 secrets=list(settings.generated_secrets),
                 note="generated once for the embedded default; set BORDERPASS_* in production")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=256,
                                         help="Web processes sharing the port")] = 1,
) -> None:
    """Serve the web site and the API."""
    import uvicorn

    from borderpass.kit.metrics import prepare_multiprocess
    from borderpass.web.app import create_app
    from borderpass.web.health import load_keys

    # Made here, once, so that the workers find them rather than race to make them.
    load_keys(utcnow())
    typer.echo(f"borderpass on http://{host}:{port}/  (API documentation at /docs)")
    note = mailbox_note()
    if note:
        typer.echo(note)
    if workers == 1:
        uvicorn.run(create_app(), host=host, port=port, log_level="warning")
        return
    # Each worker is a fresh interpreter that builds the app itself; what must be shared
    # (sessions, throttles, used tokens, lists) is in the database, never in a process.
    prepare_multiprocess(get_settings().var_dir / "prometheus")
    typer.echo(f"{workers} web processes")
    if jobs.embedded() and get_settings().embedded_jobs:
        typer.echo("no BORDERPASS_REDIS_URL: each web process runs the jobs it sends and the "
                   "periodic ones itself; production runs `borderpass worker` and one "
                   "`borderpass scheduler` with Redis")
    # The supervisor replaces a worker that does not answer its ping within this time. A
    # worker answers only once it has imported the app, which takes a few seconds on a
    # quiet machine and many more on a busy one: uvicorn's 5 s would replace workers
    # still starting, again and again.
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("borderpass.web.app:create_app", factory=True, host=host,
                            port=port, workers=workers, log_level="warning",
                            timeout_worker_healthcheck=60)
    try:
        Multiprocess(config, sockets=[_listening_socket(host, port)]).run()
    except KeyboardInterrupt:
        pass


def _listening_socket(host: str, port: int) -> socket.socket:
    """Return the socket the web processes share, made as TCP explicitly.

    uvicorn's own makes it with protocol 0; the connections accepted on it then carry
    protocol 0 too, and asyncio sets TCP_NODELAY only on those marked TCP. Without it each
    answer written in two parts (head, then body) waited for the client's delayed
    acknowledgement: 44 ms for every request on a kept-alive connection.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise typer.BadParameter(f"cannot listen on {host}:{port}: {error.strerror}") \
            from None
    sock.set_inheritable(True)
    return sock


def _run_sent_jobs() -> None:
    """Without a broker, run the jobs the command sent (a PIN to deliver, people to
    re-evaluate) before the process ends, so that none is lost with it."""
    try:
        jobs.drain(timeout_seconds=60)
    except TimeoutError:
        typer.echo("some background jobs did not finish; the server's periodic jobs take "
                   "over what they leave", err=True)


def _need_broker(command: str) -> None:
    if jobs.embedded():
        fail(f"{command}: BORDERPASS_REDIS_URL is not set. Without a broker the web process "
             "(`borderpass serve`) runs the jobs and their schedule itself.")


@app.command()
def worker(
    processes: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    threads: Annotated[int, typer.Option(min=1, max=256, help="Threads per process")] = 8,
    queue: Annotated[list[str] | None, typer.Option(
        help=f"Only this queue (repeat for several): {', '.join(jobs.QUEUES)}")] = None,
) -> None:
    """Run the background jobs from Redis until stopped (SIGTERM lets running jobs end)."""
    _need_broker("worker")
    unknown = sorted(set(queue or ()) - set(jobs.QUEUES))
    if unknown:
        fail(f"--queue: no queue named {', '.join(unknown)}; the queues are "
             f"{', '.join(jobs.QUEUES)}", 2)
    if not jobs.broker_reachable():
        fail("worker: the broker at BORDERPASS_REDIS_URL does not answer")
    typer.echo(f"worker: {processes} process(es) of {threads} thread(s), "
               f"{len(jobs.jobs())} jobs")
    jobs.run_worker(processes=processes, threads=threads,
                    queues=set(queue) if queue else None, setup=wire)


@app.command()
def scheduler() -> None:
    """Send the periodic jobs (outbox sweep, purges, reminders, partner sync) on schedule.

    Run one; a second one sends nothing twice (each period is claimed in Redis).
    """
    _need_broker("scheduler")
    if not jobs.broker_reachable():
        fail("scheduler: the broker at BORDERPASS_REDIS_URL does not answer")
    for name, job in sorted(jobs.jobs().items()):
        period = job.period()
        if period is not None:
            typer.echo(f"{name}: every {period}")
    jobs.run_scheduler()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "heads") -> None:
    """Apply the migrations to the configured database."""
    from borderpass.migrations import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def demo() -> None:
    """Load the demo residents, officers, laboratory and registry (once)."""
    from borderpass.demo import load

    with unit_of_work() as session:
        for line in load(session, now=utcnow()):
            typer.echo(line)


app.command()(verify)


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (for ``python -m borderpass``)."""
    return app(argv)
