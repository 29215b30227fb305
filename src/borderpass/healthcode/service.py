"""Issuing codes, revoking them when a person turns red, and publishing the signed lists."""

from __future__ import annotations

import json
import math
import multiprocessing
import secrets
import threading
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from time import monotonic
from typing import Any

from sqlalchemy.orm import Session

from borderpass.evidence import service as evidence
from borderpass.evidence.events import EvidenceChanged
from borderpass.healthcode import jobs as _declared  # noqa: F401 - the jobs sent below
from borderpass.healthcode import partners, repository
from borderpass.healthcode.codec import CodeClaims, code_hash, encode
from borderpass.healthcode.foreignlist import foreign_list, foreign_trust
from borderpass.healthcode.keys import ANCHOR_KEYS, CODE_KEYS, generation, keystore
from borderpass.healthcode.keys import changed as _changed
from borderpass.healthcode.keys import signing_key as _key
from borderpass.healthcode.lists import (
    REVOCATIONS,
    TRUST_LIST,
    Federation,
    TrustStore,
    iso,
    sign_list,
)
from borderpass.healthcode.models import CodeRevocation, HealthCode, PersonStatus
from borderpass.healthcode.partners import (
    Accepted,
    Converted,
    HeldLists,
    ListRefused,
    accept_lists,
    anchor_kid,
    forget_partner,
    held_lists,
    held_through,
    issue_converted,
    partner_rule_set,
    partner_sites,
    rule_set_list,
)
from borderpass.healthcode.repository import LiveCode, SavedStatus
from borderpass.healthcode.verifier import Verdict, verify
from borderpass.identity import service as identity
from borderpass.identity.events import AccountSuspended
from borderpass.kit import jobs
from borderpass.kit.clock import HONG_KONG, end_of_day, hk_date
from borderpass.kit.config import get_settings
from borderpass.kit.errors import Forbidden, NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.signing import SigningKey
from borderpass.rules import service as rules
from borderpass.rules.ruleset import RuleSet
from borderpass.rules.status import FAR_FUTURE, Status

__all__ = [
    "ANCHOR_KEYS",
    "CODE_KEYS",
    "CachedVerifier",
    "codes_issued_per_day",
    "list_ages",
    "DayCount",
    "export",
    "current_code",
    "issue",
    "IssuedCode",
    "ShownCode",
    "shown_code",
    "on_evidence_changed",
    "reevaluate",
    "reevaluate_all",
    "revocation_list",
    "rotate_key",
    "trust_list",
    "todays_code",
    "trust_store",
    "verify_code",
    "identity_of_code",
    "on_account_suspended",
    # partners' lists and converted codes (healthcode/partners.py)
    "Accepted",
    "Converted",
    "HeldLists",
    "ListRefused",
    "accept_lists",
    "anchor_kid",
    "federation",
    "forget_partner",
    "held_lists",
    "held_through",
    "issue_converted",
    "partner_rule_set",
    "partner_sites",
    "rule_set_list",
]

log = get_logger(__name__)


class NotActive(Forbidden):
    code = "not_active"
    message = _("Only a registered, activated resident has a health code.")


@dataclass(frozen=True)
class IssuedCode:
    text: str
    colour: str
    issued_at: datetime
    valid_until: datetime
    status: Status


def _active(session: Session, person_id: uuid.UUID) -> Any:
    person = identity.get_person(session, person_id)
    if person.status != "active":
        raise NotActive()
    return person


def _validity(result: Status, now: datetime) -> tuple[datetime, SigningKey]:
    valid_until = end_of_day(now).astimezone(UTC)
    if result.changes_at is not None and result.changes_at < valid_until:
        valid_until = result.changes_at.astimezone(UTC)
    return valid_until.replace(microsecond=0), _key(CODE_KEYS, now)


def _basis(session: Session) -> tuple[RuleSet, str]:
    """Return the rule set in force and what a status evaluated now rests on besides the
    person's own evidence: that rule set's digest and the version of the facts that no
    ``EvidenceChanged`` announces (the high-risk areas)."""
    rule_set, digest = rules.rule_set_in_force(session)
    return rule_set, f"{digest}/{evidence.facts_version(session)}"


def _evaluated(session: Session, people: list[uuid.UUID], now: datetime,
               contiguous: bool = False) -> tuple[dict[uuid.UUID, Status], list[dict[str, Any]]]:
    """Evaluate these people's statuses as rows to save that may stand in for evaluating
    them again until their ``fresh_until``. Their rows must be held first
    (``repository.hold_statuses``), so that no other evaluation overwrites them with
    facts older than these. ``contiguous``: their facts are read as ranges of ids
    (``evidence.facts_for_many``)."""
    rule_set, basis = _basis(session)  # read before the facts: a later change shows
    results = rules.statuses(session, people, now=now, rule_set=rule_set,
                             contiguous=contiguous)
    settles = evidence.facts_change_at_many(session, list(results), now,
                                            contiguous=contiguous)
    rows = _status_rows(results, now)
    for row in rows:
        ends = [at for at in (row["changes_at"], settles[row["person_id"]]) if at is not None]
        row["fresh_until"] = min(ends) if ends else FAR_FUTURE
        row["basis"] = basis
    return results, rows


def _holding(session: Session, saved: PersonStatus | None, now: datetime) -> Status | None:
    """Return a saved status if it provably holds at ``now``: evaluated under the rule set
    in force and the same high-risk areas, after the last change of the person's evidence
    (which clears ``fresh_until``), and before its own ``fresh_until``.

    Two more small queries when the row looks fresh; none of the person's evidence.
    """
    if saved is None or not _may_hold(saved, now):
        return None
    return _holds(saved, now, *_basis(session))


def _may_hold(saved: PersonStatus | SavedStatus | None, now: datetime) -> bool:
    return not (saved is None or saved.fresh_until is None or saved.basis is None
                or not saved.evaluated_at <= now < saved.fresh_until
                or len(saved.reasons) >= _REASONS_LENGTH)  # cut short when saved


def _holds(saved: PersonStatus | SavedStatus, now: datetime, rule_set: RuleSet,
           basis: str) -> Status | None:
    """Return the saved status if it rests on ``basis`` (``_basis``) and still holds."""
    if not _may_hold(saved, now) or saved.basis != basis \
            or saved.rule_set != rule_set.name[:96]:
        return None
    return rules.restore(rule_set, saved.colour, saved.reasons.split(",") if saved.reasons
                         else [], saved.changes_at, now)


def _match(codes: Sequence[HealthCode | LiveCode], result: Status, valid_until: datetime,
           key: SigningKey) -> IssuedCode | None:
    for code in codes:
        if code.colour == result.colour and code.valid_until == valid_until \
                and code.kid == key.kid.hex():
            return IssuedCode(code.text, code.colour, code.issued_at, code.valid_until, result)
    return None


def _matching(session: Session, person_id: uuid.UUID, result: Status, valid_until: datetime,
              key: SigningKey, now: datetime) -> IssuedCode | None:
    return _match(repository.live_codes(session, person_id, now), result, valid_until, key)


def current_code(session: Session, person_id: uuid.UUID, *, now: datetime) -> IssuedCode | None:
    """Return today's code if it is already issued and still holds, writing nothing.

    Raises:
        NotActive: the person is not a registered, activated resident.
    """
    _active(session, person_id)
    saved, codes = repository.status_and_live_codes(session, person_id, now)
    result = _holding(session, saved, now)
    if result is None:
        result = rules.status(session, person_id, now=now)
        codes = repository.live_codes(session, person_id, now)
    return _match(codes, result, *_validity(result, now))


def issue(session: Session, person_id: uuid.UUID, *, now: datetime) -> IssuedCode:
    """Return today's code for a person: the one already issued if it still holds, else a new one.

    The person's status row is held first and the status evaluated and saved after. On
    PostgreSQL the row stays held until the commit, so concurrent first views queue there
    and each later one finds the code the first issued; on SQLite writers queue anyway.

    Raises:
        NotActive: the person is not a registered, activated resident.
    """
    person = _active(session, person_id)
    repository.hold_statuses(session, [person_id], now)
    results, rows = _evaluated(session, [person_id], now)
    repository.save_statuses(session, rows)
    result = results[person_id]
    valid_until, key = _validity(result, now)
    found = _matching(session, person_id, result, valid_until, key, now)
    if found is not None:
        return found
    code_id = secrets.token_bytes(16)
    issued_at = now.astimezone(UTC).replace(microsecond=0)
    claims = CodeClaims(
        issuer=get_settings().jurisdiction, code_id=code_id, issued_at=issued_at,
        valid_until=valid_until, colour=result.colour, initials=person.initials,
        document=person.doc_masked, document_kind=person.doc_kind,
    )
    text = encode(claims, key, prefix=get_settings().code_prefix)
    repository.add(session, HealthCode(
        person_id=person_id, code_hash=code_hash(code_id), colour=result.colour,
        kid=key.kid.hex(), issued_at=issued_at, valid_until=valid_until, text=text,
    ))
    log.info("code.issued", person=str(person_id), colour=result.colour, kid=key.kid.hex())
    return IssuedCode(text, result.colour, issued_at, valid_until, result)


@dataclass(frozen=True)
class ShownCode:
    """Today's code as a view reads it, with what else the view shows."""

    issued: IssuedCode
    proven: bool
    """Whether the holder is the active proven holder of their document."""
    basis: str | None = None
    """What the status rests on besides the person's evidence (``_basis``) when it was
    read from the saved status; None when it was evaluated for this view."""


@lru_cache(maxsize=4)
def _saved_code_query(_jurisdiction: str) -> tuple[Any, int]:
    """Return the query ``_saved_code`` reads with (built once per jurisdiction) and the
    number of columns of the person's standing in it."""
    standing = identity.standing_columns(PersonStatus.person_id)
    return repository.status_codes_and_query(
        [*standing, rules.digest_in_force_column(), *evidence.facts_version_columns()]
    ), len(standing)


def _saved_code(session: Session, person_id: uuid.UUID, now: datetime) -> ShownCode | None:
    """Return today's code from the saved status if that provably holds and the code for
    it is issued, in one query (the status, the live codes, the person's standing, the
    rules' digest and the areas' version); None otherwise.

    Raises:
        NotActive: the person is not a registered, activated resident.
    """
    query, standing = _saved_code_query(get_settings().jurisdiction)
    read = repository.status_codes_and(session, query, person_id, now)
    if read is None:
        return None
    saved, codes, values = read
    return _saved_shown(session, saved, codes, values, standing, now)


def _saved_shown(session: Session, saved: SavedStatus, codes: list[LiveCode],
                 values: tuple[Any, ...], standing: int, now: datetime) -> ShownCode | None:
    """Return today's code from what ``_saved_code``'s query read, if the saved status
    provably holds and the code for it is issued; None otherwise.

    Raises:
        NotActive: the person is not a registered, activated resident.
    """
    found = identity.standing_of(values[:standing])
    if found is None:
        return None  # no such person: the full path says so
    active, proven = found
    if not active:
        raise NotActive()
    if not _may_hold(saved, now):
        return None
    rule_set, digest = rules.rule_set_of_digest(session, values[standing])
    basis = f"{digest}/{evidence.facts_version_of(values[standing + 1:])}"
    holding = _holds(saved, now, rule_set, basis)
    if holding is None:
        return None
    issued = _match(codes, holding, *_validity(holding, now))
    return ShownCode(issued, proven, basis) if issued is not None else None


_TOKEN_COLUMNS = 5  # identity.token_columns


@lru_cache(maxsize=4)
def _token_code_query(_jurisdiction: str) -> tuple[Any, int]:
    """Return the query ``shown_code_of_token`` reads with: ``_saved_code``'s, of the
    person a token names, with the token's columns last (``identity.token_columns``)."""
    token = identity.token_columns()  # the query's parameter ``token_hash``
    standing = identity.standing_columns(PersonStatus.person_id)
    return repository.status_codes_and_query(
        [*standing, rules.digest_in_force_column(), *evidence.facts_version_columns(),
         *token], person=token[1]), len(standing)


def shown_code_of_token(session: Session, token_hash: str, *, now: datetime,
                        admits: Callable[[Sequence[Any]], bool]) -> ShownCode | None:
    """Return today's code of the person an access token names as ``_saved_code`` reads
    it, with the token in the same query (one round trip for a signed-in page): None
    when the token names no one with a saved status, when ``admits`` refuses the token's
    values (``identity.token_columns``; it authenticates them), or when the saved status
    does not provably hold. The caller then authenticates the token and reads the code
    as usual (``shown_code``), which says why.

    Raises:
        NotActive: the token is admitted and its holder is not a registered, activated
            resident.
    """
    query, standing = _token_code_query(get_settings().jurisdiction)
    read = repository.status_codes_and(session, query, None, now, token_hash=token_hash)
    if read is None:
        return None
    saved, codes, values = read
    if not admits(values[-_TOKEN_COLUMNS:]):
        return None
    return _saved_shown(session, saved, codes, values[:-_TOKEN_COLUMNS], standing, now)


def shown_code(session: Session, person_id: uuid.UUID, *, now: datetime,
               writer: Callable[[], AbstractContextManager[Session]]) -> ShownCode:
    """Return today's code as ``todays_code`` does, and whether its holder is proven.

    Raises:
        NotActive: the person is not a registered, activated resident.
    """
    found = _saved_code(session, person_id, now)
    if found is not None:
        return found
    _active(session, person_id)
    with writer() as writing:
        issued = issue(writing, person_id, now=now)
    return ShownCode(issued, identity.is_proven(session, person_id))


def todays_code(session: Session, person_id: uuid.UUID, *, now: datetime,
                writer: Callable[[], AbstractContextManager[Session]]) -> IssuedCode:
    """Return today's code reading only, from the saved status while it provably holds
    (one query); otherwise (the first view of the day, after a change of status or of
    the evidence, rules or areas it rests on) evaluate it, save it and issue the code if
    need be, in a unit of work opened by ``writer``.

    Raises:
        NotActive: the person is not a registered, activated resident.
    """
    found = _saved_code(session, person_id, now)
    if found is not None:
        return found.issued
    _active(session, person_id)
    with writer() as writing:
        return issue(writing, person_id, now=now)


def issue_for_document(session: Session, kind: str, number: str, *, now: datetime) -> IssuedCode:
    """Return today's code for the registered person holding a document."""
    person = identity.find_person(session, kind, number)
    if person is None:
        raise NotActive(_("No registered, activated resident holds that document."),
                        field="number")
    return issue(session, person.id, now=now)


def revoke_codes(session: Session, person_id: uuid.UUID, *, now: datetime, reason: str,
                 include_red: bool = False) -> int:
    """Revoke a person's live codes that are not red (all of them with ``include_red``);
    return how many were revoked."""
    count = 0
    for code in repository.live_codes(session, person_id, now):
        if code.colour == "red" and not include_red:
            continue
        code.revoked_at = now
        repository.add(session, CodeRevocation(code_hash=code.code_hash, revoked_at=now,
                                               expires_at=code.valid_until, reason=reason))
        count += 1
    if count:
        _changed()
        jobs.enqueue(session, "healthcode.publish_lists")
        log.info("code.revoked", person=str(person_id), codes=count, reason=reason)
    return count


REEVALUATE_CHUNK = 2_000


def reevaluate(session: Session, people: list[uuid.UUID], *, now: datetime,
               contiguous: bool = False) -> dict[uuid.UUID, str]:
    """Re-evaluate the status of these people only; revoke the codes of those now red.

    Set-based: per chunk of people, their facts are read with a constant number of
    queries, their statuses saved with one statement and the codes of those now red
    revoked together. ``contiguous`` says the people are ids taken in order (a page of
    a population run): their rows are then read as ranges of ids, which gives the same
    result for less work when few others lie between them.
    """
    colours: dict[uuid.UUID, str] = {}
    unique = list(dict.fromkeys(people))
    for start in range(0, len(unique), REEVALUATE_CHUNK):
        chunk = unique[start:start + REEVALUATE_CHUNK]
        saved = repository.lock_statuses(session, chunk, now)  # each one saved below
        _results, rows = _evaluated(session, chunk, now, contiguous)
        _apply(session, rows, now, saved)
        colours.update((row["person_id"], row["colour"]) for row in rows)
    return colours


_REASONS_LENGTH = 400  # the column's


def _status_rows(results: dict[uuid.UUID, Status], now: datetime) -> list[dict[str, Any]]:
    """Rows of statuses not known to hold past ``now`` (facts read without holding the rows)."""
    return [{"person_id": person_id, "colour": result.colour,
             "reasons": ",".join(result.rule_ids)[:_REASONS_LENGTH],
             "changes_at": result.changes_at, "evaluated_at": now,
             "rule_set": result.rule_set[:96], "fresh_until": None, "basis": None}
            for person_id, result in results.items()]


def _apply(session: Session, rows: list[dict[str, Any]], now: datetime,
           saved: dict[uuid.UUID, tuple[Any, ...]] | None = None) -> None:
    repository.save_statuses(session, rows, saved)
    _revoke_many(session, [row["person_id"] for row in rows if row["colour"] == "red"],
                 now=now, reason="turned_red")


_WORKER_ENGINES: dict[str, Any] = {}


def _evaluate_page(task: tuple[str, list[uuid.UUID], datetime]) -> list[dict[str, Any]]:
    """In a worker process: read the facts of a page of people and evaluate them."""
    from borderpass.kit.db import engine_for

    url, page, now = task
    engine = _WORKER_ENGINES.get(url)
    if engine is None:
        engine = _WORKER_ENGINES[url] = engine_for(url, read_only=True)
    with Session(engine) as session:
        return _status_rows(rules.statuses(session, page, now=now), now)


def reevaluate_all(
    session: Session, *, now: datetime, batch: int = 10_000, workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Re-evaluate every active resident, a batch at a time; return how many of each colour.

    With ``workers`` above 1, that many processes read the facts and evaluate pages of
    people from committed data while this session writes statuses and revocations.
    """
    counts = {"green": 0, "amber": 0, "red": 0}
    pages: list[list[uuid.UUID]] = []
    after: uuid.UUID | None = None
    while page := identity.active_people(session, after=after, limit=batch):
        pages.append(page)
        after = page[-1]
    done = 0
    if workers > 1 and pages:
        url = session.get_bind().engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(workers, len(pages))) as pool:
            # The pages are listed beforehand: the pool's feeder thread never touches the session.
            for rows in pool.imap(_evaluate_page, [(url, page, now) for page in pages]):
                _apply(session, rows, now)
                for row in rows:
                    counts[row["colour"]] += 1
                done += len(rows)
                if progress is not None:
                    progress(done)
    else:
        for page in pages:
            for colour in reevaluate(session, page, now=now).values():
                counts[colour] += 1
            done += len(page)
            if progress is not None:
                progress(done)
    log.info("status.reevaluated_all", people=done, workers=workers, **counts)
    return counts


def _revoke_many(session: Session, people: list[uuid.UUID], *, now: datetime, reason: str) -> None:
    """Revoke the live codes that are not red of these people, together."""
    if not people:
        return
    codes = repository.live_codes_not_red(session, people, now)
    order = {person_id: n for n, person_id in enumerate(people)}
    codes.sort(key=lambda code: order[code.person_id])  # stable: newest first per person
    per_person: dict[uuid.UUID, int] = {}
    for code in codes:
        code.revoked_at = now
        per_person[code.person_id] = per_person.get(code.person_id, 0) + 1
    repository.add(session, *(CodeRevocation(code_hash=code.code_hash, revoked_at=now,
                                             expires_at=code.valid_until, reason=reason)
                              for code in codes))
    if codes:
        _changed()
        jobs.enqueue(session, "healthcode.publish_lists")
    for person_id, count in per_person.items():
        log.info("code.revoked", person=str(person_id), codes=count, reason=reason)


def on_evidence_changed(session: Session, event: EvidenceChanged) -> None:
    """Re-evaluate the people whose evidence changed (revoking the codes of those now red).

    Past ``reevaluate_inline_max`` people, they are re-evaluated by background jobs of a
    chunk each, sent once the change commits, so that a large batch is acknowledged
    without waiting for them.
    """
    people = list(dict.fromkeys(event.people))
    if len(people) <= get_settings().reevaluate_inline_max:
        reevaluate(session, people, now=event.now)
        return
    for start in range(0, len(people), REEVALUATE_CHUNK):
        # Until its job runs, no view takes a saved status of these people as it is.
        repository.hold_statuses(session, people[start:start + REEVALUATE_CHUNK], event.now)
        jobs.enqueue(session, "healthcode.reevaluate",
                     [str(person) for person in people[start:start + REEVALUATE_CHUNK]])
    log.info("status.reevaluation_queued", people=len(people), cause=event.cause)


def on_account_suspended(session: Session, event: AccountSuspended) -> None:
    """Revoke every live code of a suspended account, whatever its colour: the code names
    a document whose holder is now someone else."""
    revoke_codes(session, event.person_id, now=event.now, reason="account_suspended",
                 include_red=True)


def identity_of_code(session: Session, code_id_hash: str) -> str | None:
    """Return the assurance of the account a code was issued to (``claimed`` or
    ``proven``), as this server knows it; None for a code it did not issue.

    The code itself does not carry it (docs/formats/health-code.md); an online check does.
    """
    code = repository.find_code(session, code_id_hash)
    if code is None:
        return None
    try:
        return identity.get_person(session, code.person_id).assurance
    except NotFound:
        return None


def trust_list(*, now: datetime) -> dict[str, str]:
    """Return the signed trust list of the jurisdiction's issuer keys."""
    settings = get_settings()
    store = keystore()
    _key(CODE_KEYS, now)
    keys = [
        {
            "kid": record.kid.hex(),
            "jurisdiction": settings.jurisdiction,
            "alg": "ES256",
            "public_key": store.key(record.kid).public.to_b64(),
            "valid_from": iso(record.created_at),
            "valid_until": iso(record.valid_until) if record.valid_until else None,
        }
        for record in store.published(CODE_KEYS, now=now)
    ]
    content = {
        "type": TRUST_LIST, "version": 1, "jurisdiction": settings.jurisdiction,
        "issued_at": iso(now), "max_age_seconds": settings.trust_list_max_age_hours * 3600,
        "keys": keys,
    }
    return sign_list(content, _key(ANCHOR_KEYS, now))


def revocation_list(session: Session, *, since: int = 0, now: datetime) -> dict[str, str]:
    """Return the signed revocation list: entries after ``since`` whose codes have not expired."""
    settings = get_settings()
    since = max(0, since)
    entries = repository.revocations_since(session, since, now)
    through = max([since, repository.last_seq(session)])
    content: dict[str, Any] = {
        "type": REVOCATIONS, "version": 1, "jurisdiction": settings.jurisdiction,
        "issued_at": iso(now), "max_age_seconds": settings.revocation_list_max_age_hours * 3600,
        "poll_seconds": settings.revocation_poll_seconds, "since": since, "through": through,
        "entries": [{"seq": entry.seq, "hash": entry.code_hash,
                     "expires_at": iso(entry.expires_at)} for entry in entries],
    }
    return sign_list(content, _key(ANCHOR_KEYS, now))


def export(session: Session, *, now: datetime, foreign: bool = True) -> dict[str, Any]:
    """Return the trust list and the full revocation list together, as a verifier's file,
    with the partner lists when partners' lists are held (docs/formats/partner-lists.md)
    and, when ``foreign`` and other issuers' trust material is held, the list of it the
    scanner verifies their certificates with offline (docs/formats/dcc.md, shc.md)."""
    bundle: dict[str, Any] = {"trust_list": trust_list(now=now),
                              "revocations": revocation_list(session, now=now)}
    section = partners.partner_section(session, now=now)
    if section is not None:
        bundle["partners"] = section
    if foreign:
        content = foreign_list(foreign_trust(), now=now)
        if content is not None:
            bundle["foreign"] = sign_list(content, _key(ANCHOR_KEYS, now))
    return bundle


def trust_store(session: Session, *, now: datetime) -> TrustStore:
    """Return a trust store made from the lists as they are now."""
    return TrustStore.from_bundle(json.loads(json.dumps(export(session, now=now,
                                                                  foreign=False))))


def federation(session: Session, *, now: datetime) -> Federation:
    """Return our trust store and our partners' stores, made from the lists as they are now."""
    return Federation.from_bundle(json.loads(json.dumps(export(session, now=now,
                                                                   foreign=False))))


def verify_code(session: Session, text: str, *, now: datetime) -> Verdict:
    """Check a code, ours or a partner's, as an offline verifier would, with lists fresh
    from the database."""
    return verify(text, federation(session, now=now), now=now, prefix=get_settings().code_prefix)


class CachedVerifier:
    """The verify API's lists, kept in memory and rebuilt when they change.

    Each ``check_seconds`` at most, ``refresh`` compares the last revocation number and
    the published keys with those the store was built from (one small query and the key
    index); a revocation, key rotation or partner's lists accepted in this process is
    seen at once, and partners' lists accepted elsewhere at the next check. The store is
    also rebuilt well before its lists would be too old to trust.
    """

    def __init__(self, *, check_seconds: float = 1.0, rebuild_seconds: float = 600.0) -> None:
        self.check_seconds = check_seconds
        self.rebuild_seconds = rebuild_seconds
        self._store: Federation | None = None
        self._source: tuple[Any, ...] = ()
        self._generation = -1
        self._checked = self._built = -math.inf
        self._lock = threading.Lock()

    def stale(self) -> bool:
        """Tell whether ``refresh`` is due (it reads the database, so not on the event loop)."""
        return (self._store is None or self._generation != generation()
                or monotonic() - self._checked >= self.check_seconds)

    def refresh(self, session: Session, *, now: datetime) -> None:
        """Rebuild the store if the lists changed since it was built."""
        with self._lock:
            if not self.stale():
                return
            current = generation()
            source = (repository.last_seq(session),
                      tuple((r.kid, r.valid_until) for r in keystore().published(CODE_KEYS,
                                                                                   now=now)),
                      partners.partners_version(session))
            age = monotonic() - self._built
            if self._store is None or source != self._source or age >= self.rebuild_seconds \
                    or current != self._generation:
                self._store = federation(session, now=now)
                self._source, self._built = source, monotonic()
            self._generation, self._checked = current, monotonic()

    def verify(self, text: str, *, now: datetime) -> Verdict:
        """Check a code against the lists held in memory (``refresh`` first when stale)."""
        store = self._store
        if store is None:
            raise RuntimeError("the verifier has not been refreshed yet")
        return verify(text, store, now=now, prefix=get_settings().code_prefix)


def rotate_key(*, now: datetime) -> str:
    """Make a new code-signing key current; codes under the old one stay valid until they expire."""
    grace = timedelta(hours=get_settings().key_grace_hours)
    key = keystore().rotate(CODE_KEYS, now=now, grace=grace)
    _changed()
    log.info("signing.key_rotated", kid=key.kid.hex())
    return key.kid.hex()



def list_ages(session: Session, *, now: datetime) -> dict[str, float]:
    """Return how long ago the content of the trust list and of the revocation list last
    changed, in seconds (both lists are signed afresh whenever they are fetched).

    The trust list changes when a code key is made or retired; the revocation list when
    an entry is added. A list that has never had content is left out.
    """
    ages: dict[str, float] = {}
    records = keystore().published(CODE_KEYS, now=now)
    events = [at for record in records for at in (record.created_at, record.retired_at)
              if at is not None]
    if events:
        ages["trust"] = max(0.0, (now - max(events)).total_seconds())
    revoked_at = repository.last_revoked_at(session)
    if revoked_at is not None:
        ages["revocations"] = max(0.0, (now - revoked_at).total_seconds())
    return ages


@dataclass(frozen=True)
class DayCount:
    """Codes issued on one Hong Kong day, by colour."""

    day: date
    green: int
    amber: int
    red: int


def codes_issued_per_day(session: Session, *, days: int, now: datetime) -> list[DayCount]:
    """Count the codes issued on each of the last ``days`` Hong Kong days, by colour."""
    days = max(1, min(days, 366))
    today = hk_date(now)
    dates = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    edges = [datetime.combine(day, time(0), tzinfo=HONG_KONG).astimezone(UTC)
             for day in [*dates, today + timedelta(days=1)]]
    counts: dict[tuple[int, str], int] = {}
    for index, colour, count in repository.count_issued(session, edges):
        counts[(index, colour)] = counts.get((index, colour), 0) + count
    return [DayCount(day, counts.get((index, "green"), 0), counts.get((index, "amber"), 0),
                     counts.get((index, "red"), 0)) for index, day in enumerate(dates)]
