"""The ``borderpass`` command. It calls the same services as the API.

Exit codes: 0 success, 1 the input or the request was refused (the reason is printed),
2 usage error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from borderpass.evidence import service as evidence
from borderpass.identity import documents
from borderpass.identity import service as identity
from borderpass.kit.clock import utcnow
from borderpass.kit.config import get_settings
from borderpass.kit.db import session_factory, unit_of_work
from borderpass.kit.errors import BorderpassError
from borderpass.kit.logging import configure_logging, get_logger

__all__ = ["app"]

app = typer.Typer(help="borderpass: crossing a border during an epidemic.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
ids_app = typer.Typer(help="Document numbers.", no_args_is_help=True)
ingest_app = typer.Typer(help="Evidence batches from files.", no_args_is_help=True)
sources_app = typer.Typer(help="Laboratories and registries that send evidence.",
                          no_args_is_help=True)
staff_app = typer.Typer(help="Officers and operators.", no_args_is_help=True)
outbox_app = typer.Typer(help="Messages to residents.", no_args_is_help=True)
venue_app = typer.Typer(help="Venue QR codes and posters.", no_args_is_help=True)
checkin_app = typer.Typer(help="The exposure list and uploaded check-ins.", no_args_is_help=True)
phone_app = typer.Typer(help="A phone's own check-in store (records stay in the file).",
                        no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ids_app, name="ids")
app.add_typer(ingest_app, name="ingest")
app.add_typer(sources_app, name="sources")
app.add_typer(staff_app, name="staff")
app.add_typer(outbox_app, name="outbox")
app.add_typer(venue_app, name="venue")
app.add_typer(checkin_app, name="checkin")
app.add_typer(phone_app, name="phone")

log = get_logger("borderpass.cli")
T = TypeVar("T")


@app.callback()
def _setup() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_file, json=settings.log_json,
                      stderr_level="WARNING")
    if settings.generated_secrets:
        log.info("secrets.embedded", path=str(settings.var_dir / "secrets.json"),
                 secrets=list(settings.generated_secrets),
                 note="generated once for the embedded default; set BORDERPASS_* in production")


def fail(message: str, code: int = 1) -> None:
    """Print a reason to standard error and exit with ``code``."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


@contextmanager
def scope() -> Iterator[Session]:
    """One unit of work; a platform error becomes its message and exit code 1."""
    try:
        with unit_of_work(session_factory()) as session:
            yield session
    except BorderpassError as error:
        details = ""
        if isinstance(error.details, list):
            details = "".join(
                f"\n  line {item.get('line', '?')}: {item.get('field') or '-'}: "
                f"{item.get('reason') or item.get('problem')}"
                for item in error.details if isinstance(item, dict)
            )
        fail(f"{error.code}: {error.render('en')}{details}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
) -> None:
    """Serve the web site and the API."""
    import uvicorn

    from borderpass.web.app import create_app

    typer.echo(f"borderpass on http://{host}:{port}/  (API documentation at /docs)")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply the migrations to the configured database."""
    from borderpass.migrations import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def demo() -> None:
    """Load the demo residents, officers, laboratory and registry (once)."""
    from borderpass.demo import load

    with scope() as session:
        for line in load(session, now=utcnow()):
            typer.echo(line)


@ids_app.command("check")
def ids_check(
    kind: Annotated[str, typer.Argument(help="hkid, hrp, macau or mainland")],
    number: Annotated[str, typer.Argument(help="The number as written")],
) -> None:
    """Check a document number: print its normal form, or why it is not valid."""
    from borderpass.kit.clock import hk_date

    try:
        typer.echo(documents.normalise(kind, number, today=hk_date(utcnow())))
    except documents.InvalidDocumentNumber as error:
        fail(f"invalid ({error.reason}): {error.render('en')}")


def _ingest(kind: str, file: Path, source: str) -> None:
    if not file.is_file():
        fail(f"no such file: {file}", 2)
    media = "json" if file.suffix.lower() == ".json" else "csv"
    content = file.read_bytes()
    with scope() as session:
        found = evidence.find_source(session, source)
        if found is None:
            fail(f"unknown source {source!r}: add it with `borderpass sources add`", 2)
            return
        if evidence.SOURCE_KINDS[found.kind] != kind:
            fail(f"source {source!r} is a {found.kind} and cannot send {kind}", 2)
        total = content.count(b"\n") if media == "csv" else None
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                      TextColumn("{task.completed:,} rows"), TimeElapsedColumn(),
                      transient=not sys.stderr.isatty(), console=None) as bar:
            task = bar.add_task(f"ingesting {kind}", total=total)
            report = evidence.ingest(
                session, found.id, kind, content, media, now=utcnow(),
                progress=lambda rows: bar.update(task, completed=rows),
            )
    typer.echo(json.dumps({"batch": str(report.batch_id), "rows": report.rows,
                           "inserted": report.inserted, "duplicates": report.duplicates}))


@ingest_app.command("tests")
def ingest_tests(
    file: Annotated[Path, typer.Argument(help="CSV or JSON file of test results")],
    source: Annotated[str, typer.Option(help="The laboratory sending them")] = "Demo Laboratory",
) -> None:
    """Ingest test results from a file, atomically."""
    _ingest("tests", file, source)


@ingest_app.command("vaccinations")
def ingest_vaccinations(
    file: Annotated[Path, typer.Argument(help="CSV or JSON file of vaccination records")],
    source: Annotated[
        str, typer.Option(help="The registry sending them")
    ] = "Demo Vaccine Registry",
) -> None:
    """Ingest vaccination records from a file, atomically."""
    _ingest("vaccinations", file, source)


@sources_app.command("add")
def sources_add(
    name: Annotated[str, typer.Argument(help="The source's name")],
    kind: Annotated[str, typer.Option(help="lab or registry")] = "lab",
) -> None:
    """Authorise a laboratory or registry and print its API key (shown once)."""
    with scope() as session:
        _source, key = evidence.create_source(session, name, kind, now=utcnow())
    typer.echo(key)


@outbox_app.command("deliver")
def outbox_deliver(
    limit: Annotated[int, typer.Option(help="At most this many messages")] = 500,
) -> None:
    """Hand queued SMS and letters to the configured sender."""
    from borderpass.identity import outbox

    with scope() as session:
        sent = outbox.deliver(session, outbox.configured_sender(), now=utcnow(), limit=limit)
    typer.echo(f"delivered {sent} message(s)")


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help=", ".join(identity.STAFF_ROLES))],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)] = "",
) -> None:
    """Create an officer or operator account."""
    with scope() as session:
        identity.create_staff(session, username, name or username, role, password, now=utcnow())
    typer.echo(f"created {username} ({role})")


@venue_app.command("parse")
def venue_parse(
    qrtext: Annotated[str, typer.Argument(help="The text of a venue QR code")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Decode a venue QR code (legacy HKEN: or signed BPV1:); exit 1 with the reason if bad."""
    from borderpass.checkin import service as checkin

    try:
        venue = checkin.parse_code(qrtext)
    except BorderpassError as error:
        fail(f"{error.code}: {error.render('en')}")
        return
    data = venue.as_json()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
    else:
        for key, value in data.items():
            typer.echo(f"{key}: {value}")


def _cli_officer() -> Any:
    from uuid import UUID

    from borderpass.identity.schemas import Principal

    # The command line is run by the platform's operators: it acts as a health officer.
    return Principal(kind="staff", id=UUID(int=0), role="health_officer")


@venue_app.command("poster")
def venue_poster(
    code: Annotated[str, typer.Argument(help="The venue's code")],
    out: Annotated[Path, typer.Option(help="Where to write the PDF")],
) -> None:
    """Write a venue's printable A4 poster (PDF)."""
    from borderpass.checkin import service as checkin

    with scope() as session:
        pdf = checkin.venue_poster(session, code, caller=_cli_officer())
    out.write_bytes(pdf)
    typer.echo(f"poster written to {out}")


@checkin_app.command("publish")
def checkin_publish(
    out: Annotated[Path | None, typer.Option(help="Write the list here, not to stdout")] = None,
) -> None:
    """Print (or write) the current signed exposure list."""
    from borderpass.checkin import service as checkin

    with scope() as session:
        text = checkin.exposure_list(session, now=utcnow())
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="ascii")
        typer.echo(f"exposure list written to {out}")


@checkin_app.command("purge")
def checkin_purge() -> None:
    """Delete uploaded check-ins older than 31 days."""
    from borderpass.checkin import service as checkin

    with scope() as session:
        count = checkin.purge_uploads(session, now=utcnow())
    typer.echo(f"deleted {count} uploaded visit(s)")


class _PhoneState:
    store: Path
    now: Any


_phone_state = _PhoneState()


@phone_app.callback()
def _phone(
    store: Annotated[Path, typer.Option(envvar="BORDERPASS_PHONE_STORE",
                                        help="The phone's SQLite store file")],
    now: Annotated[str | None, typer.Option(hidden=True, help="Pretend it is this instant")]
    = None,
) -> None:
    from borderpass.kit.clock import parse_instant

    _phone_state.store = store
    try:
        _phone_state.now = parse_instant(now) if now else utcnow()
    except ValueError:
        fail(f"--now: not an ISO-8601 instant: {now}", 2)


@contextmanager
def _phone_scope() -> Iterator[Any]:
    from borderpass.checkin import service as checkin
    from borderpass.checkin.phone import Phone

    try:
        yield Phone(_phone_state.store, trust=checkin.venue_trust(), now=_phone_state.now)
    except BorderpassError as error:
        fail(f"{error.code}: {error.render('en')}")


def _show(checkin: Any) -> str:
    state = "active until" if checkin.active else "left"
    return (f"{checkin.id}  {checkin.name_en} / {checkin.name_zh}  "
            f"{checkin.started_at.isoformat()}  {state} {checkin.ended_at.isoformat()}")


@phone_app.command("checkin")
def phone_checkin(
    qrtext: Annotated[str | None, typer.Argument(help="The scanned QR text")] = None,
    photo: Annotated[Path | None, typer.Option(help="A photo of the QR code")] = None,
    taxi: Annotated[str | None, typer.Option(help="A taxi's registration plate")] = None,
    bookmark: Annotated[str | None, typer.Option(help="A bookmarked venue id")] = None,
    leave_after: Annotated[float, typer.Option(help="Leave by itself after these hours")] = 4.0,
) -> None:
    """Check in (the previous check-in, if open, ends now)."""
    from datetime import timedelta

    given = [v for v in (qrtext, photo, taxi, bookmark) if v is not None]
    if len(given) != 1:
        fail("give one of QRTEXT, --photo, --taxi or --bookmark", 2)
    after = timedelta(hours=leave_after)
    now = _phone_state.now
    with _phone_scope() as phone:
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
    with _phone_scope() as phone:
        done = phone.check_out(now=_phone_state.now)
    typer.echo(_show(done) if done else "no active check-in")


@phone_app.command("list")
def phone_list() -> None:
    """List the check-ins kept on the phone."""
    with _phone_scope() as phone:
        for checkin in phone.records(now=_phone_state.now):
            typer.echo(_show(checkin))


@phone_app.command("bookmark")
def phone_bookmark(qrtext: Annotated[str, typer.Argument(help="The venue's QR text")]) -> None:
    """Bookmark a venue to check in there again without scanning."""
    with _phone_scope() as phone:
        venue = phone.bookmark(qrtext, now=_phone_state.now)
    typer.echo(f"bookmarked {venue.venue_id} {venue.name_en}")


@phone_app.command("bookmarks")
def phone_bookmarks() -> None:
    """List bookmarked venues."""
    with _phone_scope() as phone:
        for item in phone.bookmarks():
            typer.echo(f"{item['venue_id']}  {item['name_en']} / {item['name_zh']}")


@phone_app.command("export")
def phone_export(
    out: Annotated[Path | None, typer.Option(help="Write here, not to stdout")] = None,
) -> None:
    """Export the phone's records as JSON (a copy for the resident)."""
    with _phone_scope() as phone:
        text = json.dumps(phone.export(now=_phone_state.now), ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")


@phone_app.command("purge")
def phone_purge() -> None:
    """Delete check-ins older than 31 days."""
    with _phone_scope() as phone:
        count = phone.purge(now=_phone_state.now)
    typer.echo(f"deleted {count} check-in(s)")


@phone_app.command("match")
def phone_match(
    list_file: Annotated[Path, typer.Option("--list", help="A downloaded exposure list")],
    locale: Annotated[str, typer.Option(help="en, zh_Hant or zh_Hans")] = "en",
) -> None:
    """Match the phone's check-ins against an exposure list, on the phone."""
    if not list_file.is_file():
        fail(f"no such file: {list_file}", 2)
    with _phone_scope() as phone:
        found = phone.warnings(list_file.read_text(encoding="ascii"), now=_phone_state.now)
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
    with _phone_scope() as phone:
        answer = phone.upload(server, token, consent=True, now=_phone_state.now)
    typer.echo(json.dumps(answer))


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (for ``python -m borderpass``)."""
    return app(argv)


