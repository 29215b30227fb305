"""Check-in's command groups: ``venue`` (QR codes and posters), ``checkin`` (the exposure
list and uploaded check-ins) and ``phone`` (a phone's own store, records kept in its file)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from borderpass.checkin import service as checkin
from borderpass.checkin.phone import CheckIn, Phone
from borderpass.identity.schemas import Principal
from borderpass.kit.cli import fail
from borderpass.kit.clock import hk_isoformat, parse_instant, utcnow
from borderpass.kit.db import unit_of_work

__all__ = ["checkin_app", "phone_app", "venue_app"]

venue_app = typer.Typer(help="Venue QR codes and posters.", no_args_is_help=True)
checkin_app = typer.Typer(help="The exposure list and uploaded check-ins.", no_args_is_help=True)
phone_app = typer.Typer(help="A phone's own check-in store (records stay in the file).",
                        no_args_is_help=True)


@venue_app.command("parse")
def venue_parse(
    qrtext: Annotated[str, typer.Argument(help="The text of a venue QR code")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Decode a venue QR code (legacy HKEN: or signed BPV1:); exit 1 with the reason if bad."""
    data = checkin.parse_code(qrtext).as_json()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
    else:
        for key, value in data.items():
            typer.echo(f"{key}: {value}")


def _cli_officer() -> Principal:
    # The command line is run by the platform's operators: it acts as a health officer.
    return Principal(kind="staff", id=UUID(int=0), role="health_officer")


@venue_app.command("poster")
def venue_poster(
    code: Annotated[str, typer.Argument(help="The venue's code")],
    out: Annotated[Path, typer.Option(help="Where to write the PDF")],
) -> None:
    """Write a venue's printable A4 poster (PDF)."""
    with unit_of_work() as session:
        pdf = checkin.venue_poster(session, code, caller=_cli_officer())
    out.write_bytes(pdf)
    typer.echo(f"poster written to {out}")


@checkin_app.command("publish")
def checkin_publish(
    out: Annotated[Path | None, typer.Option(help="Write the list here, not to stdout")] = None,
) -> None:
    """Print (or write) the current signed exposure list."""
    with unit_of_work() as session:
        text = checkin.exposure_list(session, now=utcnow())
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="ascii")
        typer.echo(f"exposure list written to {out}")


@checkin_app.command("purge")
def checkin_purge() -> None:
    """Delete uploaded check-ins older than 31 days."""
    with unit_of_work() as session:
        count = checkin.purge_uploads(session, now=utcnow())
    typer.echo(f"deleted {count} uploaded visit(s)")


class _PhoneState:
    store: Path | None
    now: datetime


_phone_state = _PhoneState()


@phone_app.callback()
def _phone_options(
    # Optional here and required by each command, so that `phone COMMAND --help` works.
    store: Annotated[Path | None, typer.Option(envvar="BORDERPASS_PHONE_STORE",
                                               help="The phone's SQLite store file "
                                                    "(required)")] = None,
    now: Annotated[str | None, typer.Option(hidden=True, help="Pretend it is this instant")]
    = None,
) -> None:
    _phone_state.store = store
    try:
        _phone_state.now = parse_instant(now) if now else utcnow()
    except ValueError:
        fail(f"--now: not an ISO-8601 instant: {now}", 2)


def _phone() -> Phone:
    if _phone_state.store is None:
        fail("Missing option '--store' (or BORDERPASS_PHONE_STORE): the phone's store file", 2)
    return Phone(_phone_state.store, trust=checkin.venue_trust(), now=_phone_state.now)


def _show(record: CheckIn) -> str:
    # An active check-in ends by itself at its auto-leave time unless the resident leaves.
    if record.active:
        state = f"active until {hk_isoformat(record.leaves_at)}"
    else:
        state = f"left {hk_isoformat(record.ended_at)}"
    return (f"{record.id}  {record.name_en} / {record.name_zh}  "
            f"{hk_isoformat(record.started_at)}  {state}")


@phone_app.command("checkin")
def phone_checkin(
    qrtext: Annotated[str | None, typer.Argument(help="The scanned QR text")] = None,
    photo: Annotated[Path | None, typer.Option(help="A photo of the QR code")] = None,
    taxi: Annotated[str | None, typer.Option(help="A taxi's registration plate")] = None,
    bookmark: Annotated[str | None, typer.Option(help="A bookmarked venue id")] = None,
    leave_after: Annotated[float, typer.Option(help="Leave by itself after these hours")] = 4.0,
) -> None:
    """Check in (the previous check-in, if open, ends now)."""
    given = [v for v in (qrtext, photo, taxi, bookmark) if v is not None]
    if len(given) != 1:
        fail("give one of QRTEXT, --photo, --taxi or --bookmark", 2)
    after = timedelta(hours=leave_after)
    now = _phone_state.now
    phone = _phone()
    if qrtext is not None:
        done = phone.check_in(qrtext, now=now, leave_after=after)
    elif photo is not None:
        if not photo.is_file():
            fail(f"no such file: {photo}", 2)
        done = phone.check_in_photo(photo, now=now, leave_after=after)
    elif taxi is not None:
        done = phone.check_in_taxi(taxi, now=now, leave_after=after)
    else:
        done = phone.check_in_bookmark(bookmark or "", now=now, leave_after=after)
    typer.echo(_show(done))


@phone_app.command("checkout")
def phone_checkout() -> None:
    """Leave the current venue."""
    done = _phone().check_out(now=_phone_state.now)
    typer.echo(_show(done) if done else "no active check-in")


@phone_app.command("list")
def phone_list() -> None:
    """List the check-ins kept on the phone."""
    for record in _phone().records(now=_phone_state.now):
        typer.echo(_show(record))


@phone_app.command("bookmark")
def phone_bookmark(qrtext: Annotated[str, typer.Argument(help="The venue's QR text")]) -> None:
    """Bookmark a venue to check in there again without scanning."""
    venue = _phone().bookmark(qrtext, now=_phone_state.now)
    typer.echo(f"bookmarked {venue.venue_id} {venue.name_en}")


@phone_app.command("bookmarks")
def phone_bookmarks() -> None:
    """List bookmarked venues."""
    for item in _phone().bookmarks():
        typer.echo(f"{item['venue_id']}  {item['name_en']} / {item['name_zh']}")


@phone_app.command("export")
def phone_export(
    out: Annotated[Path | None, typer.Option(help="Write here, not to stdout")] = None,
) -> None:
    """Export the phone's records as JSON (a copy for the resident)."""
    text = json.dumps(_phone().export(now=_phone_state.now), ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")


@phone_app.command("purge")
def phone_purge() -> None:
    """Delete check-ins older than 31 days."""
    count = _phone().purge(now=_phone_state.now)
    typer.echo(f"deleted {count} check-in(s)")


@phone_app.command("match")
def phone_match(
    list_file: Annotated[Path, typer.Option("--list", help="A downloaded exposure list")],
    locale: Annotated[str, typer.Option(help="en, zh_Hant or zh_Hans")] = "en",
) -> None:
    """Match the phone's check-ins against an exposure list, on the phone."""
    if not list_file.is_file():
        fail(f"no such file: {list_file}", 2)
    # As bytes, so that the list's own line ends are kept and a byte that is not ASCII
    # reaches the parser, which refuses it, rather than failing to decode.
    text = list_file.read_bytes().decode("ascii", "replace")
    found = _phone().warnings(text, now=_phone_state.now)
    if not found:
        typer.echo("no exposure found")
    for warning in found:
        typer.echo(f"{warning.kind}: {warning.message(locale)}")


@phone_app.command("upload")
def phone_upload(
    server: Annotated[str, typer.Option(help="The Health Code server, e.g. http://127.0.0.1:8000")],
    token: Annotated[str, typer.Option(help="The resident's access token")],
    consent: Annotated[bool, typer.Option(
        "--consent", help="I agree to send my last 31 days of check-ins to my account")] = False,
) -> None:
    """Upload the last 31 days of check-ins to the resident's account, with consent."""
    if not consent:
        consent = typer.confirm("Send your last 31 days of check-ins to your Health Code account?")
    if not consent:
        fail("nothing was sent")
    answer = _phone().upload(server, token, consent=True, now=_phone_state.now)
    typer.echo(json.dumps(answer))
