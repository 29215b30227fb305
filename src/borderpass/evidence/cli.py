"""Evidence's command groups: ``ingest`` (batches from files) and ``sources``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from borderpass.evidence import service as evidence
from borderpass.kit.cli import fail
from borderpass.kit.clock import utcnow
from borderpass.kit.db import unit_of_work

__all__ = ["ingest_app", "sources_app"]

ingest_app = typer.Typer(help="Evidence batches from files.", no_args_is_help=True)
sources_app = typer.Typer(help="Laboratories and registries that send evidence.",
                          no_args_is_help=True)


def _ingest(kind: str, file: Path, source: str) -> None:
    if not file.is_file():
        fail(f"no such file: {file}", 2)
    media = "json" if file.suffix.lower() == ".json" else "csv"
    content = file.read_bytes()
    with unit_of_work() as session:
        found = evidence.find_source(session, source)
        if found is None:
            fail(f"unknown source {source!r}: add it with `borderpass sources add`", 2)
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
    with unit_of_work() as session:
        _source, key = evidence.create_source(session, name, kind, now=utcnow())
    typer.echo(key)
