"""The ``borderpass`` command: each domain's command group, mounted on one root.

The groups live with their domains (``identity/cli.py``, ``evidence/cli.py``, ...) and
call the same services as the API. Here the root sets up (``wire()``, logging), holds the
commands that assemble everything (``db``, ``serve``, ``demo``) and turns a platform
error from any command into its message and an exit code, in this one place.

Exit codes: 0 success, 1 the input or the request was refused (the reason is printed),
2 usage error.
"""

from __future__ import annotations

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
def _setup() -> None:
    wire()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_file, json=settings.log_json,
                      stderr_level="WARNING")
    if settings.generated_secrets:
        log.info("secrets.embedded", path=str(settings.var_dir / "secrets.json"),
                 secrets=list(settings.generated_secrets),
                 note="generated once for the embedded default; set BORDERPASS_* in production")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
) -> None:
    """Serve the web site and the API."""
    import uvicorn

    from borderpass.web.app import create_app

    application = create_app()
    typer.echo(f"borderpass on http://{host}:{port}/  (API documentation at /docs)")
    note = mailbox_note()
    if note:
        typer.echo(note)
    uvicorn.run(application, host=host, port=port, log_level="warning")


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
