"""All SQL of the evidence domain, including the bulk path used by ingestion.

Batches are staged in a temporary table (COPY on PostgreSQL, executemany on SQLite)
and moved into place with one ``INSERT … SELECT … ON CONFLICT DO NOTHING``, which
makes a repeated batch change nothing and attaches rows to the document's proven holder
by their blind index in the same statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Uuid,
    bindparam,
    cast,
    delete,
    func,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from borderpass.evidence.models import (
    CheckinFact,
    EvidenceSource,
    HealthFlag,
    HighRiskArea,
    TestingOrder,
    TestingOrderPremises,
    TestResult,
    TravelRecord,
    Vaccination,
)
from borderpass.kit.db import among

__all__ = ["BulkSpec", "TESTS", "VACCINATIONS", "attach_person", "bulk_insert", "stage"]


@dataclass(frozen=True)
class BulkSpec:
    """How one kind of evidence is staged, compared and inserted."""

    table: str
    staging: str
    columns: tuple[str, ...]  # staged columns, after ``line``
    types: tuple[str, ...]  # SQL types of the staged columns
    key: tuple[str, ...]  # the natural key (with source_id for tests)
    keyed_by_source: bool


TESTS = BulkSpec(
    table="test_results",
    staging="staging_test_results",
    columns=("specimen_id", "doc_kind", "doc_index", "collected_at", "reported_at", "method",
             "result", "lab"),
    types=("VARCHAR(64)", "VARCHAR(16)", "VARCHAR(64)", "TIMESTAMP", "TIMESTAMP", "VARCHAR(8)",
           "VARCHAR(16)", "VARCHAR(128)"),
    key=("specimen_id",),
    keyed_by_source=True,
)

VACCINATIONS = BulkSpec(
    table="vaccinations",
    staging="staging_vaccinations",
    columns=("doc_kind", "doc_index", "dose_number", "product", "vaccinated_on", "provider"),
    types=("VARCHAR(16)", "VARCHAR(64)", "INTEGER", "VARCHAR(64)", "DATE", "VARCHAR(128)"),
    key=("doc_kind", "doc_index", "dose_number"),
    keyed_by_source=False,
)


def _sqlite_value(value: Any) -> Any:
    # Stored the way SQLAlchemy's SQLite DateTime stores values: naive UTC text.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def create_staging(session: Session, spec: BulkSpec) -> None:
    """Create (or empty) the temporary staging table of ``spec``."""
    dialect = session.get_bind().dialect.name
    timestamp = "TIMESTAMPTZ" if dialect == "postgresql" else "TIMESTAMP"
    columns = ", ".join(
        f"{name} {kind.replace('TIMESTAMP', timestamp)}"
        for name, kind in zip(spec.columns, spec.types, strict=True)
    )
    session.execute(text(f"DROP TABLE IF EXISTS {spec.staging}"))
    session.execute(text(f"CREATE TEMPORARY TABLE {spec.staging} (line INTEGER, {columns})"))


def stage(session: Session, spec: BulkSpec, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append validated rows ``(line, *columns)`` to the staging table."""
    if not rows:
        return
    connection = session.connection()
    names = ", ".join(("line", *spec.columns))
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {spec.staging} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in range(len(spec.columns) + 1))
    raw_sqlite = connection.connection.driver_connection
    raw_sqlite.executemany(  # type: ignore[union-attr]
        f"INSERT INTO {spec.staging} ({names}) VALUES ({placeholders})",  # noqa: S608
        [tuple(_sqlite_value(value) for value in row) for row in rows],
    )


def _key_join(spec: BulkSpec) -> str:
    join = " AND ".join(f"t.{name} = s.{name}" for name in spec.key)
    return f"t.source_id = :source AND {join}" if spec.keyed_by_source else join


def conflicting_lines(session: Session, spec: BulkSpec, source_id: uuid.UUID) -> list[int]:
    """Return staged lines whose key is already recorded with different values."""
    differs = " OR ".join(
        f"t.{name} <> s.{name}" for name in spec.columns if name not in spec.key
    )
    if not spec.keyed_by_source:
        differs += " OR t.source_id <> :source"
    # Identifiers come from the constant specs above, never from input.
    query = text(
        f"SELECT s.line FROM {spec.staging} s JOIN {spec.table} t ON {_key_join(spec)} "  # noqa: S608
        f"WHERE {differs} ORDER BY s.line"
    ).bindparams(bindparam("source", type_=Uuid))
    return [row[0] for row in session.execute(query, {"source": source_id})]


def bulk_insert(
    session: Session, spec: BulkSpec, source_id: uuid.UUID, batch_id: uuid.UUID
) -> int:
    """Move staged rows into place, skipping those already there; return rows inserted."""
    names = ", ".join(spec.columns)
    staged = ", ".join(f"s.{name}" for name in spec.columns)
    conflict = ", ".join(("source_id", *spec.key) if spec.keyed_by_source else spec.key)
    # Identifiers come from the constant specs above, never from input.
    query = text(
        f"INSERT INTO {spec.table} (source_id, batch_id, person_id, {names}) "  # noqa: S608
        f"SELECT :source, :batch, p.id, {staged} FROM {spec.staging} s "
        "LEFT JOIN people p ON p.doc_kind = s.doc_kind AND p.doc_index = s.doc_index "
        "AND p.status = 'active' AND p.assurance = 'proven' "
        f"WHERE true ON CONFLICT ({conflict}) DO NOTHING"
    ).bindparams(bindparam("source", type_=Uuid), bindparam("batch", type_=Uuid))
    result = session.execute(query, {"source": source_id, "batch": batch_id})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def people_in_batch(session: Session, spec: BulkSpec, batch_id: uuid.UUID) -> list[uuid.UUID]:
    """Return the registered people a batch touched."""
    model = TestResult if spec is TESTS else Vaccination
    return list(
        session.scalars(
            select(model.person_id)
            .where(model.batch_id == batch_id, model.person_id.is_not(None))
            .distinct()
        )
    )


def drop_staging(session: Session, spec: BulkSpec) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {spec.staging}"))


def attach_person(session: Session, person_id: uuid.UUID, doc_kind: str, doc_index: str) -> None:
    """Attach the evidence of this document to the person who proved they hold it, whoever
    it was attached to before."""
    for model in (TestResult, Vaccination, HealthFlag, TravelRecord):
        session.execute(
            update(model)
            .where(model.doc_kind == doc_kind, model.doc_index == doc_index,
                   or_(model.person_id.is_(None), model.person_id != person_id))
            .values(person_id=person_id)
        )


def detach_person(session: Session, person_id: uuid.UUID) -> None:
    """Detach a deleted account's evidence: the sources' records stay, unlinked; what the
    account's own uploads told is deleted with them."""
    for model in (TestResult, Vaccination, HealthFlag, TravelRecord):
        session.execute(update(model).where(model.person_id == person_id).values(person_id=None))
    delete_checkin_facts(session, person_id)


def checkin_facts_of(session: Session, person_id: uuid.UUID) -> list[CheckinFact]:
    return list(session.scalars(
        select(CheckinFact).where(CheckinFact.person_id == person_id)
        .order_by(CheckinFact.visit_from, CheckinFact.kind, CheckinFact.place_id)
    ))


def delete_checkin_facts(session: Session, person_id: uuid.UUID) -> None:
    session.execute(delete(CheckinFact).where(CheckinFact.person_id == person_id))


def purge_checkin_facts(session: Session, before: datetime) -> list[uuid.UUID]:
    """Delete facts of visits that ended before ``before``; return whose they were."""
    people = list(session.scalars(
        select(CheckinFact.person_id).where(CheckinFact.visit_to < before).distinct()
    ))
    session.execute(delete(CheckinFact).where(CheckinFact.visit_to < before))
    return people


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)
    session.flush()


def find_source(session: Session, name: str) -> EvidenceSource | None:
    return session.scalars(select(EvidenceSource).where(EvidenceSource.name == name)).one_or_none()


def get_source(session: Session, source_id: uuid.UUID) -> EvidenceSource | None:
    return session.get(EvidenceSource, source_id)


def find_order(session: Session, reference: str) -> TestingOrder | None:
    return session.scalars(
        select(TestingOrder).where(TestingOrder.reference == reference)
    ).one_or_none()


def tests_of(session: Session, person_id: uuid.UUID) -> list[TestResult]:
    return list(session.scalars(
        select(TestResult).where(TestResult.person_id == person_id)
        .order_by(TestResult.collected_at.desc())
    ))


def latest_collected(session: Session, kind: str, index: str, result: str) -> datetime | None:
    return session.scalar(
        select(TestResult.collected_at)
        .where(TestResult.doc_kind == kind, TestResult.doc_index == index,
               TestResult.result == result)
        .order_by(TestResult.collected_at.desc())
        .limit(1)
    )


def vaccinations_of(session: Session, person_id: uuid.UUID) -> list[Vaccination]:
    return list(session.scalars(
        select(Vaccination).where(Vaccination.person_id == person_id)
        .order_by(Vaccination.dose_number)
    ))


def flags_of(session: Session, person_id: uuid.UUID) -> list[HealthFlag]:
    return list(session.scalars(
        select(HealthFlag).where(HealthFlag.person_id == person_id, HealthFlag.lifted_at.is_(None))
        .order_by(HealthFlag.starts_at)
    ))


def orders_for_address(session: Session, address_index: str) -> list[TestingOrder]:
    return list(session.scalars(
        select(TestingOrder).join(TestingOrderPremises)
        .where(TestingOrderPremises.address_index == address_index)
        .order_by(TestingOrder.issued_at)
    ).unique())


def orders_at_venues(
    session: Session, venue_ids: Sequence[str], since: datetime
) -> list[tuple[TestingOrder, str]]:
    """Return orders whose period ends at or after ``since`` naming one of the venues."""
    if not venue_ids:
        return []
    rows = session.execute(
        select(TestingOrder, TestingOrderPremises.venue_id).join(TestingOrderPremises)
        .where(TestingOrderPremises.venue_id.in_(list(venue_ids)),
               TestingOrder.period_to >= since)
        .order_by(TestingOrder.period_from)
    )
    return [(order, str(venue_id)) for order, venue_id in rows]


def premises_of(session: Session, order_id: uuid.UUID) -> list[TestingOrderPremises]:
    return list(session.scalars(
        select(TestingOrderPremises).where(TestingOrderPremises.order_id == order_id)
    ))


def areas_active(session: Session, since: datetime) -> list[HighRiskArea]:
    return list(session.scalars(
        select(HighRiskArea)
        .where((HighRiskArea.ends_at.is_(None)) | (HighRiskArea.ends_at >= since))
        .order_by(HighRiskArea.region_code)
    ))


def orders_in_force(session: Session, now: datetime) -> list[TestingOrder]:
    return list(session.scalars(
        select(TestingOrder).where(TestingOrder.test_by >= now).order_by(TestingOrder.test_by)
    ))


def rows_iter(rows: Iterable[Any]) -> list[Any]:
    return list(rows)


def _aware(value: datetime | str | None) -> datetime | None:
    # Aggregates bypass the column type, so SQLite gives naive UTC (or even text) back.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def areas_of_regions(session: Session, regions: set[str]) -> list[HighRiskArea]:
    """Return the high-risk areas declared for any of ``regions`` or a region containing one."""
    prefixes: set[str] = set()
    for region in regions:
        parts = region.split("-")
        prefixes.update("-".join(parts[:n]) for n in range(1, len(parts) + 1))
    if not prefixes:
        return []
    return list(session.scalars(
        select(HighRiskArea).where(HighRiskArea.region_code.in_(sorted(prefixes)))
    ))


# Set-based reads for many people at once: one query per kind of fact, whatever the
# number of people (callers pass a bounded chunk of ids). They read plain rows through the
# session's connection, past the ORM's row loading; callers flush first. With
# ``contiguous`` they read every person from the least id to the greatest (``among``):
# the caller keeps the rows of its own people.


def _rows(session: Session, query: Any) -> Any:
    # All rows at once: row by row, fetching costs more than the query for a long page.
    return session.connection().execute(query).all()


def _decisive() -> Any:
    # Negative or positive, as two comparisons: an IN list would be written into the
    # statement again at every execution.
    return or_(TestResult.result == "negative", TestResult.result == "positive")


def last_tests_of_many(
    session: Session, person_ids: Sequence[uuid.UUID], until: datetime, *,
    contiguous: bool = False,
) -> list[tuple[uuid.UUID, str, str, datetime]]:
    """Return ``(person, result, method, latest collected_at)`` for negative and positive
    tests collected by ``until``."""
    query = (
        select(TestResult.person_id, TestResult.result, TestResult.method,
               func.max(TestResult.collected_at))
        .where(among(session, TestResult.person_id, person_ids, contiguous=contiguous),
               _decisive(),
               TestResult.collected_at <= until)
        .group_by(TestResult.person_id, TestResult.result, TestResult.method)
    )
    rows = _rows(session, query)
    found = []
    for person_id, result, method, latest in rows:
        collected = _aware(latest)
        if person_id is not None and collected is not None:
            found.append((person_id, result, method, collected))
    return found


def dose_summaries(
    session: Session, person_ids: Sequence[uuid.UUID], until: date, *,
    contiguous: bool = False,
) -> dict[uuid.UUID, tuple[int, date | None]]:
    """Return, for each person with a dose by ``until``, how many and the day of the latest."""
    query = (
        select(Vaccination.person_id, func.count(Vaccination.id),
               func.max(Vaccination.vaccinated_on))
        .where(among(session, Vaccination.person_id, person_ids, contiguous=contiguous),
               Vaccination.vaccinated_on <= until)
        .group_by(Vaccination.person_id)
    )
    rows = _rows(session, query)
    found: dict[uuid.UUID, tuple[int, date | None]] = {}
    for person_id, count, latest in rows:
        if isinstance(latest, str):  # SQLite's aggregate gives the stored text back
            latest = date.fromisoformat(latest)
        if person_id is not None:
            found[person_id] = (int(count), latest)
    return found


def flags_in_force_of_many(
    session: Session, person_ids: Sequence[uuid.UUID], now: datetime, *,
    contiguous: bool = False,
) -> list[tuple[uuid.UUID, str, datetime, datetime | None]]:
    """Return ``(person, kind, starts_at, ends_at)`` of flags not lifted and not ended by
    ``now``."""
    query = (
        select(HealthFlag.person_id, HealthFlag.kind, HealthFlag.starts_at, HealthFlag.ends_at)
        .where(among(session, HealthFlag.person_id, person_ids, contiguous=contiguous),
               HealthFlag.lifted_at.is_(None),
               (HealthFlag.ends_at.is_(None)) | (HealthFlag.ends_at > now))
    )
    rows = _rows(session, query)
    return [(p, k, s, e) for p, k, s, e in rows if p is not None]


def orders_for_addresses(
    session: Session, address_indexes: Sequence[str], until: datetime
) -> list[tuple[str, datetime, str]]:
    """Return ``(address index, issued_at, reference)`` of orders issued by ``until``
    naming premises at these addresses."""
    if not address_indexes:
        return []
    query = (
        select(TestingOrderPremises.address_index, TestingOrder.issued_at,
               TestingOrder.reference)
        .join(TestingOrder, TestingOrder.id == TestingOrderPremises.order_id)
        .where(among(session, TestingOrderPremises.address_index, address_indexes),
               TestingOrder.issued_at <= until)
    )
    rows = _rows(session, query)
    return [(a, i, r) for a, i, r in rows]


def orders_by_visit_of_many(
    session: Session, person_ids: Sequence[uuid.UUID], until: datetime, *,
    contiguous: bool = False,
) -> list[tuple[uuid.UUID, datetime, str]]:
    """Return ``(person, issued_at, reference)`` of orders issued by ``until`` that an
    uploaded visit falls under."""
    query = (
        select(CheckinFact.person_id, TestingOrder.issued_at, TestingOrder.reference)
        .join(TestingOrder, CheckinFact.order_id == TestingOrder.id)
        .where(among(session, CheckinFact.person_id, person_ids, contiguous=contiguous),
               CheckinFact.kind == "order",
               TestingOrder.issued_at <= until)
    )
    rows = _rows(session, query)
    return [(p, i, r) for p, i, r in rows]


def exposures_of_many(
    session: Session, person_ids: Sequence[uuid.UUID], until: datetime, *,
    contiguous: bool = False,
) -> list[tuple[uuid.UUID, str, datetime]]:
    """Return ``(person, place, visit_to)`` of exposure facts of visits begun by ``until``."""
    query = (
        select(CheckinFact.person_id, CheckinFact.place_id, CheckinFact.visit_to)
        .where(among(session, CheckinFact.person_id, person_ids, contiguous=contiguous),
               CheckinFact.kind == "exposure",
               CheckinFact.visit_from <= until)
    )
    rows = _rows(session, query)
    return [(p, v, t) for p, v, t in rows]


def travel_of_many(
    session: Session, person_ids: Sequence[uuid.UUID], until: datetime, *,
    contiguous: bool = False,
) -> list[tuple[uuid.UUID, str, datetime]]:
    """Return ``(person, region, at)`` of travel records up to ``until``."""
    query = (
        select(TravelRecord.person_id, TravelRecord.region_code, TravelRecord.at)
        .where(among(session, TravelRecord.person_id, person_ids, contiguous=contiguous),
               TravelRecord.at <= until)
    )
    rows = _rows(session, query)
    return [(p, r, a) for p, r, a in rows if p is not None]


def later_instants_of_many(
    session: Session, person_ids: Sequence[uuid.UUID], now: datetime, *,
    contiguous: bool = False,
) -> list[tuple[uuid.UUID | None, datetime]]:
    """Return ``(person, instant)`` pairs where the facts of these people read at ``now``
    may change with the clock alone, in one query.

    They are: the first test collected after ``now``, flag ending after it, travel record
    after it, and start of an uploaded exposure visit not ended by it (a visit under way
    gives its start, before ``now``: its facts change all the time); and, with ``person``
    None since any order may come to name anyone, the first order issued after ``now``.
    """
    tests = (select(TestResult.person_id, func.min(TestResult.collected_at))
             .where(among(session, TestResult.person_id, person_ids, contiguous=contiguous),
                    _decisive(),
                    TestResult.collected_at > now)
             .group_by(TestResult.person_id))
    flags = (select(HealthFlag.person_id, func.min(HealthFlag.ends_at))
             .where(among(session, HealthFlag.person_id, person_ids, contiguous=contiguous),
                    HealthFlag.lifted_at.is_(None), HealthFlag.ends_at > now)
             .group_by(HealthFlag.person_id))
    travel = (select(TravelRecord.person_id, func.min(TravelRecord.at))
              .where(among(session, TravelRecord.person_id, person_ids, contiguous=contiguous),
                     TravelRecord.at > now)
              .group_by(TravelRecord.person_id))
    visits = (select(CheckinFact.person_id, func.min(CheckinFact.visit_from))
              .where(among(session, CheckinFact.person_id, person_ids, contiguous=contiguous),
                     CheckinFact.kind == "exposure", CheckinFact.visit_to > now)
              .group_by(CheckinFact.person_id))
    orders = (select(cast(null(), Uuid), func.min(TestingOrder.issued_at))
              .where(TestingOrder.issued_at > now))
    found: list[tuple[uuid.UUID | None, datetime]] = []
    for person_id, instant in _rows(session, union_all(tests, flags, travel, visits, orders)):
        at = _aware(instant)
        if at is not None:
            found.append((person_id, at))
    return found


def later_doses_of_many(
    session: Session, person_ids: Sequence[uuid.UUID], after: date, *,
    contiguous: bool = False,
) -> dict[uuid.UUID, date]:
    """Return, for each of these people with a dose dated after ``after``, the first such day."""
    query = (select(Vaccination.person_id, func.min(Vaccination.vaccinated_on))
             .where(among(session, Vaccination.person_id, person_ids, contiguous=contiguous),
                    Vaccination.vaccinated_on > after)
             .group_by(Vaccination.person_id))
    found: dict[uuid.UUID, date] = {}
    for person_id, day in _rows(session, query):
        if isinstance(day, str):  # SQLite's aggregate gives the stored text back
            day = date.fromisoformat(day)
        if person_id is not None and day is not None:
            found[person_id] = day
    return found


def areas_version(session: Session) -> str:
    """Return a value that changes whenever a high-risk area is declared (areas are only
    ever added): how many there are and when the last was recorded."""
    count, last = session.execute(
        select(func.count(HighRiskArea.id), func.max(HighRiskArea.recorded_at))).one()
    return areas_version_of(count, last)


def areas_version_columns() -> tuple[Any, Any]:
    """Return what ``areas_version`` reads as two scalar subqueries, for a query that
    reads more besides; ``areas_version_of`` turns their values into the version."""
    return (select(func.count(HighRiskArea.id)).scalar_subquery(),
            select(func.max(HighRiskArea.recorded_at)).scalar_subquery())


def areas_version_of(count: int | None, last: datetime | str | None) -> str:
    """Return the areas' version from their count and the instant the last was recorded."""
    recorded = _aware(last)
    return f"{int(count or 0)}:{recorded.isoformat() if recorded is not None else '-'}"
