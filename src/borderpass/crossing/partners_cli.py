"""The federation's commands: the ``partners`` group, and ``code convert`` (mounted on the
health code's ``code`` group by the root command)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from borderpass.crossing import conversion
from borderpass.crossing import partners as federation
from borderpass.healthcode.lists import iso
from borderpass.kit.cli import fail
from borderpass.kit.clock import parse_instant, utcnow
from borderpass.kit.db import unit_of_work

__all__ = ["code_convert", "partners_app"]

partners_app = typer.Typer(help="Partner jurisdictions whose codes this instance recognises.",
                           no_args_is_help=True)


@partners_app.command("add")
def partners_add(
    jurisdiction: Annotated[str, typer.Argument(help="The partner's jurisdiction, e.g. GD")],
    url: Annotated[str, typer.Argument(help="The partner instance's address, e.g. "
                                            "https://gd.example.org")],
    anchor: Annotated[str, typer.Option(help="The partner's anchor key id, as `borderpass "
                                             "keys anchor` prints it there (pinned)")],
    site: Annotated[str | None, typer.Option(help="The partner's public site, where holders "
                                                  "convert codes (default: the address)")] = None,
    replace: Annotated[bool, typer.Option(help="Change the address or pinned anchor of a "
                                               "partner already added")] = False,
) -> None:
    """Register a partner with its anchor key pinned; `partners sync` then fetches its lists."""
    with unit_of_work() as session:
        added = federation.add_partner(session, jurisdiction, url, anchor, site_url=site,
                                       replace=replace, now=utcnow())
    typer.echo(f"partner {added.jurisdiction} at {added.url}, anchor {added.anchor} pinned")


@partners_app.command("remove")
def partners_remove(
    jurisdiction: Annotated[str, typer.Argument(help="The partner's jurisdiction")],
) -> None:
    """Stop recognising a partner's codes and forget its lists."""
    with unit_of_work() as session:
        federation.remove_partner(session, jurisdiction)
    typer.echo(f"partner {jurisdiction.strip().upper()} removed")


@partners_app.command("list")
def partners_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the partners as JSON")] = False,
) -> None:
    """List the partners, the anchor pinned for each and how their last sync went."""
    with unit_of_work() as session:
        shown = federation.list_partners(session)
    if as_json:
        typer.echo(json.dumps([{
            "jurisdiction": p.jurisdiction, "url": p.url, "site_url": p.site_url,
            "anchor": p.anchor, "last_sync_at": iso(p.last_sync_at) if p.last_sync_at else None,
            "last_result": p.last_result, "last_message": p.last_message,
            "last_success_at": iso(p.last_success_at) if p.last_success_at else None,
            "lists": None if p.lists is None else {
                "keys": p.lists.keys, "trust_list_issued_at": iso(p.lists.trust_issued_at),
                "revocations_issued_at": iso(p.lists.revocations_issued_at),
                "through": p.lists.through, "revoked": p.lists.revoked,
                "rule_set": p.lists.rule_set},
        } for p in shown], indent=2))
        return
    if not shown:
        typer.echo("no partners")
    for p in shown:
        synced = (f"last sync {iso(p.last_sync_at)}: {p.last_result}"
                  + (f" ({p.last_message})" if p.last_message else "")
                  if p.last_sync_at else "never synced")
        held = (f"; {p.lists.keys} key(s), {p.lists.revoked} revoked, revocations through "
                f"{p.lists.through}, rule set {p.lists.rule_set or '-'}"
                if p.lists else "; no lists held")
        typer.echo(f"{p.jurisdiction} {p.url} anchor {p.anchor}: {synced}{held}")


@partners_app.command("sync")
def partners_sync(
    only: Annotated[str | None, typer.Argument(help="Only this partner (default: all)")] = None,
) -> None:
    """Fetch each partner's signed lists and keep those signed by its pinned anchor.

    Run it on a schedule (every few minutes): a partner's revocations reach this
    instance's verifiers at the next sync. Exits 1 when any partner's sync failed.
    """
    results = federation.sync(unit_of_work, now=utcnow(), only=only)
    if not results:
        typer.echo("no partners")
    for result in results:
        if result.ok and result.accepted is not None:
            held = result.accepted
            typer.echo(f"{result.jurisdiction}: ok, {held.keys} key(s), {held.revoked} "
                       f"revoked, revocations through {held.through}, rule set "
                       f"{held.rule_set or '-'}; {held.converted_revoked} converted code(s) "
                       "revoked")
        else:
            typer.echo(f"{result.jurisdiction}: {result.result}: {result.message}", err=True)
    if any(not result.ok for result in results):
        raise typer.Exit(1)


def code_convert(
    text: Annotated[str, typer.Argument(help="The text of a partner's code (its QR code)")],
    at: Annotated[str | None, typer.Option(help="Convert at this ISO-8601 instant")] = None,
) -> None:
    """Convert a partner's green code of today into this jurisdiction's code; print it last.

    Exits 1 with the reason (not_green, expired, unknown_partner, revoked,
    invalid_signature, not_today, own_code, ...) when the code cannot be converted.
    """
    try:
        now = parse_instant(at) if at else utcnow()
    except ValueError:
        fail(f"--at is not an ISO-8601 instant: {at!r}", 2)
    with unit_of_work() as session:
        converted = conversion.convert(session, text, now=now)
    typer.echo(f"converted {converted.original_issuer} code of {converted.initials} "
               f"{converted.document}: {converted.colour}, valid until "
               f"{iso(converted.valid_until)}")
    typer.echo(converted.text)
