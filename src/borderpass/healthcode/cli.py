"""The health code's commands: the ``code``, ``trust-list`` and ``keys`` groups and
``verify`` (the offline verifier, a command of its own at the top)."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from borderpass.healthcode import service as healthcode
from borderpass.healthcode.anchors import AnchorBook, AnchorBookUnreadable
from borderpass.healthcode.anycode import Trust, from_verdict, verify_any
from borderpass.healthcode.lists import Federation, ListError, TrustStore
from borderpass.healthcode.verifier import CANNOT_VERIFY, Verdict
from borderpass.healthcode.verifier import verify as check
from borderpass.kit.cli import fail
from borderpass.kit.clock import hk_isoformat, parse_instant, utcnow
from borderpass.kit.config import get_settings
from borderpass.kit.db import unit_of_work
from borderpass.kit.decoding import DecodeError, load_json
from borderpass.worldcodes import detect
from borderpass.worldcodes.trust import DccTrust, ShcIssuers, TrustMaterialError

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
    chunk_size: Annotated[int, typer.Option(min=1, max=1_000_000, help=(
        "People per chunk (a range of person ids that one worker takes)"))] = 5_000,
    processes: Annotated[int, typer.Option(min=0, max=64, help=(
        "Local worker processes taking chunks (0: one per core)"))] = 0,
    workers: Annotated[int | None, typer.Option(min=0, max=64, hidden=True,
                                                help="The same as --processes")] = None,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help=(
        "People read and written per transaction within a chunk"))] = 2_000,
    queue: Annotated[bool, typer.Option("--queue", help=(
        "Send each chunk as a job for `borderpass worker` on any machine, and wait"))] = False,
    lease_seconds: Annotated[float, typer.Option(min=5, max=3600, help=(
        "How long a worker that stopped beating holds its chunk"))] = 120.0,
) -> None:
    """Re-evaluate every active resident's status now, in chunks that any number of workers
    take; revoke the codes of those now red."""
    from borderpass.healthcode.population_cli import reevaluate_all

    count = workers if workers is not None else processes
    reevaluate_all(chunk_size=chunk_size, processes=count or os.cpu_count() or 1, page=batch,
                   queue=queue, lease_seconds=lease_seconds)


@code_app.command("reevaluate-join")
def code_reevaluate_join(
    run: Annotated[str, typer.Argument(help="The run id `reevaluate-all` printed")],
    processes: Annotated[int, typer.Option(min=0, max=64, help=(
        "Local worker processes taking chunks (0: one per core)"))] = 0,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help=(
        "People read and written per transaction within a chunk"))] = 2_000,
    lease_seconds: Annotated[float, typer.Option(min=5, max=3600, help=(
        "How long a worker that stopped beating holds its chunk"))] = 120.0,
) -> None:
    """Take chunks of a re-evaluation run from this machine until none is left."""
    from borderpass.healthcode.population_cli import reevaluate_join

    reevaluate_join(run, processes=processes or os.cpu_count() or 1, page=batch,
                    lease_seconds=lease_seconds)


def verify(
    texts: Annotated[list[str] | None, typer.Argument(
        help="The text of the QR code: ours (BPHC1:), an EU DCC (HC1:) or a SMART Health "
             "Card (shc:/; several texts are the chunks of one card, in any order)")] = None,
    trust_list: Annotated[Path | None, typer.Option(
        "--trust-list", help="Our codes: the file from `trust-list export`")] = None,
    certificate: Annotated[list[Path] | None, typer.Option(
        "--certificate", help="EU DCC: a document signer certificate (or the CSCA that "
                              "issued it), DER, PEM or base64, or a trust list in the EU "
                              "gateway's JSON; repeatable")] = None,
    trust_dir: Annotated[Path | None, typer.Option(
        "--trust-dir", help="EU DCC: a folder of such certificate files")] = None,
    issuers: Annotated[Path | None, typer.Option(
        "--issuers", help="SMART Health Cards: the folder of trusted issuers "
                          "(<host>/<path>/.well-known/jwks.json and crl/)")] = None,
    image: Annotated[list[Path] | None, typer.Option(
        "--image", help="Read the QR code from a photo; repeatable")] = None,
    at: Annotated[str | None, typer.Option(help="Judge at this ISO-8601 instant")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON")] = False,
    anchor: Annotated[str | None, typer.Option(
        help="The jurisdiction's anchor key id (hex), checked out of band: the list must be "
             "signed by it, and it is remembered")] = None,
    trust_on_first_use: Annotated[bool, typer.Option(
        "--trust-on-first-use",
        help="Accept the anchor of a jurisdiction not seen before, and remember it")] = False,
) -> None:
    """Check a health code offline: ours, an EU DCC or a SMART Health Card; exit 0 only
    when it is valid (and, for ours, green).

    Our trust list must be signed by the anchor remembered for its jurisdiction
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
    scanned = [*(texts or []), *_photo_texts(image or [])]
    if not scanned:
        fail("give the text of the QR code, or a photo of it with --image", 2)
    prefix = get_settings().code_prefix
    if detect(scanned, own_prefix=prefix) != "borderpass":
        _verify_foreign(scanned, certificates=[*(certificate or []),
                                               *([trust_dir] if trust_dir else [])],
                        issuers=issuers, now=now, as_json=as_json)
    if trust_list is None:
        fail("--trust-list is needed to check our codes", 2)
    try:
        # Our lists, and the partner lists when the file holds them (signed by the same
        # anchor): a partner's code is checked with its own jurisdiction's lists.
        lists = Federation.from_bundle(load_json(trust_list.read_bytes()), anchor=anchor)
        verdict = _refused_anchor(lists.own, anchor, trust_on_first_use=trust_on_first_use) or \
            check(scanned[0], lists, now=now, prefix=prefix)
    except OSError:
        verdict = Verdict(CANNOT_VERIFY, "trust_list_unreadable")
    except DecodeError:
        verdict = Verdict(CANNOT_VERIFY, "bad_list")
    except ListError as error:
        verdict = Verdict(CANNOT_VERIFY, error.reason)
    if as_json:
        typer.echo(json.dumps(from_verdict(verdict).as_json(), ensure_ascii=False))
    else:
        holder = verdict.holder or {}
        converted = (f" (converted from a {verdict.original['issuer']} code)"
                     if verdict.original else "")
        until = hk_isoformat(verdict.valid_until) if verdict.valid_until else "-"
        typer.echo(f"{verdict.result}: {verdict.reason or 'ok'}; colour {verdict.colour or '-'}; "
                   f"issuer {verdict.issuer or '-'}{converted}; "
                   f"holder {holder.get('initials', '-')} {holder.get('document', '-')}; "
                   f"valid until {until}")
    raise typer.Exit(0 if verdict.valid and verdict.colour == "green" else 1)


def _photo_texts(images: list[Path]) -> list[str]:
    """Return the text of the QR code in each photo, or stop with the photo that has none."""
    if not images:
        return []
    from borderpass.healthcode.views import PhotoUnreadable, decode_photo

    found = []
    for path in images:
        try:
            found.append(decode_photo(path.read_bytes()))
        except (OSError, PhotoUnreadable):
            fail(f"--image {path}: no QR code can be read from it", 2)
    return found


def _verify_foreign(texts: list[str], *, certificates: list[Path], issuers: Path | None,
                    now: datetime, as_json: bool) -> NoReturn:
    """Check an EU DCC or a SMART Health Card, print the result and exit (0 when valid)."""
    try:
        trust = Trust(dcc=DccTrust.load(certificates) if certificates else DccTrust(),
                      shc=ShcIssuers.load(issuers) if issuers else ShcIssuers(),
                      prefix=get_settings().code_prefix)
    except TrustMaterialError as error:
        fail(f"the trust material cannot be used: {error}", 2)
    for note in (*trust.dcc.refused, *trust.shc.refused):
        typer.echo(f"warning: {note}", err=True)
    result = verify_any(texts, trust, at=now)
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        marks = " ".join(f"{name}{'' if ok else ('-' if ok is None else '!')}"
                         for name, ok in result.steps.items() if ok is not True) or "all"
        typer.echo(f"{result.result}: {result.reason or 'ok'}; format {result.format}; "
                   f"issuer {result.issuer or '-'}; subject {result.subject or '-'}; "
                   f"steps not passed: {marks}")
        for entry in result.summary.entries if result.summary else ():
            typer.echo("  " + "; ".join(f"{name} {value}" for name, value in entry.as_json()
                                        .items() if name != "codes"))
    raise typer.Exit(0 if result.valid else 1)


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
