"""Laboratories and registries, and the batches of test results and vaccinations they send.

A batch is atomic: either every row is valid and the batch lands (rows already on file
are skipped, so sending it twice changes nothing), or nothing is written and every
rejected row is reported with its line and reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from borderpass.evidence import repository
from borderpass.evidence.events import EvidenceChanged
from borderpass.evidence.ingestion import (
    TEST_FIELDS,
    VACCINATION_FIELDS,
    BatchFormatError,
    Problem,
    make_indexer,
    read_rows,
    test_row,
    vaccination_row,
)
from borderpass.evidence.models import EvidenceSource, IngestBatch
from borderpass.evidence.schemas import IngestReport, RowProblem
from borderpass.identity import service as identity
from borderpass.kit.collector import collection_paused
from borderpass.kit.errors import Conflict, InvalidInput, NotFound
from borderpass.kit.events import publish
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger

__all__ = [
    "BatchRejected",
    "SOURCE_KINDS",
    "create_source",
    "find_source",
    "ingest",
    "rotate_source_key",
    "source_kind",
]

log = get_logger(__name__)

SOURCE_KINDS = {"lab": "tests", "registry": "vaccinations"}
_CHUNK = 20_000
_REPORTED_PROBLEMS = 1_000


class BatchRejected(InvalidInput):
    code = "batch_rejected"
    message = _("The batch was not accepted: {count} row(s) were rejected. Nothing was written.")


_KINDS: dict[str, tuple[repository.BulkSpec, tuple[str, ...], str, Callable[..., Any]]] = {
    "tests": (repository.TESTS, TEST_FIELDS, "results", test_row),
    "vaccinations": (repository.VACCINATIONS, VACCINATION_FIELDS, "vaccinations",
                     vaccination_row),
}


def _key_of(kind: str, staged: tuple[Any, ...]) -> tuple[Any, ...]:
    return (staged[0],) if kind == "tests" else staged[:3]


def ingest(
    session: Session,
    source_id: uuid.UUID,
    kind: str,
    content: bytes,
    media: str,
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest one batch of test results or vaccinations from a source, atomically.

    Args:
        kind: ``tests`` or ``vaccinations``.
        media: ``csv`` or ``json``.
        progress: called with the number of rows read so far, now and then.

    Raises:
        BatchRejected: a row or the batch itself is invalid; nothing was written.
    """
    with collection_paused():  # the batch's rows would stall the process at each pass
        return _ingest(session, source_id, kind, content, media, now=now, progress=progress)


def _ingest(
    session: Session,
    source_id: uuid.UUID,
    kind: str,
    content: bytes,
    media: str,
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    if kind not in _KINDS:
        raise InvalidInput(_("Unknown evidence kind {kind}."), field="kind", kind=kind[:20])
    if media not in ("csv", "json"):
        raise InvalidInput(_("Send CSV or JSON."), field="content-type")
    spec, fields, items_key, validate = _KINDS[kind]
    source = repository.get_source(session, source_id)
    if source is None:
        raise NotFound(_("There is no such source."))
    if kind == "tests":
        # The laboratory of every result is the source whose key sent the batch.
        validate = partial(test_row, laboratory=source.name)
    indexer = make_indexer()
    problems: list[RowProblem] = []
    seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    chunk: list[tuple[Any, ...]] = []
    rows = 0
    repository.create_staging(session, spec)
    try:
        for line, raw in read_rows(content, media, fields, items_key):
            rows += 1
            checked = validate(raw, indexer, now)
            if isinstance(checked, Problem):
                problems.append(RowProblem(line=line, field=checked.field, reason=checked.reason))
                continue
            key = _key_of(kind, checked)
            earlier = seen.get(key)
            if earlier is not None:
                if earlier != checked:
                    problems.append(RowProblem(
                        line=line, field=None,
                        reason="the same record appears earlier in the batch with other values"))
                continue
            seen[key] = checked
            if not problems:
                chunk.append((line, *checked))
                if len(chunk) >= _CHUNK:
                    repository.stage(session, spec, chunk)
                    chunk.clear()
            if progress is not None and rows % _CHUNK == 0:
                progress(rows)
    except BatchFormatError as error:
        repository.drop_staging(session, spec)
        problem = RowProblem(line=1, field=error.field, reason=error.reason)
        raise BatchRejected(count=1, field=error.field, details=[problem.model_dump()]) from None
    if rows == 0:
        repository.drop_staging(session, spec)
        raise BatchRejected(_("The batch holds no rows."), count=0)
    if not problems:
        repository.stage(session, spec, chunk)
        for line in repository.conflicting_lines(session, spec, source_id):
            problems.append(RowProblem(
                line=line, field=None,
                reason="this record is already on file with other values"))
    if problems:
        repository.drop_staging(session, spec)
        problems.sort(key=lambda p: p.line)
        log.info("ingest.rejected", kind=kind, source=str(source_id), rows=rows,
                 rejected=len(problems))
        raise BatchRejected(
            count=len(problems),
            details=[p.model_dump() for p in problems[:_REPORTED_PROBLEMS]],
        )
    batch = IngestBatch(source_id=source_id, kind=kind, received_at=now, rows=rows,
                        inserted=0, duplicates=0)
    repository.add(session, batch)
    inserted = repository.bulk_insert(session, spec, source_id, batch.id)
    repository.drop_staging(session, spec)
    batch.inserted = inserted
    batch.duplicates = len(seen) - inserted
    people = repository.people_in_batch(session, spec, batch.id)
    session.flush()
    if progress is not None:
        progress(rows)
    log.info("ingest.accepted", kind=kind, source=str(source_id), batch=str(batch.id),
             rows=rows, inserted=inserted, duplicates=batch.duplicates)
    if people:
        publish(session, EvidenceChanged(people, f"{kind}:{batch.id}", now))
    return IngestReport(batch_id=batch.id, kind=kind, rows=rows, inserted=inserted,
                        duplicates=rows - inserted, rejected=[], people=people)


def create_source(
    session: Session, name: str, kind: str, *, now: datetime
) -> tuple[EvidenceSource, str]:
    """Authorise a laboratory or registry; return it and its new API key."""
    if kind not in SOURCE_KINDS:
        raise InvalidInput(_("A source is a lab or a registry."), field="kind")
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise InvalidInput(_("A source needs a name of 1 to 128 characters."), field="name")
    if repository.find_source(session, name) is not None:
        raise Conflict(_("A source with that name exists."), field="name")
    source = EvidenceSource(name=name, kind=kind, created_at=now)
    repository.add(session, source)
    key = identity.issue_api_key(session, "source", source.id, kind, name, now=now)
    log.info("source.created", source=str(source.id), kind=kind)
    return source, key


def rotate_source_key(session: Session, name: str, *, now: datetime) -> str:
    """Issue a new API key for a source (old keys keep working until revoked)."""
    source = repository.find_source(session, name)
    if source is None:
        raise NotFound(_("There is no such source."), field="name")
    return identity.issue_api_key(session, "source", source.id, source.kind, name, now=now)


def find_source(session: Session, name: str) -> EvidenceSource | None:
    """Return the source of that name, if any."""
    return repository.find_source(session, name)


def source_kind(session: Session, source_id: uuid.UUID) -> str:
    """Return which evidence a source may send: ``tests`` or ``vaccinations``."""
    source = repository.get_source(session, source_id)
    if source is None:
        raise NotFound(_("There is no such source."))
    return SOURCE_KINDS[source.kind]
