"""The health code's commands: the ``code``, ``trust-list`` and ``keys`` groups and
``verify`` (the offline verifier, a command of its own at the top)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Annotated

import typer

from borderpass.healthcode import service as healthcode
from borderpass.healthcode.anchors import AnchorBook, AnchorBookUnreadable
from borderpass.healthcode.lists import Federation, ListError, TrustStore
from borderpass.healthcode.verifier import CANNOT_VERIFY, Verdict
from borderpass.healthcode.verifier import verify as check
from borderpass.kit.cli import fail
from borderpass.kit.clock import parse_instant, utcnow
from borderpass.kit.config import get_settings
from borderpass.kit.db import unit_of_work
from borderpass.kit.decoding import DecodeError, load_json

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
    anchor: Annotated[str | None, typer.Option(
        help="The jurisdiction's anchor key id (hex), checked out of band: the list must be "
             "signed by it, and it is remembered")] = None,
    trust_on_first_use: Annotated[bool, typer.Option(
        "--trust-on-first-use",
        help="Accept the anchor of a jurisdiction not seen before, and remember it")] = False,
) -> None:
    """Check a health code offline; exit 0 only when it is valid and green.

    The trust list must be signed by the anchor remembered for its jurisdiction
    (``var/anchors.json``); a jurisdiction not seen before needs ``--anchor`` or
    ``--trust-on-first-use``, and a changed anchor needs ``--anchor``.
    """
    try:
        now = parse_instant(at) if at else utcnow()
    except ValueError:
        fail(f"--at is not an ISO-8601 instant: {at!r}", 2)
    if anchor is not None:
        anchor = anchor.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{2,64}", anchor):
            fail(f"--anchor is not a key id in hex: {anchor!r}", 2)
    try:
        # Our lists, and the partner lists when the file holds them (signed by the same
        # anchor): a partner's code is checked with its own jurisdiction's lists.
        lists = Federation.from_bundle(load_json(trust_list.read_bytes()), anchor=anchor)
        verdict = _refused_anchor(lists.own, anchor, trust_on_first_use=trust_on_first_use) or \
            check(text, lists, now=now, prefix=get_settings().code_prefix)
    except OSError:
        verdict = Verdict(CANNOT_VERIFY, "trust_list_unreadable")
    except DecodeError:
        verdict = Verdict(CANNOT_VERIFY, "bad_list")
    except ListError as error:
        verdict = Verdict(CANNOT_VERIFY, error.reason)
    if as_json:
        typer.echo(json.dumps(verdict.as_json(), ensure_ascii=False))
    else:
        holder = verdict.holder or {}
        converted = (f" (converted from a {verdict.original['issuer']} code)"
                     if verdict.original else "")
        typer.echo(f"{verdict.result}: {verdict.reason or 'ok'}; colour {verdict.colour or '-'}; "
                   f"issuer {verdict.issuer or '-'}{converted}; "
                   f"holder {holder.get('initials', '-')} {holder.get('document', '-')}; "
                   f"valid until {verdict.valid_until.isoformat() if verdict.valid_until else '-'}")
    raise typer.Exit(0 if verdict.valid and verdict.colour == "green" else 1)


def _refused_anchor(store: TrustStore, given: str | None, *,
                    trust_on_first_use: bool) -> Verdict | None:
    """Check the list's anchor against the one remembered for its jurisdiction.

    Returns a refusal, or None when the anchor is the pinned one (remembering it when it
    was given or is trusted on first use). Warnings go to standard error.
    """
    path = get_settings().var_dir / "anchors.json"
    book = AnchorBook(path)
    jurisdiction, kid = store.jurisdiction, store.anchor
    try:
        seen = book.seen(jurisdiction)
        if given is not None:  # the list is signed by it, or from_bundle refused it
            if seen != kid:
                book.remember(jurisdiction, kid)
            return None
        if seen == kid:
            return None
        if seen is not None:
            typer.echo(f"refused: the trust list of {jurisdiction} is signed by anchor {kid}, "
                       f"but this verifier pinned {seen} for {jurisdiction} ({path}). If "
                       f"{jurisdiction} changed its anchor, check the new one with it and pass "
                       f"--anchor {kid}.", err=True)
            return Verdict(CANNOT_VERIFY, "anchor_changed")
        if not trust_on_first_use:
            typer.echo(f"warning: the trust list of {jurisdiction} is signed by anchor {kid}, "
                       f"which this verifier has not seen before; anyone can sign a list. "
                       f"Refused: check the anchor with {jurisdiction} and pass --anchor {kid}, "
                       "or pass --trust-on-first-use to trust it and remember it.", err=True)
            return Verdict(CANNOT_VERIFY, "unknown_anchor")
        book.remember(jurisdiction, kid)
        typer.echo(f"warning: trusting anchor {kid} for {jurisdiction} on first use; it is "
                   f"remembered in {path} and a list signed by another will be refused.",
                   err=True)
        return None
    except (AnchorBookUnreadable, OSError) as error:
        typer.echo(f"refused: the file of seen anchors cannot be used: {error}", err=True)
        return Verdict(CANNOT_VERIFY, "anchors_unreadable")


@trust_app.command("export")
def trust_list_export(
    file: Annotated[Path, typer.Argument(help="Where to write the trust list and revocations")],
) -> None:
    """Write the signed trust list and revocation list to a file for offline verifiers."""
    with unit_of_work() as session:
        bundle = healthcode.export(session, now=utcnow())
    file.write_text(json.dumps(bundle, indent=2) + "\n")
    kid = bundle["trust_list"]["kid"]
    typer.echo(f"wrote {file}")
    typer.echo(f"signed by anchor {kid}: verifiers pin it with `borderpass verify --anchor {kid}`")


@keys_app.command("anchor")
def keys_anchor() -> None:
    """Print the anchor key id that signs this instance's lists (last line); partners pin it
    with `borderpass partners add JURISDICTION URL --anchor KID`."""
    settings = get_settings()
    typer.echo(f"anchor key of {settings.jurisdiction} (it signs the trust list, the revocation "
               "list and the rule set in force):")
    typer.echo(healthcode.anchor_kid(now=utcnow()))


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a new code-signing key current; codes under the old one stay valid until they expire."""
    typer.echo(healthcode.rotate_key(now=utcnow()))
