"""The rules' command group: ``rules`` (load and list rule sets)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from borderpass.kit.cli import fail
from borderpass.kit.clock import hk_isoformat, utcnow
from borderpass.kit.db import unit_of_work
from borderpass.rules import service as rules
from borderpass.rules.ruleset import default_document

__all__ = ["rules_app"]

rules_app = typer.Typer(help="Rule sets.", no_args_is_help=True)


@rules_app.command("load")
def rules_load(
    file: Annotated[Path | None, typer.Argument(help="Rule-set JSON (default: the packaged "
                                                     "Hong Kong rule set)")] = None,
    activate: Annotated[bool, typer.Option(help="Put it in force at once")] = True,
) -> None:
    """Validate a rule set and keep it as a new version, in force unless --no-activate."""
    if file is not None and not file.is_file():
        fail(f"no such file: {file}", 2)
    content = file.read_bytes() if file is not None else default_document()
    with unit_of_work() as session:
        row = rules.load(session, content, officer=None, now=utcnow(), activate_now=activate)
        said = f"loaded {row.identifier} {row.version} ({'active' if row.active else 'inactive'})"
    typer.echo(said)


@rules_app.command("list")
def rules_list() -> None:
    """List every version of every rule set."""
    with unit_of_work() as session:
        for item in rules.list_rule_sets(session):
            typer.echo(f"{item.id} {item.identifier} {item.version} "
                       f"{'active' if item.active else '-'} loaded {hk_isoformat(item.loaded_at)}")
