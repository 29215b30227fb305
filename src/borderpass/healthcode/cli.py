"""The health code's commands: the ``code``, ``trust-list`` and ``keys`` groups and
``verify`` (the offline verifier, a command of its own at the top)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer

from borderpass.healthcode import service as healthcode
from borderpass.healthcode.lists import ListError, TrustStore
from borderpass.healthcode.verifier import CANNOT_VERIFY, Verdict
from borderpass.healthcode.verifier import verify as check
from borderpass.kit.cli import fail
from borderpass.kit.clock import parse_instant, utcnow
from borderpass.kit.config import get_settings
from borderpass.kit.db import unit_of_work

__all__ = ["code_app", "keys_app", "trust_app", "verify"]

code_app = typer.Typer(help="Health codes.", no_args_is_help=True)
trust_app = typer.Typer(help="The trust list and the revocation list.", no_args_is_help=True)
keys_app = typer.Typer(help="Signing keys.", no_args_is_help=True)


@code_app.command("issue")
def code_issue(
    kind: Annotated[str, typer.Argument(help="hkid, hrp, macau or mainland")],
    number: Annotated[str, typer.Argument(help="The document number as written")],
) -> None:
    """Print today's health code text for a registered person."""
    with unit_of_work() as session:
        issued = healthcode.issue_for_document(session, kind, number, now=utcnow())
    typer.echo(issued.text)


@code_app.command("reevaluate-all")
def code_reevaluate_all(
    batch: Annotated[int, typer.Option(min=1, max=100_000,
                                       help="People read and written per batch")] = 2_000,
    workers: Annotated[int, typer.Option(min=0, max=64, help=(
        "Processes reading and evaluating beside the writer (0: one per core)"))] = 0,
) -> None:
    """Re-evaluate every active resident's status now; revoke the codes of those now red."""
    started = time.perf_counter()
    with unit_of_work() as session:
        counts = healthcode.reevaluate_all(session, now=utcnow(), batch=batch,
                                           workers=workers or os.cpu_count() or 1)
    elapsed = time.perf_counter() - started
    people = sum(counts.values())
    typer.echo(f"{people:,} people re-evaluated in {elapsed:,.1f} s "
               f"({people / elapsed if elapsed > 0 else 0:,.0f} people/s): "
               f"{counts['green']:,} green, {counts['amber']:,} amber, {counts['red']:,} red")


def verify(
    text: Annotated[str, typer.Argument(help="The text of the QR code")],
    trust_list: Annotated[Path, typer.Option("--trust-list", help="File from `trust-list export`")],
    at: Annotated[str | None, typer.Option(help="Judge at this ISO-8601 instant")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON")] = False,
    anchor: Annotated[str | None, typer.Option(help="Pinned anchor key id (hex)")] = None,
) -> None:
    """Check a health code offline; exit 0 only when it is valid and green."""
    try:
        now = parse_instant(at) if at else utcnow()
    except ValueError:
        fail(f"--at is not an ISO-8601 instant: {at!r}", 2)
    try:
        store = TrustStore.from_bundle(json.loads(trust_list.read_bytes()), anchor=anchor)
        verdict = check(text, store, now=now, prefix=get_settings().code_prefix)
    except OSError:
        verdict = Verdict(CANNOT_VERIFY, "trust_list_unreadable")
    except (ValueError, ListError) as error:
        verdict = Verdict(CANNOT_VERIFY, getattr(error, "reason", "bad_list"))
    if as_json:
        typer.echo(json.dumps(verdict.as_json(), ensure_ascii=False))
    else:
        holder = verdict.holder or {}
        typer.echo(f"{verdict.result}: {verdict.reason or 'ok'}; colour {verdict.colour or '-'}; "
                   f"holder {holder.get('initials', '-')} {holder.get('document', '-')}; "
                   f"valid until {verdict.valid_until.isoformat() if verdict.valid_until else '-'}")
    raise typer.Exit(0 if verdict.valid and verdict.colour == "green" else 1)


@trust_app.command("export")
def trust_list_export(
    file: Annotated[Path, typer.Argument(help="Where to write the trust list and revocations")],
) -> None:
    """Write the signed trust list and revocation list to a file for offline verifiers."""
    with unit_of_work() as session:
        bundle = healthcode.export(session, now=utcnow())
    file.write_text(json.dumps(bundle, indent=2) + "\n")
    typer.echo(f"wrote {file}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a new code-signing key current; codes under the old one stay valid until they expire."""
    typer.echo(healthcode.rotate_key(now=utcnow()))
