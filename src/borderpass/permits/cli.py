"""The permits' command group: ``permits`` (offices, slots, appointments, decisions,
reminders and decision letters)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from borderpass.identity import service as identity
from borderpass.kit.cli import fail
from borderpass.kit.clock import hk_date, utcnow
from borderpass.kit.db import unit_of_work
from borderpass.permits import service as permits
from borderpass.permits.schemas import OfficeIn, SlotsIn

__all__ = ["permits_app"]

permits_app = typer.Typer(help="Endorsement applications: offices, slots, appointments, "
                          "decisions.", no_args_is_help=True)


def _hk_day(day: str | None) -> date:
    if not day:
        return hk_date(utcnow())
    try:
        return date.fromisoformat(day)
    except ValueError:
        fail(f"--day: not a date (YYYY-MM-DD): {day}", 2)


@permits_app.command("office")
def permits_office(
    code: Annotated[str, typer.Argument(help="Short code, e.g. SZ-FUTIAN")],
    name: Annotated[str, typer.Option(help="The office's name")],
    address: Annotated[str, typer.Option(help="The office's address")],
) -> None:
    """Open an exit-entry office for appointments."""
    with unit_of_work() as session:
        try:
            data = OfficeIn(code=code, name=name, address=address)
        except ValueError as error:
            fail(f"invalid office: {error}", 2)
        permits.create_office(session, data, now=utcnow())
    typer.echo(f"office {code} opened")


@permits_app.command("slots")
def permits_slots(
    office: Annotated[str, typer.Argument(help="Office code")],
    officer: Annotated[str, typer.Option(help="Your staff user name")],
    day: Annotated[str, typer.Option(help="YYYY-MM-DD (Hong Kong)")],
    opens: Annotated[str, typer.Option(help="HH:MM")] = "09:00",
    closes: Annotated[str, typer.Option(help="HH:MM")] = "17:00",
    minutes: Annotated[int, typer.Option(help="Length of a slot")] = 30,
    capacity: Annotated[int, typer.Option(help="Places in each slot")] = 10,
) -> None:
    """Publish a day's appointment slots with their capacity."""
    try:
        data = SlotsIn(day=_hk_day(day), opens=opens, closes=closes, minutes=minutes,
                       capacity=capacity)
    except ValueError as error:
        fail(f"invalid slots: {error}", 2)
    with unit_of_work() as session:
        caller = identity.staff_principal(session, officer)
        published = permits.publish_slots(session, office, data, officer=caller, now=utcnow())
        typer.echo(f"{len(published)} slots of {capacity} places published at {office} "
                   f"on {data.day.isoformat()}")


@permits_app.command("today")
def permits_today(
    office: Annotated[str, typer.Argument(help="Office code")],
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD; today by default")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line")] = False,
) -> None:
    """List the day's appointments at an office."""
    with unit_of_work() as session:
        rows = permits.appointments_on(session, office, _hk_day(day))
    for row in rows:
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            flag = "  supervisor" if row["needs_supervisor"] else ""
            typer.echo(f"{row['time']}  {row['reference']}  {row['kind']:<9} "
                       f"{row['reason'] or '-':<22} {row['status']:<12} {row['applicant']}{flag}")
    if not rows and not as_json:
        typer.echo("no appointments")


@permits_app.command("decisions")
def permits_decisions(
    office: Annotated[str | None, typer.Option(help="Office code; all offices by default")] = None,
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD; today by default")] = None,
) -> None:
    """List the day's decisions, one JSON object a line."""
    with unit_of_work() as session:
        rows = permits.decisions_on(session, _hk_day(day), office)
    for row in rows:
        typer.echo(json.dumps(row, ensure_ascii=False))


@permits_app.command("remind")
def permits_remind() -> None:
    """Queue tomorrow's appointment reminders (run daily; each goes out once)."""
    with unit_of_work() as session:
        count = permits.queue_reminders(session, now=utcnow())
    typer.echo(f"{count} reminders queued")


@permits_app.command("letter")
def permits_letter(
    application: Annotated[str, typer.Argument(help="Application id")],
    output: Annotated[Path, typer.Argument(help="Where to write the PDF")],
    officer: Annotated[str, typer.Option(help="Your staff user name")],
    locale: Annotated[str | None, typer.Option(help="zh_Hant, zh_Hans or en")] = None,
) -> None:
    """Write an application's decision letter as a PDF."""
    from borderpass.permits.letter import render_letter  # ReportLab: only when asked

    try:
        application_id = uuid.UUID(application)
    except ValueError:
        fail(f"not an application id: {application}", 2)
    if locale not in (None, "zh_Hant", "zh_Hans", "en"):
        fail("--locale: use zh_Hant, zh_Hans or en", 2)
    with unit_of_work() as session:
        caller = identity.staff_principal(session, officer)
        data = permits.letter_data(session, application_id, caller=caller, locale=locale)
    output.write_bytes(render_letter(data))
    typer.echo(f"decision letter for {data.reference} written to {output}")
