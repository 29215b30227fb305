"""Identity's command groups: ``ids`` (document numbers), ``staff``, ``registrations``,
``accounts`` and ``document-registries`` (issuing registries and their records)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from borderpass.identity import documents
from borderpass.identity import service as identity
from borderpass.kit.cli import fail
from borderpass.kit.clock import hk_date, utcnow
from borderpass.kit.db import unit_of_work

__all__ = [
    "accounts_app", "document_registries_app", "ids_app", "registrations_app", "staff_app",
]

ids_app = typer.Typer(help="Document numbers.", no_args_is_help=True)
staff_app = typer.Typer(help="Officers and operators.", no_args_is_help=True)
registrations_app = typer.Typer(help="Registrations in progress.", no_args_is_help=True)
document_registries_app = typer.Typer(
    help="Authorities that issue identity documents, and their records (a document without "
         "a chip is proven by matching them and a PIN letter).", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts locked after failed sign-ins.", no_args_is_help=True)


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


@accounts_app.command("unlock")
def accounts_unlock(
    kind: Annotated[str | None, typer.Option("--kind", help="A resident's document kind: "
                                             "hkid, hrp, macau or mainland")] = None,
    number: Annotated[str | None, typer.Option("--number",
                                               help="A resident's document number")] = None,
    staff: Annotated[str | None, typer.Option("--staff", help="A staff user name")] = None,
    address: Annotated[str | None, typer.Option("--address",
                                                help="A client address to stop delaying")] = None,
) -> None:
    """Unlock an account locked after failed sign-ins (or end a client address's delay).

    Check the holder's identity before unlocking a resident: the lock stops password
    guessing, and this lets the next guess through.
    """
    with unit_of_work() as session:
        done = identity.unlock(session, kind=kind, number=number, username=staff,
                               address=address, officer=None, now=utcnow())
    state = "unlocked" if done.was_locked else "was not locked"
    typer.echo(f"{done.scope} {done.account} {state}; {done.failures_cleared} failed "
               "sign-in(s) forgotten")


@accounts_app.command("locks")
def accounts_locks() -> None:
    """List the accounts locked after failed sign-ins."""
    with unit_of_work() as session:
        locks = identity.sign_in_locks(session, officer=None)
    for lock in locks:
        typer.echo(f"{lock.scope}\t{lock.account}\t{lock.failures} failures\t"
                   f"locked {lock.locked_at.isoformat(timespec='seconds')}")
    if not locks:
        typer.echo("no account is locked")


@accounts_app.command("purge")
def accounts_purge() -> None:
    """Delete failed sign-ins older than the throttle's window (locks stay)."""
    with unit_of_work() as session:
        count = identity.purge_sign_in_failures(session, now=utcnow())
    typer.echo(f"purged {count} old failed sign-in(s)")


@document_registries_app.command("add")
def document_registries_add(
    name: Annotated[str, typer.Argument(help="The issuing authority's name")],
    kind: Annotated[str, typer.Option(help="The kind of document it issues: hkid, macau or "
                                           "mainland")],
) -> None:
    """Authorise an issuing registry and print its API key (shown once)."""
    with unit_of_work() as session:
        _registry, key = identity.create_registry(session, name, kind, now=utcnow())
    typer.echo(key)


@document_registries_app.command("load")
def document_registries_load(
    file: Annotated[Path, typer.Argument(help="CSV or JSON file of the registry's records")],
    registry: Annotated[str, typer.Option(help="The registry sending them")],
) -> None:
    """Load an issuing registry's records from a file, atomically."""
    if not file.is_file():
        fail(f"no such file: {file}", 2)
    media = "json" if file.suffix.lower() == ".json" else "csv"
    with unit_of_work() as session:
        found = identity.find_registry(session, registry)
        if found is None:
            fail(f"unknown registry {registry!r}: add it with `borderpass document-registries "
                 "add`", 2)
        report = identity.load_registry_records(session, found.id, file.read_bytes(), media,
                                                now=utcnow())
    typer.echo(json.dumps(report.model_dump()))
