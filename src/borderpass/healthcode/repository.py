"""All SQL of the health-code domain."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from borderpass.healthcode.models import CodeRevocation, HealthCode, PersonStatus
from borderpass.kit.db import Prepared, among, array_literal

__all__ = ["LiveCode", "SavedStatus", "add", "count_issued", "live_codes",
           "revocations_since", "status_codes_and", "status_codes_and_query", "status_of"]


class SavedStatus(NamedTuple):
    """A saved status as read for a view (the columns of ``PersonStatus`` it needs)."""

    colour: str
    reasons: str
    changes_at: datetime | None
    evaluated_at: datetime
    rule_set: str
    fresh_until: datetime | None
    basis: str | None


class LiveCode(NamedTuple):
    """A live code as read for a view (the columns of ``HealthCode`` it needs)."""

    code_hash: str
    colour: str
    kid: str
    issued_at: datetime
    valid_until: datetime
    text: str


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)
    session.flush()


def live_codes(session: Session, person_id: uuid.UUID, now: datetime) -> list[HealthCode]:
    """Return the person's codes not revoked and not expired at ``now``, newest first."""
    return list(session.scalars(
        select(HealthCode).where(HealthCode.person_id == person_id,
                                 HealthCode.revoked_at.is_(None), HealthCode.valid_until > now)
        .order_by(HealthCode.issued_at.desc())
    ))


def find_code(session: Session, code_hash: str) -> HealthCode | None:
    return session.scalars(select(HealthCode).where(HealthCode.code_hash == code_hash)).first()


def revocations_since(session: Session, seq: int, now: datetime) -> list[CodeRevocation]:
    """Return revocation entries after ``seq`` whose codes have not expired by ``now``."""
    return list(session.scalars(
        select(CodeRevocation).where(CodeRevocation.seq > seq, CodeRevocation.expires_at > now)
        .order_by(CodeRevocation.seq)
    ))


def last_seq(session: Session) -> int:
    value = session.scalar(select(CodeRevocation.seq).order_by(CodeRevocation.seq.desc()).limit(1))
    return int(value or 0)


def last_revoked_at(session: Session) -> datetime | None:
    """Return when the newest revocation entry was made (None when there is none)."""
    return session.scalar(select(CodeRevocation.revoked_at)
                          .order_by(CodeRevocation.seq.desc()).limit(1))


def live_codes_not_red(
    session: Session, person_ids: Sequence[uuid.UUID], now: datetime
) -> list[HealthCode]:
    """Return these people's live codes that are not red, newest first per person."""
    if not person_ids:
        return []
    return list(session.scalars(
        select(HealthCode).where(among(session, HealthCode.person_id, person_ids),
                                 HealthCode.revoked_at.is_(None), HealthCode.valid_until > now,
                                 HealthCode.colour != "red")
        .order_by(HealthCode.person_id, HealthCode.issued_at.desc())
    ))


def save_statuses(session: Session, rows: Sequence[dict[str, Any]],
                  saved: Mapping[uuid.UUID, tuple[Any, ...]] | None = None) -> None:
    """Insert or replace the last status of each person in ``rows``, in one statement.

    A saved status that the row repeats (every column but ``evaluated_at`` equal) is left
    as it is: it already says what the row says, from an evaluation no later, and a
    re-evaluation of everyone, where most statuses stay the same, writes only those that
    changed. ``saved``: what ``lock_statuses`` read of them, to leave out beforehand the
    rows that repeat it. Objects of these statuses already in the session are expired, so
    they are read anew.
    """
    if saved:
        rows = [row for row in rows
                if saved.get(row["person_id"]) != tuple([row[name] for name in _COMPARED_COLUMNS])]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    table = PersonStatus.__table__
    assert isinstance(table, Table)  # noqa: S101 - declarative models have tables
    if dialect == "postgresql":
        _save_statuses_pg(session, rows)
    else:
        statement = sqlite_insert(table)  # Core, not the ORM's bulk path: a plain upsert
        session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.person_id],
            set_={name: statement.excluded[name] for name in _STATUS_COLUMNS},
            where=or_(*(table.c[name].is_distinct_from(statement.excluded[name])
                        for name in _COMPARED_COLUMNS)),
        ), list(rows))
    ids = {row["person_id"] for row in rows}
    for held in list(session.identity_map.values()):
        if isinstance(held, PersonStatus) and held.person_id in ids:
            session.expire(held)


_STATUS_COLUMNS = ("colour", "reasons", "changes_at", "evaluated_at", "rule_set",
                   "fresh_until", "basis")
_COMPARED_COLUMNS = ("colour", "reasons", "changes_at", "rule_set", "fresh_until", "basis")
"""What a status says (every column but ``evaluated_at``): a row equal in these leaves
the saved one as it is."""
_HOLD_STATUSES_PG = text(
    "INSERT INTO person_statuses (person_id, colour, reasons, evaluated_at, rule_set) "
    "SELECT person_id, '', '', :now, '' FROM unnest(CAST(:people AS uuid[])) AS person_id "
    "ORDER BY person_id ON CONFLICT (person_id) DO UPDATE SET fresh_until = NULL")
# The same rows held, none changed: ON CONFLICT DO UPDATE locks every conflicting row,
# also those its WHERE leaves as they are, and writes no new version of them. One pass in
# id order, inserting or locking, as ``_HOLD_STATUSES_PG`` takes them: two transactions
# holding rows of the same people never wait for each other in a circle.
_LOCK_STATUSES_PG = text(
    "INSERT INTO person_statuses (person_id, colour, reasons, evaluated_at, rule_set) "
    "SELECT person_id, '', '', :now, '' FROM unnest(CAST(:people AS uuid[])) AS person_id "
    "ORDER BY person_id ON CONFLICT (person_id) DO UPDATE SET fresh_until = NULL "
    "WHERE false")
# Then what the rows held say: held, they are as the last transaction to hold them left them.
_SAVED_STATUSES_PG = text(
    "SELECT person_id, colour, reasons, changes_at, rule_set, fresh_until, basis "
    "FROM person_statuses WHERE person_id = ANY(CAST(:people AS uuid[]))")


_STATUS_TYPES = {"person_id": "uuid", "colour": "varchar", "reasons": "varchar",
                 "changes_at": "timestamptz", "evaluated_at": "timestamptz",
                 "rule_set": "varchar", "fresh_until": "timestamptz", "basis": "varchar"}


@lru_cache(maxsize=16)
def _upsert_statuses_pg(shared: frozenset[str]) -> Any:
    """The upsert of ``_save_statuses_pg`` with the columns in ``shared`` sent once, as
    one value for every row, and the others as arrays."""
    columns = ("person_id", *_STATUS_COLUMNS)
    listed = [name for name in columns if name not in shared]
    values = ", ".join(f"CAST(:{name} AS {_STATUS_TYPES[name]})" if name in shared
                       else f"v.{name}" for name in columns)
    arrays = ", ".join(f"CAST(:{name} AS {_STATUS_TYPES[name]}[])" for name in listed)
    # Names and types come from the constants above, never from input.
    return text(
        f"INSERT INTO person_statuses ({', '.join(columns)}) SELECT {values} "  # noqa: S608
        f"FROM unnest({arrays}) AS v({', '.join(listed)}) "
        "ON CONFLICT (person_id) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in _STATUS_COLUMNS)
        # A row left as it is costs no new version, no index entries and no WAL.
        + " WHERE ("
        + ", ".join(f"person_statuses.{name}" for name in _COMPARED_COLUMNS)
        + ") IS DISTINCT FROM ("
        + ", ".join(f"excluded.{name}" for name in _COMPARED_COLUMNS) + ")")


def _save_statuses_pg(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    # One statement whatever the number of rows: each column goes as one array and
    # unnest() turns them back into rows. Sent as many statements (executemany), a
    # population's statuses cost about as much as evaluating them. A column with one
    # value in every row (the instant, the rule set and basis of a batch) goes once:
    # the server then reads it once instead of once a row.
    params: dict[str, Any] = {"person_id": array_literal([row["person_id"] for row in rows])}
    shared = set()
    first = rows[0]
    for name in _STATUS_COLUMNS:
        value = first[name]
        if value is not None and all(row[name] == value for row in rows):
            shared.add(name)
            params[name] = _utc(value) if isinstance(value, datetime) else value
            continue
        values = [row[name] for row in rows]
        if name in ("changes_at", "evaluated_at", "fresh_until"):
            values = [None if value is None else _utc(value) for value in values]
        params[name] = array_literal(values)
    session.execute(_upsert_statuses_pg(frozenset(shared)), params)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return value.astimezone(UTC)


def hold_statuses(session: Session, people: Sequence[uuid.UUID], now: datetime) -> None:
    """Mark these people's saved statuses as not known to hold, and hold their rows until
    the commit (in id order); a person without one gets an empty row (colour ``""``).

    On PostgreSQL a transaction that holds a row waits here for any other holding it, and
    then reads what that one committed: facts read after this call are at least as new
    as those of any status saved before it.
    """
    if not people:
        return
    holding = set(people)
    ordered = sorted(holding)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_HOLD_STATUSES_PG, {"people": array_literal(ordered), "now": _utc(now)})
    else:
        table = PersonStatus.__table__
        assert isinstance(table, Table)  # noqa: S101 - declarative models have tables
        statement = sqlite_insert(table)
        session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.person_id], set_={"fresh_until": None},
        ), [{"person_id": person_id, "colour": "", "reasons": "", "changes_at": None,
             "evaluated_at": now, "rule_set": "", "fresh_until": None, "basis": None}
            for person_id in ordered])
    for held in list(session.identity_map.values()):
        if isinstance(held, PersonStatus) and held.person_id in holding:
            session.expire(held)


def lock_statuses(session: Session, people: Sequence[uuid.UUID],
                  now: datetime) -> dict[uuid.UUID, tuple[Any, ...]]:
    """Hold these people's saved statuses until the commit (in id order), as
    ``hold_statuses`` does, for a caller that saves a status for every one of them
    before it commits: their rows are then only locked, not marked (no other transaction
    sees the mark, which the saved status replaces).

    Returns:
        what each of them has saved, by person (the columns ``save_statuses`` compares,
        in its order; an empty colour for a row made here), for ``save_statuses``.
    """
    if not people:
        return {}
    holding = set(people)
    listed = list(holding)  # the statements take them in order
    table = PersonStatus.__table__
    assert isinstance(table, Table)  # noqa: S101 - declarative models have tables
    if session.get_bind().dialect.name == "postgresql":
        ids = array_literal(listed)
        session.execute(_LOCK_STATUSES_PG, {"people": ids, "now": _utc(now)})
        found = session.execute(_SAVED_STATUSES_PG, {"people": ids}).all()
    else:
        # SQLite has no row locks: a write statement takes the database's write lock,
        # even one that writes nothing, and holds it until the commit.
        session.execute(sqlite_insert(table).on_conflict_do_nothing(
            index_elements=[table.c.person_id],
        ), [{"person_id": person_id, "colour": "", "reasons": "", "changes_at": None,
             "evaluated_at": now, "rule_set": "", "fresh_until": None, "basis": None}
            for person_id in listed])
        found = session.execute(
            select(PersonStatus.person_id, *(getattr(PersonStatus, name)
                                             for name in _COMPARED_COLUMNS))
            .where(among(session, PersonStatus.person_id, listed))).all()
    for held in list(session.identity_map.values()):
        if isinstance(held, PersonStatus) and held.person_id in holding:
            session.expire(held)
    return {row[0]: tuple(row[1:]) for row in found}


def status_and_live_codes(
    session: Session, person_id: uuid.UUID, now: datetime
) -> tuple[PersonStatus | None, list[HealthCode]]:
    """Return the person's saved status and their live codes (as ``live_codes``), in one
    query; no status and no codes when no status is saved."""
    rows = session.execute(
        select(PersonStatus, HealthCode)
        .outerjoin(HealthCode, and_(HealthCode.person_id == PersonStatus.person_id,
                                    HealthCode.revoked_at.is_(None),
                                    HealthCode.valid_until > now))
        .where(PersonStatus.person_id == person_id)
        .order_by(HealthCode.issued_at.desc())
    ).all()
    if not rows:
        return None, []
    return rows[0][0], [code for _status, code in rows if code is not None]


_SAVED = [getattr(PersonStatus, name) for name in SavedStatus._fields]
_LIVE = [getattr(HealthCode, name) for name in LiveCode._fields]


def status_codes_and_query(columns: Sequence[Any], person: Any = None) -> Prepared:
    """Return the query of ``status_codes_and``, carrying ``columns`` besides (scalar
    subqueries that other domains give, which may refer to ``PersonStatus.person_id``).
    ``person``: what names the person (a scalar subquery another domain gives), instead
    of the parameter ``person_id``.

    Built once and kept by the caller: it is compiled once for each kind of database
    (``kit.db.Prepared``), as it is read on every view of a code.
    """
    return Prepared(select(*_SAVED, *_LIVE, *columns)
                    .select_from(PersonStatus)
                    .outerjoin(HealthCode, and_(HealthCode.person_id == PersonStatus.person_id,
                                                HealthCode.revoked_at.is_(None),
                                                HealthCode.valid_until > bindparam("now")))
                    .where(PersonStatus.person_id == (bindparam("person_id") if person is None
                                                      else person))
                    .order_by(HealthCode.issued_at.desc()))


def status_codes_and(
    session: Session, query: Prepared, person_id: uuid.UUID | None, now: datetime,
    **params: Any
) -> tuple[SavedStatus, list[LiveCode], tuple[Any, ...]] | None:
    """Return the person's saved status, their live codes (as ``live_codes``) and the
    values of the other columns of ``query`` (``status_codes_and_query``), in one query
    of plain rows; None when no status is saved. ``params``: those of the other columns
    (and of ``person``, for a query that names the person so)."""
    rows = query.rows(session.connection(), {"person_id": person_id, "now": now, **params})
    if not rows:
        return None
    saved, live = len(_SAVED), len(_LIVE)
    codes = [LiveCode(*row[saved:saved + live]) for row in rows if row[saved] is not None]
    return SavedStatus(*rows[0][:saved]), codes, tuple(rows[0][saved + live:])


def status_of(session: Session, person_id: uuid.UUID) -> PersonStatus | None:
    return session.get(PersonStatus, person_id)


def count_issued(session: Session, edges: list[datetime]) -> list[tuple[int, str, int]]:
    """Count codes issued in each interval ``[edges[i], edges[i + 1])`` by colour.

    Returns ``(interval index, colour, count)`` rows; one query, whatever the database.
    """
    if len(edges) < 2:
        return []
    bucket = case(*((HealthCode.issued_at < edge, index)
                    for index, edge in enumerate(edges[1:])), else_=-1)
    rows = session.execute(
        select(bucket.label("bucket"), HealthCode.colour, func.count())
        .where(HealthCode.issued_at >= edges[0], HealthCode.issued_at < edges[-1])
        .group_by(bucket, HealthCode.colour)
    )
    return [(int(index), str(colour), int(count)) for index, colour, count in rows]
