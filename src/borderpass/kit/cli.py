"""What every command group shares, and kit's own groups (the outbox, the site's sessions).

A command opens one unit of work (``kit.db.unit_of_work``) and lets a platform error
escape it: the root command (``borderpass.cli``) turns any ``BorderpassError`` into its
message and exit code 1, in one place. ``fail`` is for refusals a command finds itself.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from borderpass.kit import outbox, sessions
from borderpass.kit.clock import utcnow
from borderpass.kit.config import get_settings
from borderpass.kit.db import unit_of_work

__all__ = ["fail", "outbox_app", "sessions_app"]


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
    sender = outbox.configured_sender()
    sent = outbox.deliver_each(unit_of_work, sender, now=utcnow(), limit=limit)
    typer.echo(f"delivered {sent} message(s)")
    if isinstance(sender, outbox.MailboxSender):  # said even when the jobs came first
        typer.echo(f"(not sent: each is a file in {sender.folder}/, which stands in for the "
                   "phone)")


sessions_app = typer.Typer(help="The web site's sessions.", no_args_is_help=True)


@sessions_app.command("purge")
def sessions_purge() -> None:
    """Delete the site's expired sessions."""
    with unit_of_work() as session:
        count = sessions.purge_expired(session, now=utcnow())
    typer.echo(f"purged {count} expired session(s)")


def mailbox_note() -> str | None:
    """Say where messages go when the development mailbox is the sender, else None."""
    settings = get_settings()
    if not issubclass(outbox.sender_class(), outbox.MailboxSender):
        return None
    return (f"SMS and letters (activation PINs) are not sent: each is put in a file under "
            f"{settings.mailbox_dir}/ as soon as it is queued")
