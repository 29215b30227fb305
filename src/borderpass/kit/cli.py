"""What every command group shares, and kit's own group (the outbox).

A command opens one unit of work (``kit.db.unit_of_work``) and lets a platform error
escape it: the root command (``borderpass.cli``) turns any ``BorderpassError`` into its
message and exit code 1, in one place. ``fail`` is for refusals a command finds itself.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from borderpass.kit import outbox
from borderpass.kit.clock import utcnow
from borderpass.kit.db import unit_of_work

__all__ = ["fail", "outbox_app"]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a reason to standard error and exit with ``code``."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


outbox_app = typer.Typer(help="Messages to residents.", no_args_is_help=True)


@outbox_app.command("deliver")
def outbox_deliver(
    limit: Annotated[int, typer.Option(help="At most this many messages")] = 500,
) -> None:
    """Hand queued SMS and letters to the configured sender."""
    with unit_of_work() as session:
        sent = outbox.deliver(session, outbox.configured_sender(), now=utcnow(), limit=limit)
    typer.echo(f"delivered {sent} message(s)")
