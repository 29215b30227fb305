"""Partners' lists and codes converted from theirs.

A partner is another jurisdiction's instance whose anchor key is pinned here (the
relationship itself is the crossing domain's). Its signed trust list, revocation list
and rule set in force are accepted only when signed by that anchor, of that
jurisdiction, fresh, and not older than what is held (``accept_lists``). With them the
verifier checks the partner's codes offline like ours (``partner_stores``), and a code
converted from a partner's green code (``issue_converted``) is revoked as soon as the
partner's revocation list names the original.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from borderpass.healthcode import jobs as _declared  # noqa: F401 - the jobs sent below
from borderpass.healthcode import partner_repository as repository
from borderpass.healthcode import repository as codes
from borderpass.healthcode.codec import CodeClaims, code_hash, encode
from borderpass.healthcode.keys import ANCHOR_KEYS, CODE_KEYS, changed, signing_key
from borderpass.healthcode.lists import (
    PARTNER_LISTS,
    REVOCATIONS,
    RULE_SET,
    TRUST_LIST,
    ListError,
    TrustStore,
    iso,
    open_list,
    sign_list,
)
from borderpass.healthcode.models import CodeRevocation
from borderpass.healthcode.partner_models import ConvertedCode, PartnerLists
from borderpass.kit import jobs
from borderpass.kit.config import get_settings
from borderpass.kit.errors import InvalidInput
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.rules import service as rules

__all__ = [
    "Accepted",
    "Converted",
    "HeldLists",
    "ListRefused",
    "accept_lists",
    "anchor_kid",
    "forget_partner",
    "held_lists",
    "held_through",
    "issue_converted",
    "partner_lists",
    "partner_rule_set",
    "partner_section",
    "partner_sites",
    "partner_stores",
    "partners_version",
    "rule_set_list",
]

log = get_logger(__name__)
_SKEW = timedelta(minutes=5)

LIST_PROBLEMS = {
    "wrong_anchor": _("they are not signed by the anchor key pinned for this partner"),
    "bad_list_signature": _("their signature does not verify"),
    "bad_list": _("they cannot be read"),
    "wrong_jurisdiction": _("they are lists of another jurisdiction"),
    "list_older": _("they are older than the lists already held"),
    "list_stale": _("they are too old to be used"),
    "list_from_future": _("they are dated in the future"),
    "revocations_gap": _("the revocation list does not follow on from the one held"),
}


class ListRefused(InvalidInput):
    """A partner's lists were not accepted; ``code`` is the reason (``wrong_anchor`` …)."""

    code = "list_refused"
    message = _("The lists of {jurisdiction} were refused: {problem}.")

    def __init__(self, reason: str, jurisdiction: str) -> None:
        super().__init__(code=reason, jurisdiction=jurisdiction,
                         problem=LIST_PROBLEMS.get(reason, LIST_PROBLEMS["bad_list"]))


@dataclass(frozen=True)
class Accepted:
    """What accepting a partner's lists changed."""

    jurisdiction: str
    keys: int
    trust_issued_at: datetime
    through: int
    revoked: int
    """Revocation entries held for the partner now."""
    converted_revoked: int
    """Codes converted from the partner's that were revoked because it revoked the original."""
    rule_set: str | None


@dataclass(frozen=True)
class HeldLists:
    """A partner's lists as held, for operators and officers."""

    jurisdiction: str
    anchor: str
    keys: int
    trust_issued_at: datetime
    revocations_issued_at: datetime
    through: int
    revoked: int
    rule_set: str | None
    accepted_at: datetime


@dataclass(frozen=True)
class Converted:
    """A code issued in place of a partner's."""

    text: str
    colour: str
    issued_at: datetime
    valid_until: datetime
    original_issuer: str
    original_hash: str


def anchor_kid(*, now: datetime) -> str:
    """Return the hex key id of this jurisdiction's anchor key, which partners pin."""
    return signing_key(ANCHOR_KEYS, now).kid.hex()


def rule_set_list(session: Session, *, now: datetime) -> dict[str, str]:
    """Return the rule set in force as a list signed by the anchor key."""
    settings = get_settings()
    content = {
        "type": RULE_SET, "version": 1, "jurisdiction": settings.jurisdiction,
        "issued_at": iso(now), "rule_set": rules.active_document(session),
    }
    return sign_list(content, signing_key(ANCHOR_KEYS, now))


# --- accepting a partner's lists ---------------------------------------------------

def _instant(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ListError("bad_list")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ListError("bad_list")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ListError("bad_list") from None


def _fresh(issued_at: datetime, max_age: timedelta, now: datetime) -> None:
    if issued_at > now + _SKEW:
        raise ListError("list_from_future")
    if now - issued_at > max_age:
        raise ListError("list_stale")


def held_through(session: Session, jurisdiction: str, anchor: str) -> int:
    """Return the ``through`` of the partner's revocation list held under ``anchor``: a
    sync asks for what came after it (0: nothing is held, ask for the whole list)."""
    row = repository.get_lists(session, jurisdiction)
    if row is None or row.anchor != anchor.lower():
        return 0
    return row.revocations_through


def accept_lists(
    session: Session, jurisdiction: str, anchor: str, *, trust_list: object,
    revocations: object, rule_set: object | None, now: datetime, site_url: str | None = None,
) -> Accepted:
    """Check a partner's lists against its pinned anchor and keep them.

    The trust list and the revocation list must be signed by ``anchor``, be of
    ``jurisdiction``, be fresh and be no older than those held; the revocation list
    must follow on from the one held (``since`` at most the ``through`` held) or be
    whole (``since`` 0). The rule set, when given, is checked the same way. Codes
    converted from the partner's whose originals are now revoked are revoked too.
    ``site_url`` is where the partner's site converts our codes (the code page links it).

    Raises:
        ListRefused: the reason is the error's code: ``wrong_anchor``,
            ``bad_list_signature``, ``bad_list``, ``wrong_jurisdiction``, ``list_older``,
            ``list_stale``, ``list_from_future`` or ``revocations_gap``.
    """
    anchor = anchor.lower()
    try:
        accepted = _accept(session, jurisdiction, anchor, trust_list, revocations, rule_set,
                           now)
    except ListError as error:
        log.warning("partner.lists_refused", jurisdiction=jurisdiction, reason=error.reason)
        raise ListRefused(error.reason, jurisdiction) from None
    row = repository.get_lists(session, jurisdiction)
    if row is not None:
        row.site_url = site_url
    return accepted


def _accept(session: Session, jurisdiction: str, anchor: str, trust_list: object,
            revocations: object, rule_set: object | None, now: datetime) -> Accepted:
    store = TrustStore.from_trust_list(trust_list, anchor=anchor)
    if store.jurisdiction != jurisdiction or any(
            key.jurisdiction != jurisdiction for key in store.keys.values()):
        raise ListError("wrong_jurisdiction")
    _fresh(store.trust_issued_at, store.trust_max_age, now)
    held = repository.get_lists(session, jurisdiction)
    # A new anchor is pinned: nothing held under the old one counts, and once these lists
    # are accepted nothing of it is kept.
    superseded = held is not None and held.anchor != anchor
    if superseded:
        held = None
    if held is not None and store.trust_issued_at < held.trust_issued_at:
        raise ListError("list_older")

    # The revocation list is read as a verifier reads it (strictly, following on from
    # what is held), then kept in the database.
    held_through_ = held.revocations_through if held is not None else 0
    store.through = held_through_
    store.apply_revocations(revocations)
    content, _kid = open_list(revocations, REVOCATIONS, anchor=anchor)
    since, through = int(content["since"]), int(content["through"])
    if content.get("jurisdiction") != jurisdiction:
        raise ListError("wrong_jurisdiction")
    issued_at = store.revocations_issued_at
    assert issued_at is not None  # noqa: S101 - apply_revocations set it
    max_age = int(store.revocations_max_age.total_seconds())
    entries = list(store.revoked.items())
    _fresh(issued_at, store.revocations_max_age, now)
    if held is not None and (through < held_through_
                             or issued_at < held.revocations_issued_at):
        raise ListError("list_older")

    rule_set_text, rule_set_issued, rule_set_name = _rule_set(jurisdiction, anchor, rule_set,
                                                              held, now)
    if superseded:
        stale = repository.get_lists(session, jurisdiction)
        repository.delete_lists(session, jurisdiction)
        if stale is not None:
            session.expunge(stale)
    elif since == 0:
        repository.drop_revocations(session, jurisdiction)
    row = held or PartnerLists(jurisdiction=jurisdiction, anchor=anchor)
    row.trust_list = json.dumps(trust_list, sort_keys=True)
    row.trust_issued_at = store.trust_issued_at
    row.revocations_issued_at = issued_at
    row.revocations_max_age = max_age
    row.revocations_through = max(through, held_through_)
    if rule_set_text is not None:
        row.rule_set, row.rule_set_issued_at = rule_set_text, rule_set_issued
    row.accepted_at = now
    if held is None:
        repository.add(session, row)
    repository.save_revocations(session, jurisdiction,
                                [(code, expires) for code, expires in entries if expires > now])
    repository.drop_expired(session, jurisdiction, now)
    session.flush()

    converted = _revoke_converted(session, jurisdiction, [code for code, _e in entries], now)
    changed()
    held_count = len(repository.revocations_of(session, jurisdiction))
    log.info("partner.lists_accepted", jurisdiction=jurisdiction, keys=len(store.keys),
             through=row.revocations_through, revoked=held_count, converted_revoked=converted)
    return Accepted(jurisdiction, len(store.keys), store.trust_issued_at,
                    row.revocations_through, held_count, converted,
                    rule_set_name or _rule_set_name(row.rule_set))


def _rule_set(jurisdiction: str, anchor: str, envelope: object | None, held: PartnerLists | None,
              now: datetime) -> tuple[str | None, datetime | None, str | None]:
    """Check a partner's rule-set list; return its envelope as text, when and what it is."""
    if envelope is None:
        return None, None, None
    content, _kid = open_list(envelope, RULE_SET, anchor=anchor)
    if content.get("jurisdiction") != jurisdiction:
        raise ListError("wrong_jurisdiction")
    issued_at = _instant(content.get("issued_at"))
    if issued_at > now + _SKEW:
        raise ListError("list_from_future")
    if held is not None and held.rule_set_issued_at is not None \
            and issued_at < held.rule_set_issued_at:
        raise ListError("list_older")
    document = content.get("rule_set")
    if not isinstance(document, dict) or not isinstance(document.get("Identifier"), str) \
            or not isinstance(document.get("Version"), str):
        raise ListError("bad_list")
    text = json.dumps(envelope, sort_keys=True)
    return text, issued_at, f"{document['Identifier']}@{document['Version']}"


def _rule_set_document(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        content, _kid = open_list(json.loads(text), RULE_SET)
    except (ListError, ValueError):
        return None
    document = content.get("rule_set")
    return document if isinstance(document, dict) else None


def _rule_set_name(text: str | None) -> str | None:
    document = _rule_set_document(text)
    if document is None:
        return None
    return f"{document.get('Identifier')}@{document.get('Version')}"


def _revoke_converted(session: Session, jurisdiction: str, hashes: list[str],
                      now: datetime) -> int:
    """Revoke the codes converted from originals the partner has revoked."""
    found = repository.converted_revoked_by(session, jurisdiction, hashes, now)
    for code in found:
        code.revoked_at = now
    codes.add(session, *(CodeRevocation(code_hash=code.code_hash, revoked_at=now,
                                        expires_at=code.valid_until, reason="original_revoked")
                         for code in found))
    for code in found:
        log.info("code.revoked", converted=code.code_hash, original_issuer=jurisdiction,
                 reason="original_revoked")
    if found:
        jobs.enqueue(session, "healthcode.publish_lists")
    return len(found)


def forget_partner(session: Session, jurisdiction: str) -> bool:
    """Forget a partner's lists: its codes are no longer recognised. Codes already
    converted from its codes stay valid until they expire, the same day."""
    deleted = repository.delete_lists(session, jurisdiction) > 0
    if deleted:
        changed()
        log.info("partner.lists_forgotten", jurisdiction=jurisdiction)
    return deleted


# --- what a verifier holds of the partners -----------------------------------------

def _entry(row: PartnerLists, revoked: list[tuple[str, datetime]], now: datetime
           ) -> dict[str, Any]:
    """A partner as the partner lists give it (docs/formats/partner-lists.md)."""
    return {
        "jurisdiction": row.jurisdiction, "anchor": row.anchor,
        "trust_list": json.loads(row.trust_list),
        "revocations": {
            "issued_at": iso(row.revocations_issued_at),
            "max_age_seconds": row.revocations_max_age,
            "through": row.revocations_through,
            "entries": [{"hash": code, "expires_at": iso(expires)}
                        for code, expires in revoked if expires > now],
        },
    }


def _entries(session: Session, now: datetime) -> list[dict[str, Any]]:
    return [_entry(row, repository.revocations_of(session, row.jurisdiction), now)
            for row in repository.all_lists(session)]


def partner_stores(session: Session, *, now: datetime) -> dict[str, TrustStore]:
    """Return, by jurisdiction, a trust store for each partner whose lists are held."""
    stores: dict[str, TrustStore] = {}
    for entry in _entries(session, now):
        try:
            stores[entry["jurisdiction"]] = TrustStore.from_partner(entry)
        except ListError as error:  # held lists were checked when accepted
            log.error("partner.lists_unusable", jurisdiction=entry["jurisdiction"],
                      reason=error.reason)
    return stores


def partner_lists(session: Session, *, now: datetime) -> dict[str, Any] | None:
    """Return the content of the partner lists (docs/formats/partner-lists.md), or None
    when no partner's lists are held."""
    entries = _entries(session, now)
    if not entries:
        return None
    return {"type": PARTNER_LISTS, "version": 1, "jurisdiction": get_settings().jurisdiction,
            "issued_at": iso(now), "partners": entries}


def partner_section(session: Session, *, now: datetime) -> dict[str, str] | None:
    """Return the partner lists, signed by our anchor, for our verifiers (None: no partner)."""
    content = partner_lists(session, now=now)
    if content is None:
        return None
    return sign_list(content, signing_key(ANCHOR_KEYS, now))


def partners_version(session: Session) -> tuple[Any, ...]:
    """Return what changes when partners' lists are accepted or forgotten (one query)."""
    return repository.version(session)


def held_lists(session: Session) -> list[HeldLists]:
    """Describe each partner's lists as held."""
    counts = repository.count_revocations(session)
    held = []
    for row in repository.all_lists(session):
        held.append(HeldLists(row.jurisdiction, row.anchor, _key_count(row.trust_list),
                              row.trust_issued_at,
                              row.revocations_issued_at, row.revocations_through,
                              counts.get(row.jurisdiction, 0), _rule_set_name(row.rule_set),
                              row.accepted_at))
    return held


def partner_sites(session: Session) -> list[tuple[str, str]]:
    """Return (jurisdiction, site URL) of each partner whose lists are held and whose site
    converts codes: where a holder of our green code can have it converted."""
    return [(jurisdiction, site) for jurisdiction, site in repository.sites(session) if site]


def _key_count(trust_list: str) -> int:
    try:
        content, _kid = open_list(json.loads(trust_list), TRUST_LIST)
    except (ListError, ValueError):
        return 0
    keys = content.get("keys")
    return len(keys) if isinstance(keys, list) else 0


def partner_rule_set(session: Session, jurisdiction: str) -> dict[str, Any] | None:
    """Return the rule set a partner last published as in force, if it is held."""
    row = repository.get_lists(session, jurisdiction)
    return _rule_set_document(row.rule_set) if row is not None else None


# --- conversion --------------------------------------------------------------------

def issue_converted(
    session: Session, *, original_issuer: str, original_hash: str, initials: str,
    document: str, document_kind: str, valid_until: datetime, now: datetime,
) -> Converted:
    """Issue our green code in place of a partner's green code, or return the one
    already issued for it and still live.

    The code holds what the original showed (initials, masked document number and its
    kind), its validity, and the original's jurisdiction and hash; nothing else.
    """
    found = repository.converted_of(session, original_issuer, original_hash, now)
    if found is not None:
        return Converted(found.text, found.colour, found.issued_at, found.valid_until,
                         found.original_issuer, found.original_hash)
    settings = get_settings()
    key = signing_key(CODE_KEYS, now)
    code_id = secrets.token_bytes(16)
    issued_at = now.astimezone(UTC).replace(microsecond=0)
    until = valid_until.astimezone(UTC).replace(microsecond=0)
    claims = CodeClaims(
        issuer=settings.jurisdiction, code_id=code_id, issued_at=issued_at, valid_until=until,
        colour="green", initials=initials, document=document, document_kind=document_kind,
        original=(original_issuer, original_hash),
    )
    text = encode(claims, key, prefix=settings.code_prefix)
    repository.add(session, ConvertedCode(
        code_hash=code_hash(code_id), original_issuer=original_issuer,
        original_hash=original_hash, colour="green", kid=key.kid.hex(), issued_at=issued_at,
        valid_until=until, text=text,
    ))
    log.info("code.converted", original_issuer=original_issuer, kid=key.kid.hex())
    return Converted(text, "green", issued_at, until, original_issuer, original_hash)
