"""The e-Channel's command groups: ``card`` (smart ID cards) and ``gates``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from borderpass.echannel import service as echannel
from borderpass.identity import documents
from borderpass.kit.cli import fail
from borderpass.kit.clock import utcnow
from borderpass.kit.db import unit_of_work

__all__ = ["card_app", "gates_app"]

card_app = typer.Typer(help="Smart identity cards (signed chip content).", no_args_is_help=True)
gates_app = typer.Typer(help="e-Channel gates.", no_args_is_help=True)


@card_app.command("make")
def card_make(
    photo: Annotated[Path, typer.Option(help="A JPEG or PNG photo of the holder")],
    number: Annotated[str, typer.Option(help="The HKID number, e.g. A123456(3)")],
    born: Annotated[str, typer.Option(help="Date of birth, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="Where to write the card's chip content")],
    name_en: Annotated[str, typer.Option(help="Name in English")] = "CHAN Tai Man",
    name_zh: Annotated[str, typer.Option(help="Name in Chinese")] = "陳大文",
    issued: Annotated[str, typer.Option(help="Date of issue, YYYY-MM-DD")] = "2020-01-01",
) -> None:
    """Make a demo smart ID card from a real photo, signed by the issuing authority key."""
    if not photo.is_file():
        fail(f"no such file: {photo}", 2)
    try:
        born_on, issued_on = date.fromisoformat(born), date.fromisoformat(issued)
    except ValueError:
        fail("--born and --issued must be dates as YYYY-MM-DD", 2)
    card = echannel.make_demo_card(photo=photo.read_bytes(), number=number, name_en=name_en,
                                   name_zh=name_zh, born_on=born_on, issued_on=issued_on)
    out.write_bytes(card)
    typer.echo(f"card for {documents.normalise('hkid', number)} written to {out} "
               f"({len(card)} bytes)")


@card_app.command("verify")
def card_verify(
    file: Annotated[Path, typer.Argument(help="A card's chip content")],
) -> None:
    """Check a card by passive authentication and print what it holds (not the photo)."""
    if not file.is_file():
        fail(f"no such file: {file}", 2)
    card = echannel.read_card(file.read_bytes())
    typer.echo(json.dumps({"number": card.number, "name_en": card.name_en,
                           "name_zh": card.name_zh, "born": card.born_on.isoformat(),
                           "issued": card.issued_on.isoformat(), "photo_bytes": len(card.photo),
                           "authority": card.authority.hex()}, ensure_ascii=False))


@gates_app.command("purge")
def gates_purge() -> None:
    """Forget used gate-1 nonces that can no longer be replayed (run every few minutes)."""
    with unit_of_work() as session:
        count = echannel.purge_used_tokens(session, now=utcnow())
    typer.echo(f"purged {count} used token(s)")


@gates_app.command("expire-consents")
def gates_expire_consents() -> None:
    """Expire minors' enrolments whose guardian did not approve in time (run daily)."""
    with unit_of_work() as session:
        count = echannel.expire_consents(session, now=utcnow())
    typer.echo(f"expired {count} request(s) for a guardian's consent")


@gates_app.command("simulate")
def gates_simulate(
    gates: Annotated[int, typer.Option(min=1, help="Gates open")] = 30,
    arrivals: Annotated[float, typer.Option(min=1, help="Travellers arriving per hour")] = 12000,
    hours: Annotated[float, typer.Option(min=0.01, help="Hours to simulate")] = 1.0,
    service: Annotated[float, typer.Option(min=0.1, help="Seconds per traveller")] = 7.0,
    spread: Annotated[float, typer.Option(min=0.0, help="Service time's coefficient of "
                                          "variation")] = 0.15,
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
    plot: Annotated[Path | None, typer.Option(help="Write a plot of the queue to this "
                                              "image file")] = None,
) -> None:
    """Simulate a control point's e-Channel (SimPy): throughput, waits, utilisation."""
    from borderpass.echannel.simulation import plot_queue, simulate  # SimPy: only when asked

    result = simulate(gates=gates, arrivals_per_hour=arrivals, hours=hours,
                      service_seconds=service, service_spread=spread, seed=seed)
    typer.echo(result.summary())
    if plot is not None:
        try:
            typer.echo(f"plot written to {plot_queue(result, plot)}")
        except RuntimeError as error:
            fail(str(error))
