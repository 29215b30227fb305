"""The issuing registries of identity documents and the records they send.

A registry (say, the authority that issues Macau identity cards) is authorised with an
API key of the role ``document_registry`` and sends its records of documents: the
holder's name in English, date of birth, the document's date of issue and the registered
address. A resident whose document has no chip proves they hold it by matching such a
record and returning the PIN of a letter sent to that address (``proofing``).

A batch is atomic: every row valid, or nothing written and every problem reported with
its line. A record already on file for the same document is replaced: the registry is
the authority on its current records. Names and addresses are sealed; documents are
found by blind index.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from borderpass.identity import repository
from borderpass.identity.accounts import issue_api_key
from borderpass.identity.documents import DocumentKind, InvalidDocumentNumber, normalise
from borderpass.identity.models import DocumentRegistry, RegistryRecord
from borderpass.identity.schemas import RegistryLoadReport, RegistryProblem
from borderpass.kit.clock import hk_date
from borderpass.kit.errors import Conflict, InvalidInput, NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import document_index, open_text, seal_text

__all__ = [
    "REGISTRY_FIELDS",
    "REGISTRY_KINDS",
    "REGISTRY_ROLE",
    "RegistryRejected",
    "create_registry",
    "find_registry",
    "load_registry_records",
    "registered_holder",
]

log = get_logger(__name__)

REGISTRY_ROLE = "document_registry"
REGISTRY_KINDS = (DocumentKind.HKID.value, DocumentKind.MACAU.value,
                  DocumentKind.MAINLAND.value)
REGISTRY_FIELDS = ("document_number", "name_en", "born_on", "issued_on", "address")
_MAX_ROWS = 100_000
_MAX_FIELD = 400
_REPORTED = 1_000
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z .,'\-]*")


class RegistryRejected(InvalidInput):
    code = "registry_batch_rejected"
    message = _("The records were not accepted: {count} row(s) were rejected. Nothing was "
                "written.")


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    document_number: str
    name_en: str
    born_on: date
    issued_on: date
    address: str


class _Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[dict[str, object]]


@dataclass(frozen=True)
class _Checked:
    line: int
    number: str
    name_en: str
    born_on: date
    issued_on: date
    address: str


def create_registry(session: Session, name: str, kind: str, *,
                    now: datetime) -> tuple[DocumentRegistry, str]:
    """Authorise the issuing registry of one kind of document; return it and its API key."""
    if kind not in REGISTRY_KINDS:
        raise InvalidInput(_("A registry issues one of: {kinds}."), field="kind",
                           kinds=", ".join(REGISTRY_KINDS))
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise InvalidInput(_("A registry needs a name of 1 to 128 characters."), field="name")
    if repository.find_registry(session, name) is not None:
        raise Conflict(_("A registry with that name exists."), field="name")
    registry = DocumentRegistry(name=name, doc_kind=kind, created_at=now)
    repository.add(session, registry)
    key = issue_api_key(session, "source", registry.id, REGISTRY_ROLE, name, now=now)
    log.info("registry.created", registry=str(registry.id), kind=kind)
    return registry, key


def find_registry(session: Session, name: str) -> DocumentRegistry | None:
    """Return the issuing registry of that name, if any."""
    return repository.find_registry(session, name)


def _rows(content: bytes, media: str) -> list[tuple[int, dict[str, object]]]:
    """Read the batch's rows with their line (CSV) or position (JSON, from 1)."""
    if media == "json":
        try:
            batch = _Batch.model_validate_json(content)
        except ValidationError as error:
            first = error.errors()[0]
            raise RegistryRejected(_("The JSON is not a batch of records: {problem}."),
                                   field="records", count=1,
                                   problem=str(first.get("msg", ""))[:200]) from None
        if len(batch.records) > _MAX_ROWS:
            raise RegistryRejected(_("A batch holds at most {limit} records."),
                                   field="records", count=len(batch.records), limit=_MAX_ROWS)
        return list(enumerate(batch.records, start=1))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RegistryRejected(_("The CSV is not UTF-8."), field="content", count=1) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [name for name in REGISTRY_FIELDS if name not in header]
    if missing:
        raise RegistryRejected(_("The CSV header lacks: {fields}."), field="header", count=1,
                               fields=", ".join(missing))
    rows: list[tuple[int, dict[str, object]]] = []
    try:
        for row in reader:
            if len(rows) >= _MAX_ROWS:
                raise RegistryRejected(_("A batch holds at most {limit} records."),
                                       field="records", count=len(rows) + 1, limit=_MAX_ROWS)
            if None in row:
                raise RegistryRejected(_("Line {line} has more values than the header."),
                                       field="content", count=1, line=reader.line_num)
            rows.append((reader.line_num, dict(row)))
    except csv.Error as error:
        raise RegistryRejected(_("The CSV cannot be read at line {line}: {problem}."),
                               field="content", count=1, line=reader.line_num,
                               problem=str(error)[:200]) from None
    return rows


def _check(line: int, raw: dict[str, object], kind: str,
           today: date) -> _Checked | RegistryProblem:
    extra = sorted(set(raw) - set(REGISTRY_FIELDS))
    if extra:
        return RegistryProblem(line=line, field=extra[0][:40], reason="unknown field")
    if any(isinstance(value, str) and len(value) > _MAX_FIELD for value in raw.values()):
        return RegistryProblem(line=line, field=None, reason="a field is too long")
    try:
        row = _Row.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        return RegistryProblem(line=line, field=".".join(str(p) for p in first["loc"]) or None,
                               reason=str(first["msg"])[:200])
    try:
        number = normalise(kind, row.document_number)
    except InvalidDocumentNumber as error:
        return RegistryProblem(line=line, field="document_number", reason=error.reason or
                               "not a valid document number")
    if not _LATIN_NAME.fullmatch(row.name_en) or len(row.name_en) > 100:
        return RegistryProblem(line=line, field="name_en",
                               reason="use Latin letters, spaces, hyphens, commas and apostrophes")
    if not date(1900, 1, 1) <= row.born_on <= today:
        return RegistryProblem(line=line, field="born_on", reason="not a plausible date of birth")
    if not row.born_on <= row.issued_on <= today:
        return RegistryProblem(line=line, field="issued_on",
                               reason="must be between the date of birth and today")
    if not 5 <= len(row.address) <= 300:
        return RegistryProblem(line=line, field="address", reason="5 to 300 characters")
    return _Checked(line, number, " ".join(row.name_en.split()), row.born_on, row.issued_on,
                    row.address)


def load_registry_records(
    session: Session, registry_id: uuid.UUID, content: bytes, media: str, *, now: datetime
) -> RegistryLoadReport:
    """Load a batch of an issuing registry's records (CSV or JSON), atomically.

    Raises:
        RegistryRejected: the batch or a row is invalid; nothing was written.
    """
    registry = repository.get_registry(session, registry_id)
    if registry is None:
        raise NotFound(_("There is no such registry."), field="registry")
    if media not in ("csv", "json"):
        raise InvalidInput(_("Send CSV or JSON."), field="content-type")
    today = hk_date(now)
    checked: list[_Checked] = []
    problems: list[RegistryProblem] = []
    seen: dict[str, int] = {}
    for line, raw in _rows(content, media):
        result = _check(line, raw, registry.doc_kind, today)
        if isinstance(result, RegistryProblem):
            problems.append(result)
            continue
        if result.number in seen:
            problems.append(RegistryProblem(
                line=line, field="document_number",
                reason=f"the same document is on line {seen[result.number]}"))
            continue
        seen[result.number] = line
        checked.append(result)
    if not checked and not problems:
        raise RegistryRejected(_("The batch holds no records."), count=0)
    if problems:
        log.info("registry.rejected", registry=str(registry.id), rejected=len(problems))
        raise RegistryRejected(count=len(problems),
                               details=[p.model_dump() for p in problems[:_REPORTED]])
    indexes = {row.number: document_index(registry.doc_kind, row.number) for row in checked}
    on_file = repository.registry_records(session, registry.doc_kind, list(indexes.values()))
    inserted = updated = 0
    for row in checked:
        index = indexes[row.number]
        record = on_file.get(index)
        if record is None:
            record = RegistryRecord(registry_id=registry.id, doc_kind=registry.doc_kind,
                                    doc_index=index)
            session.add(record)
            inserted += 1
        else:
            updated += 1
        record.registry_id = registry.id
        record.name_en_sealed = seal_text("registry.name_en", row.name_en)
        record.born_on = row.born_on
        record.issued_on = row.issued_on
        record.address_sealed = seal_text("registry.address", row.address)
        record.updated_at = now
    session.flush()
    log.info("registry.loaded", registry=str(registry.id), rows=len(checked), inserted=inserted,
             updated=updated)
    return RegistryLoadReport(registry=registry.name, rows=len(checked), inserted=inserted,
                              updated=updated)


def registered_holder(session: Session, kind: str, number: str) -> tuple[str, date] | None:
    """Return the English name and birth date the issuing registry holds for a document.

    None when no registry has sent a record of it (or the number is not valid).
    """
    try:
        normalised = normalise(kind, number)
    except InvalidDocumentNumber:
        return None
    record = repository.registry_record(session, kind, document_index(kind, normalised))
    if record is None:
        return None
    return open_text("registry.name_en", record.name_en_sealed), record.born_on
