"""The ``borderpass`` command. It calls the same services as the API.

Exit codes: 0 success, 1 the input or the request was refused (the reason is printed),
2 usage error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
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
from borderpass.wiring import wire

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
registrations_app = typer.Typer(help="Registrations in progress.", no_args_is_help=True)
code_app = typer.Typer(help="Health codes.", no_args_is_help=True)
rules_app = typer.Typer(help="Rule sets.", no_args_is_help=True)
trust_app = typer.Typer(help="The trust list and the revocation list.", no_args_is_help=True)
keys_app = typer.Typer(help="Signing keys.", no_args_is_help=True)
permits_app = typer.Typer(help="Endorsement applications: offices, slots, appointments, "
                          "decisions.", no_args_is_help=True)
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
app.add_typer(registrations_app, name="registrations")
card_app = typer.Typer(help="Smart identity cards (signed chip content).", no_args_is_help=True)
gates_app = typer.Typer(help="e-Channel gates.", no_args_is_help=True)
app.add_typer(card_app, name="card")
app.add_typer(gates_app, name="gates")
app.add_typer(code_app, name="code")
app.add_typer(rules_app, name="rules")
app.add_typer(trust_app, name="trust-list")
app.add_typer(keys_app, name="keys")
app.add_typer(permits_app, name="permits")
app.add_typer(venue_app, name="venue")
app.add_typer(checkin_app, name="checkin")
app.add_typer(phone_app, name="phone")

log = get_logger("borderpass.cli")
T = TypeVar("T")


@app.callback()
def _setup() -> None:
    wire()
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
    from borderpass.kit import outbox

    with scope() as session:
        sent = outbox.deliver(session, outbox.configured_sender(), now=utcnow(), limit=limit)
    typer.echo(f"delivered {sent} message(s)")


@registrations_app.command("purge")
def registrations_purge() -> None:
    """Delete registrations not activated in time, with their pending personal data."""
    with scope() as session:
        count = identity.purge_expired_registrations(session, now=utcnow())
    typer.echo(f"purged {count} expired registration(s)")


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
    from datetime import date

    from borderpass.echannel import service as echannel

    if not photo.is_file():
        fail(f"no such file: {photo}", 2)
    try:
        born_on, issued_on = date.fromisoformat(born), date.fromisoformat(issued)
    except ValueError:
        fail("--born and --issued must be dates as YYYY-MM-DD", 2)
        return
    try:
        card = echannel.make_demo_card(photo=photo.read_bytes(), number=number, name_en=name_en,
                                       name_zh=name_zh, born_on=born_on, issued_on=issued_on)
    except BorderpassError as error:
        fail(f"{error.code}: {error.render('en')}")
        return
    out.write_bytes(card)
    typer.echo(f"card for {documents.normalise('hkid', number)} written to {out} "
               f"({len(card)} bytes)")


@card_app.command("verify")
def card_verify(
    file: Annotated[Path, typer.Argument(help="A card's chip content")],
) -> None:
    """Check a card by passive authentication and print what it holds (not the photo)."""
    from borderpass.echannel import service as echannel

    if not file.is_file():
        fail(f"no such file: {file}", 2)
    try:
        card = echannel.read_card(file.read_bytes())
    except BorderpassError as error:
        fail(f"{error.code}: {error.render('en')}")
        return
    typer.echo(json.dumps({"number": card.number, "name_en": card.name_en,
                           "name_zh": card.name_zh, "born": card.born_on.isoformat(),
                           "issued": card.issued_on.isoformat(), "photo_bytes": len(card.photo),
                           "authority": card.authority.hex()}, ensure_ascii=False))


@gates_app.command("purge")
def gates_purge() -> None:
    """Forget used gate-1 nonces that can no longer be replayed (run every few minutes)."""
    from borderpass.echannel import service as echannel

    with scope() as session:
        count = echannel.purge_used_tokens(session, now=utcnow())
    typer.echo(f"purged {count} used token(s)")


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
    from borderpass.echannel.simulation import plot_queue, simulate

    result = simulate(gates=gates, arrivals_per_hour=arrivals, hours=hours,
                      service_seconds=service, service_spread=spread, seed=seed)
    typer.echo(result.summary())
    if plot is not None:
        try:
            typer.echo(f"plot written to {plot_queue(result, plot)}")
        except RuntimeError as error:
            fail(str(error))
@code_app.command("issue")
def code_issue(
    kind: Annotated[str, typer.Argument(help="hkid, hrp, macau or mainland")],
    number: Annotated[str, typer.Argument(help="The document number as written")],
) -> None:
    """Print today's health code text for a registered person."""
    from borderpass.healthcode import service as healthcode

    with scope() as session:
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
    import os
    import time

    from borderpass.healthcode import service as healthcode

    started = time.perf_counter()
    with scope() as session:
        counts = healthcode.reevaluate_all(session, now=utcnow(), batch=batch,
                                           workers=workers or os.cpu_count() or 1)
    elapsed = time.perf_counter() - started
    people = sum(counts.values())
    typer.echo(f"{people:,} people re-evaluated in {elapsed:,.1f} s "
               f"({people / elapsed if elapsed > 0 else 0:,.0f} people/s): "
               f"{counts['green']:,} green, {counts['amber']:,} amber, {counts['red']:,} red")


@app.command()
def verify(
    text: Annotated[str, typer.Argument(help="The text of the QR code")],
    trust_list: Annotated[Path, typer.Option("--trust-list", help="File from `trust-list export`")],
    at: Annotated[str | None, typer.Option(help="Judge at this ISO-8601 instant")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON")] = False,
    anchor: Annotated[str | None, typer.Option(help="Pinned anchor key id (hex)")] = None,
) -> None:
    """Check a health code offline; exit 0 only when it is valid and green."""
    from borderpass.healthcode.lists import ListError, TrustStore
    from borderpass.healthcode.verifier import CANNOT_VERIFY, Verdict
    from borderpass.healthcode.verifier import verify as check
    from borderpass.kit.clock import parse_instant

    try:
        now = parse_instant(at) if at else utcnow()
    except ValueError:
        fail(f"--at is not an ISO-8601 instant: {at!r}", 2)
        return
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
    from borderpass.healthcode import service as healthcode

    with scope() as session:
        bundle = healthcode.export(session, now=utcnow())
    file.write_text(json.dumps(bundle, indent=2) + "\n")
    typer.echo(f"wrote {file}")


@rules_app.command("load")
def rules_load(
    file: Annotated[Path | None, typer.Argument(help="Rule-set JSON (default: the packaged "
                                                     "Hong Kong rule set)")] = None,
    activate: Annotated[bool, typer.Option(help="Put it in force at once")] = True,
) -> None:
    """Validate a rule set and keep it as a new version, in force unless --no-activate."""
    from borderpass.rules import service as rules
    from borderpass.rules.ruleset import default_document

    if file is not None and not file.is_file():
        fail(f"no such file: {file}", 2)
    content = file.read_bytes() if file is not None else default_document()
    with scope() as session:
        row = rules.load(session, content, officer=None, now=utcnow(), activate_now=activate)
        said = f"loaded {row.identifier} {row.version} ({'active' if row.active else 'inactive'})"
    typer.echo(said)


@rules_app.command("list")
def rules_list() -> None:
    """List every version of every rule set."""
    from borderpass.rules import service as rules

    with scope() as session:
        for item in rules.list_rule_sets(session):
            typer.echo(f"{item.id} {item.identifier} {item.version} "
                       f"{'active' if item.active else '-'} loaded {item.loaded_at.isoformat()}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a new code-signing key current; codes under the old one stay valid until they expire."""
    from borderpass.healthcode import service as healthcode

    typer.echo(healthcode.rotate_key(now=utcnow()))
def _hk_day(day: str | None) -> date:
    from borderpass.kit.clock import hk_date

    if not day:
        return hk_date(utcnow())
    try:
        return date.fromisoformat(day)
    except ValueError:
        fail(f"--day: not a date (YYYY-MM-DD): {day}", 2)
        raise  # pragma: no cover - fail exits


@permits_app.command("office")
def permits_office(
    code: Annotated[str, typer.Argument(help="Short code, e.g. SZ-FUTIAN")],
    name: Annotated[str, typer.Option(help="The office's name")],
    address: Annotated[str, typer.Option(help="The office's address")],
) -> None:
    """Open an exit-entry office for appointments."""
    from borderpass.permits import service as permits
    from borderpass.permits.schemas import OfficeIn

    with scope() as session:
        try:
            data = OfficeIn(code=code, name=name, address=address)
        except ValueError as error:
            fail(f"invalid office: {error}", 2)
            return
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
    from borderpass.permits import service as permits
    from borderpass.permits.schemas import SlotsIn

    try:
        data = SlotsIn(day=_hk_day(day), opens=opens, closes=closes, minutes=minutes,
                       capacity=capacity)
    except ValueError as error:
        fail(f"invalid slots: {error}", 2)
        return
    with scope() as session:
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
    from borderpass.permits import service as permits

    with scope() as session:
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
    from borderpass.permits import service as permits

    with scope() as session:
        rows = permits.decisions_on(session, _hk_day(day), office)
    for row in rows:
        typer.echo(json.dumps(row, ensure_ascii=False))


@permits_app.command("remind")
def permits_remind() -> None:
    """Queue tomorrow's appointment reminders (run daily; each goes out once)."""
    from borderpass.permits import service as permits

    with scope() as session:
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
    import uuid

    from borderpass.permits import service as permits
    from borderpass.permits.letter import render_letter

    try:
        application_id = uuid.UUID(application)
    except ValueError:
        fail(f"not an application id: {application}", 2)
        return
    if locale not in (None, "zh_Hant", "zh_Hans", "en"):
        fail("--locale: use zh_Hant, zh_Hans or en", 2)
    with scope() as session:
        caller = identity.staff_principal(session, officer)
        data = permits.letter_data(session, application_id, caller=caller, locale=locale)
    output.write_bytes(render_letter(data))
    typer.echo(f"decision letter for {data.reference} written to {output}")
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


