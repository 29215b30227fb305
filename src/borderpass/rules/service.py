"""Rule sets (load, validate, activate; every version kept) and a person's status."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from borderpass.evidence import service as evidence
from borderpass.kit.config import get_settings
from borderpass.kit.errors import Conflict, InvalidInput, NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.rules import repository
from borderpass.rules.models import RuleSetVersion
from borderpass.rules.ruleset import (
    InvalidRuleSet,
    RuleSet,
    compile_rule_set,
    default_document,
    default_rule_set,
    load_json,
    parse_rule_set,
)
from borderpass.rules.schemas import ReasonView, RuleSetView, StatusView
from borderpass.rules.status import Status, evaluate, restore

__all__ = [
    "InvalidRuleSet",
    "activate",
    "active_document",
    "active_rule_set",
    "digest_in_force_column",
    "list_rule_sets",
    "load",
    "restore",
    "rule_set_in_force",
    "rule_set_of_digest",
    "status",
    "status_view",
    "statuses",
]

log = get_logger(__name__)


class RuleSetExists(Conflict):
    code = "rule_set_exists"
    message = _("Version {version} of rule set {identifier} is already loaded.")


class ForeignRuleSet(InvalidInput):
    code = "foreign_rule_set"
    message = _("This rule set is for {theirs}; this platform applies the rules of {ours} "
                "(BORDERPASS_JURISDICTION). Load it without activating it, or set the "
                "jurisdiction.")


class RuleSetNotFound(NotFound):
    code = "rule_set_not_found"
    message = _("There is no such rule set.")


def view(row: RuleSetVersion) -> RuleSetView:
    return RuleSetView(
        id=row.id, identifier=row.identifier, version=row.version,
        jurisdiction=row.jurisdiction, valid_from=row.valid_from, valid_to=row.valid_to,
        loaded_at=row.loaded_at, active=row.active, activated_at=row.activated_at,
        rules=len(json.loads(row.document)["Rules"]),
    )


def load(
    session: Session, content: bytes | str, *, officer: uuid.UUID | None, now: datetime,
    activate_now: bool = False,
) -> RuleSetVersion:
    """Validate a rule-set document and keep it as a new version (inactive unless asked).

    Raises:
        InvalidRuleSet: the document, a rule or its logic is not valid.
        RuleSetExists: that identifier and version are already loaded.
    """
    document = parse_rule_set(load_json(content))
    if repository.find(session, document.identifier, document.version) is not None:
        raise RuleSetExists(field="Version", identifier=document.identifier,
                            version=document.version)
    text = document.model_dump_json(by_alias=True)
    row = RuleSetVersion(
        identifier=document.identifier, version=document.version,
        jurisdiction=document.jurisdiction, valid_from=document.valid_from,
        valid_to=document.valid_to, document=text,
        digest=hashlib.sha256(text.encode()).hexdigest(), loaded_at=now, loaded_by=officer,
        active=False,
    )
    repository.add(session, row)
    log.info("rules.loaded", rule_set=row.identifier, version=row.version, id=str(row.id))
    if activate_now:
        activate(session, row.id, officer=officer, now=now)
    return row


def activate(
    session: Session, rule_set_id: uuid.UUID, *, officer: uuid.UUID | None, now: datetime
) -> RuleSetVersion:
    """Make a loaded version the one in force for its jurisdiction."""
    row = repository.get(session, rule_set_id)
    if row is None:
        raise RuleSetNotFound(field="rule_set_id")
    ours = get_settings().jurisdiction
    if row.jurisdiction != ours:
        raise ForeignRuleSet(field="Jurisdiction", theirs=row.jurisdiction[:8], ours=ours)
    repository.deactivate_all(session, row.jurisdiction)
    row.active = True
    row.activated_at = now
    session.flush()
    log.info("rules.activated", rule_set=row.identifier, version=row.version,
             officer=str(officer) if officer else None)
    return row


def list_rule_sets(session: Session) -> list[RuleSetView]:
    """List every version of every rule set."""
    return [view(row) for row in repository.all_versions(session)]


@lru_cache(maxsize=16)
def _compiled(digest: str, text: str) -> RuleSet:
    return compile_rule_set(parse_rule_set(json.loads(text)))


_BY_DIGEST: dict[str, RuleSet] = {}  # the versions compiled in this process, by digest


@lru_cache(maxsize=1)
def _default_digest() -> str:
    # As ``load`` would digest the packaged document, were it loaded.
    text = parse_rule_set(load_json(default_document())).model_dump_json(by_alias=True)
    return hashlib.sha256(text.encode()).hexdigest()


def rule_set_in_force(session: Session) -> tuple[RuleSet, str]:
    """Return the rule set in force for this jurisdiction (the packaged one if none is
    loaded) and the digest of its document, which names its rules exactly.

    One small query: a version's document is read only the first time this process
    meets its digest.
    """
    jurisdiction = get_settings().jurisdiction
    return rule_set_of_digest(session, repository.active_digest(session, jurisdiction))


def digest_in_force_column() -> Any:
    """Return the digest of the rule set in force as a scalar subquery, for another
    domain's query that reads more besides; ``rule_set_of_digest`` reads its value."""
    return repository.active_digest_column(get_settings().jurisdiction)


def rule_set_of_digest(session: Session, digest: str | None) -> tuple[RuleSet, str]:
    """Return what ``rule_set_in_force`` returns, given the digest of the active version
    that a query read (None: no version is active)."""
    jurisdiction = get_settings().jurisdiction
    if digest is None:
        return default_rule_set(), _default_digest()
    found = _BY_DIGEST.get(digest)
    if found is None:
        row = repository.active(session, jurisdiction)
        if row is None:  # deactivated meanwhile
            return default_rule_set(), _default_digest()
        found = _compiled(row.digest, row.document)
        if len(_BY_DIGEST) >= 16:
            _BY_DIGEST.clear()
        _BY_DIGEST[row.digest] = found
        digest = row.digest
    return found, digest


def active_rule_set(session: Session) -> RuleSet:
    """Return the rule set in force for this jurisdiction (the packaged one if none is loaded)."""
    return rule_set_in_force(session)[0]


def active_document(session: Session) -> dict[str, object]:
    """Return the document of the rule set in force (the packaged one if none is loaded)."""
    row = repository.active(session, get_settings().jurisdiction)
    document = json.loads(row.document if row is not None else default_document())
    assert isinstance(document, dict)  # noqa: S101 - validated when it was loaded
    return document


def status(session: Session, person_id: uuid.UUID, *, now: datetime) -> Status:
    """Evaluate a person's status from their evidence under the rule set in force."""
    facts = evidence.facts_for(session, person_id, now)
    return evaluate(facts, active_rule_set(session), now)


def statuses(
    session: Session, people: Sequence[uuid.UUID], *, now: datetime,
    rule_set: RuleSet | None = None, contiguous: bool = False,
) -> dict[uuid.UUID, Status]:
    """Evaluate many people's statuses at once (set-based reads of their evidence, as
    ranges of ids with ``contiguous``: ``evidence.facts_for_many``), under ``rule_set``
    (by default the one in force)."""
    rule_set = rule_set or active_rule_set(session)
    return {person_id: evaluate(facts, rule_set, now)
            for person_id, facts in evidence.facts_for_many(
                session, people, now, contiguous=contiguous).items()}


def status_view(result: Status, *, now: datetime) -> StatusView:
    """Shape a status for the API, with each reason in the three languages."""
    return StatusView(
        colour=result.colour,
        reasons=[ReasonView(rule=rule.identifier, colour=rule.colour,
                            description=rule.description) for rule in result.reasons],
        changes_at=result.changes_at, evaluated_at=now, rule_set=result.rule_set,
    )
