"""Identity's command groups: ``ids`` (document numbers), ``staff`` and ``registrations``."""

from __future__ import annotations

from typing import Annotated

import typer

from borderpass.identity import documents
from borderpass.identity import service as identity
from borderpass.kit.cli import fail
from borderpass.kit.clock import hk_date, utcnow
from borderpass.kit.db import unit_of_work

__all__ = ["ids_app", "registrations_app", "staff_app"]

ids_app = typer.Typer(help="Document numbers.", no_args_is_help=True)
staff_app = typer.Typer(help="Officers and operators.", no_args_is_help=True)
registrations_app = typer.Typer(help="Registrations in progress.", no_args_is_help=True)


@ids_app.command("check")
def ids_check(
    kind: Annotated[str, typer.Argument(help="hkid, hrp, macau or mainland")],
    number: Annotated[str, typer.Argument(help="The number as written")],
) -> None:
    """Check a document number: print its normal form, or why it is not valid."""
    try:
        typer.echo(documents.normalise(kind, number, today=hk_date(utcnow())))
    except documents.InvalidDocumentNumber as error:
        # The reason code leads, as documented (docs/operations.md), not the error code.
        fail(f"invalid ({error.reason}): {error.render('en')}")


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help=", ".join(identity.STAFF_ROLES))],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)] = "",
) -> None:
    """Create an officer or operator account."""
    with unit_of_work() as session:
        identity.create_staff(session, username, name or username, role, password, now=utcnow())
    typer.echo(f"created {username} ({role})")


@registrations_app.command("purge")
def registrations_purge() -> None:
    """Delete registrations not activated in time, with their pending personal data."""
    with unit_of_work() as session:
        count = identity.purge_expired_registrations(session, now=utcnow())
    typer.echo(f"purged {count} expired registration(s)")
