"""The crossing's command group: ``cross`` (the decision at a control point, control
points, quotas and the crossing policy)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from borderpass.crossing import service as crossing
from borderpass.crossing.schemas import DecisionIn, QuotaIn
from borderpass.identity import service as identity
from borderpass.kit.cli import fail
from borderpass.kit.clock import hk_date, hk_isoformat, parse_instant, utcnow
from borderpass.kit.db import unit_of_work
from borderpass.kit.i18n import LOCALES

__all__ = ["cross_app"]

cross_app = typer.Typer(help="The crossing: decisions at control points, quotas, the policy.",
                        no_args_is_help=True)
points_app = typer.Typer(help="Control points.", no_args_is_help=True)
quota_app = typer.Typer(help="Quarantine-free places per control point and day.",
                        no_args_is_help=True)
policy_app = typer.Typer(help="The crossing policy: its versions and the one in force.",
                         no_args_is_help=True)
cross_app.add_typer(points_app, name="control-points")
cross_app.add_typer(quota_app, name="quota")
cross_app.add_typer(policy_app, name="policy")


def _language(language: str) -> str:
    if language not in LOCALES:
        fail(f"--language must be one of {', '.join(LOCALES)}", 2)
    return language


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"


@cross_app.command("decide")
def cross_decide(
    control_point: Annotated[str, typer.Option("--control-point",
                                               help="Control point code, e.g. LWU")],
    direction: Annotated[str, typer.Option(help="north or south")],
    document: Annotated[tuple[str, str], typer.Option(
        help="The travel document: KIND NUMBER (kind hkid, hrp, macau or mainland)")],
    code: Annotated[str, typer.Option(help="The text of the health code's QR")],
    endorsement: Annotated[str | None, typer.Option(
        help="The endorsement's number, for a mainland resident")] = None,
    at: Annotated[str | None, typer.Option(help="Decide at this ISO-8601 instant")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON")] = False,
    language: Annotated[str, typer.Option(help="Language of the reasons: zh_Hant, zh_Hans "
                                               "or en")] = "en",
    officer: Annotated[str | None, typer.Option(help="The deciding officer's staff user "
                                                     "name (recorded)")] = None,
) -> None:
    """Decide a crossing: quarantine-free, quarantine or refused, with every reason.

    Exits 0 when the traveller may cross (quarantine-free or to quarantine), 1 when refused.
    """
    locale = _language(language)
    try:
        instant = parse_instant(at) if at else None
    except ValueError:
        fail(f"--at is not an ISO-8601 instant: {at!r}", 2)
    try:
        data = DecisionIn(control_point=control_point.strip().upper(),
                          direction=direction.strip().lower(),
                          document_kind=document[0], document_number=document[1], code=code,
                          endorsement=endorsement, at=instant, language=locale)
    except ValidationError as error:
        fail(f"invalid input: {_problem(error)}", 2)
    with unit_of_work() as session:
        caller = identity.staff_principal(session, officer) if officer else None
        decision = crossing.decide(session, data, officer=caller, channel="cli", now=utcnow())
        view = crossing.decision_view(decision, locale=locale)
    if as_json:
        typer.echo(view.model_dump_json())
    else:
        typer.echo(f"{view.outcome}: {view.control_point_name} ({view.control_point}) "
                   f"{view.direction}, policy {view.policy}")
        for reason in view.reasons:
            typer.echo(f"  {reason.code}: {reason.message}")
        if view.quarantine is not None:
            typer.echo(f"  quarantine: {view.quarantine.place_name} ({view.quarantine.place}), "
                       f"{view.quarantine.days} days, until {view.quarantine.ends_on}")
    raise typer.Exit(0 if view.may_cross else 1)


# --- control points ------------------------------------------------------------------

@points_app.command("list")
def points_list() -> None:
    """List the control points."""
    with unit_of_work() as session:
        for point in crossing.list_control_points(session):
            typer.echo(f"{point.code} {point.name_zh_hant} / {point.name_zh_hans} / "
                       f"{point.name_en}")


@points_app.command("init")
def points_init() -> None:
    """Open the packaged control points (LWU, LMC, SBC, HZM, AIR) not open yet."""
    with unit_of_work() as session:
        added = crossing.ensure_control_points(session, now=utcnow())
    typer.echo(f"opened {', '.join(added)}" if added else "every packaged control point is open")


# --- quotas ---------------------------------------------------------------------------

def _day(day: str | None) -> date:
    if not day:
        return hk_date(utcnow())
    try:
        return date.fromisoformat(day)
    except ValueError:
        fail(f"--day: not a date (YYYY-MM-DD): {day}", 2)


@quota_app.command("set")
def quota_set(
    control_point: Annotated[str, typer.Argument(help="Control point code, e.g. LWU")],
    places: Annotated[int, typer.Option(help="Quarantine-free places each day")],
    day: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (default today)")]
    = None,
    days: Annotated[int, typer.Option(help="Set this many days from the first")] = 1,
) -> None:
    """Set the quarantine-free places of a control point on a run of days."""
    try:
        data = QuotaIn(control_point=control_point.strip().upper(), day=_day(day), days=days,
                       places=places)
    except ValidationError as error:
        fail(f"invalid quota: {_problem(error)}", 2)
    with unit_of_work() as session:
        changed = crossing.set_quota(session, data, officer=None, now=utcnow())
        said = [f"{data.control_point} {row.day}: {row.capacity} places, {row.booked} booked"
                for row in changed]
    typer.echo("\n".join(said))


@quota_app.command("show")
def quota_show(
    control_point: Annotated[str | None, typer.Argument(help="Control point code (default: "
                                                             "all)")] = None,
    day: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (default today)")]
    = None,
    days: Annotated[int, typer.Option(min=1, max=60, help="How many days")] = 7,
) -> None:
    """Show the quarantine-free places, booked and free, day by day."""
    with unit_of_work() as session:
        rows = crossing.quotas(session, control_point, _day(day), days)
    if not rows:
        typer.echo("no quota set")
    for row in rows:
        typer.echo(f"{row.day} {row.control_point}: {row.free} free of {row.capacity} "
                   f"({row.booked} booked)")


@quota_app.command("close-days")
def quota_close_days() -> None:
    """Close the unused bookings of days that are over (no-shows) and free their places."""
    with unit_of_work() as session:
        closed = crossing.close_past_days(session, now=utcnow())
    typer.echo(f"closed {closed} booking(s) as no-shows")


# --- the policy ------------------------------------------------------------------------

@policy_app.command("load")
def policy_load(
    file: Annotated[Path | None, typer.Argument(help="Policy JSON (default: the packaged "
                                                     "Hong Kong policy)")] = None,
    activate: Annotated[bool, typer.Option(help="Put it in force at once")] = True,
) -> None:
    """Validate a crossing policy and keep it as a new version, in force unless
    --no-activate."""
    if file is not None and not file.is_file():
        fail(f"no such file: {file}", 2)
    content = file.read_bytes() if file is not None else crossing.default_document()
    with unit_of_work() as session:
        row = crossing.load(session, content, officer=None, now=utcnow(), activate_now=activate)
        said = f"loaded {row.identifier} {row.version} ({'active' if row.active else 'inactive'})"
    typer.echo(said)


@policy_app.command("activate")
def policy_activate(
    identifier: Annotated[str, typer.Argument(help="The version's id (from `policy list`)")],
) -> None:
    """Put a loaded crossing-policy version in force."""
    try:
        policy_id = uuid.UUID(identifier)
    except ValueError:
        fail(f"not a policy id: {identifier}", 2)
    with unit_of_work() as session:
        row = crossing.activate(session, policy_id, officer=None, now=utcnow())
        said = f"{row.identifier} {row.version} is in force"
    typer.echo(said)


@policy_app.command("list")
def policy_list() -> None:
    """List every version of every crossing policy."""
    with unit_of_work() as session:
        rows = crossing.list_policies(session)
    if not rows:
        typer.echo("no policy loaded: the packaged one is in force")
    for row in rows:
        typer.echo(f"{row.id} {row.identifier} {row.version} "
                   f"{'active' if row.active else '-'} loaded {hk_isoformat(row.loaded_at)}")


@policy_app.command("show")
def policy_show(
    language: Annotated[str, typer.Option(help="zh_Hant, zh_Hans or en")] = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON")] = False,
) -> None:
    """Show the crossing policy in force: per crossing, each rule and what failing leads to."""
    locale = _language(language)
    with unit_of_work() as session:
        shown = crossing.policy_view(crossing.active_policy(session), locale=locale)
    if as_json:
        typer.echo(json.dumps(shown, ensure_ascii=False, default=str))
        return
    typer.echo(f"{shown['name']}: {shown['description']}")
    for item in shown["crossings"]:
        typer.echo(f"{', '.join(item['control_points'])} {item['direction']}"
                   + (f" (quarantine {item['quarantine_days']} days)"
                      if item["quarantine_days"] else ""))
        for rule in item["rules"]:
            typer.echo(f"  {rule['identifier']} [{rule['outcome']} if not met] "
                       f"{rule['requirement']}")
