"""The federation: the partner jurisdictions whose codes this instance recognises, and the
sync that fetches their signed lists over HTTP.

A partner is registered with its anchor key id pinned (``add_partner``), as the EU DCC
gateway's members pin each other's trust anchors. ``sync`` fetches the partner's trust
list, the revocations published since the last sync and the rule set in force, and
hands them to the health-code domain, which keeps them only when they are signed by the
pinned anchor, of that jurisdiction, fresh and no older than what it holds. A
scheduler runs ``borderpass partners sync`` every few minutes.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

import borderpass
from borderpass.crossing import partner_repository as repository
from borderpass.crossing.partner_models import Partner
from borderpass.healthcode import service as healthcode
from borderpass.kit.config import get_settings
from borderpass.kit.decoding import DecodeError, load_json
from borderpass.kit.errors import Conflict, InvalidInput, NotFound
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger

__all__ = [
    "FetchFailed",
    "Fetched",
    "Getter",
    "InvalidPartner",
    "PartnerExists",
    "PartnerNotFound",
    "PartnerView",
    "SyncResult",
    "add_partner",
    "conversion_url",
    "fetch_lists",
    "get_partner",
    "http_get",
    "list_partners",
    "record_sync",
    "remove_partner",
    "sync",
]

log = get_logger(__name__)

JURISDICTION = re.compile(r"[A-Z]{2,8}")
ANCHOR = re.compile(r"[0-9a-f]{16}")
MAX_LIST_BYTES = 16 * 1024 * 1024
TIMEOUT_SECONDS = 10.0


class InvalidPartner(InvalidInput):
    code = "invalid_partner"
    message = _("The partner is not valid: {problem}")


class PartnerExists(Conflict):
    code = "partner_exists"
    message = _("{jurisdiction} is already a partner. Give --replace to change its address or "
                "pinned anchor.")


class PartnerNotFound(NotFound):
    code = "partner_not_found"
    message = _("{jurisdiction} is not a partner of this instance.")


@dataclass(frozen=True)
class PartnerView:
    """A partner, how its last sync went and what is held of its lists."""

    jurisdiction: str
    url: str
    site_url: str
    anchor: str
    added_at: datetime
    last_sync_at: datetime | None
    last_result: str | None
    last_message: str | None
    last_success_at: datetime | None
    lists: healthcode.HeldLists | None


def _view(partner: Partner, held: dict[str, healthcode.HeldLists]) -> PartnerView:
    return PartnerView(partner.jurisdiction, partner.url, partner.site_url or partner.url,
                       partner.anchor, partner.added_at, partner.last_sync_at,
                       partner.last_result, partner.last_message, partner.last_success_at,
                       held.get(partner.jurisdiction))


def _base_url(url: str, name: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment or len(url) > 300:
        raise InvalidPartner(field=name, problem=_(
            "give the partner's address as http:// or https:// and a host, at most 300 "
            "characters, without a query"))
    return url


def add_partner(
    session: Session, jurisdiction: str, url: str, anchor: str, *, now: datetime,
    site_url: str | None = None, replace: bool = False,
) -> PartnerView:
    """Register a partner jurisdiction at ``url`` with its anchor key id pinned.

    Raises:
        InvalidPartner: the jurisdiction, address or anchor key id is not valid, or the
            jurisdiction is this instance's own.
        PartnerExists: the jurisdiction is a partner already and ``replace`` is not set.
    """
    jurisdiction = jurisdiction.strip().upper()
    if not JURISDICTION.fullmatch(jurisdiction):
        raise InvalidPartner(field="jurisdiction", problem=_(
            "a jurisdiction is 2 to 8 letters, such as GD or MO"))
    if jurisdiction == get_settings().jurisdiction:
        raise InvalidPartner(field="jurisdiction", problem=_(
            "this is the instance's own jurisdiction (BORDERPASS_JURISDICTION)"))
    anchor = anchor.strip().lower()
    if not ANCHOR.fullmatch(anchor):
        raise InvalidPartner(field="anchor", problem=_(
            "an anchor key id is 16 hexadecimal digits, as `borderpass keys anchor` prints "
            "on the partner's instance"))
    base = _base_url(url, "url")
    site = _base_url(site_url, "site_url") if site_url else None
    partner = repository.get(session, jurisdiction)
    if partner is not None and not replace:
        raise PartnerExists(field="jurisdiction", jurisdiction=jurisdiction)
    if partner is None:
        partner = Partner(jurisdiction=jurisdiction, url=base, site_url=site, anchor=anchor,
                          added_at=now)
        repository.add(session, partner)
    else:
        if partner.anchor != anchor:
            # Lists held under the old anchor are no longer trusted.
            healthcode.forget_partner(session, jurisdiction)
            partner.last_success_at = None
        partner.url, partner.site_url, partner.anchor = base, site, anchor
        session.flush()
    log.info("partner.added", jurisdiction=jurisdiction, url=base, anchor=anchor,
             replaced=replace)
    return _view(partner, {})


def remove_partner(session: Session, jurisdiction: str) -> None:
    """Stop recognising a partner: forget the relationship and the partner's lists.

    Raises:
        PartnerNotFound: it is not a partner.
    """
    jurisdiction = jurisdiction.strip().upper()
    if repository.get(session, jurisdiction) is None:
        raise PartnerNotFound(field="jurisdiction", jurisdiction=jurisdiction[:8])
    healthcode.forget_partner(session, jurisdiction)
    repository.delete_partner(session, jurisdiction)
    log.info("partner.removed", jurisdiction=jurisdiction)


def get_partner(session: Session, jurisdiction: str) -> PartnerView | None:
    """Return a partner, if the jurisdiction is one."""
    partner = repository.get(session, jurisdiction)
    if partner is None:
        return None
    return _view(partner, {held.jurisdiction: held for held in healthcode.held_lists(session)})


def list_partners(session: Session) -> list[PartnerView]:
    """List the partners, with how their last sync went and what is held of their lists."""
    held = {lists.jurisdiction: lists for lists in healthcode.held_lists(session)}
    return [_view(partner, held) for partner in repository.all_partners(session)]


def conversion_url(partner: PartnerView) -> str:
    """Return where a holder of our code converts it to the partner's."""
    return f"{partner.site_url}/convert"


# --- the sync ----------------------------------------------------------------------

class FetchFailed(Exception):
    """A partner's list could not be fetched; ``reason`` is a code such as ``unreachable``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


Getter = Callable[[str], tuple[int, bytes]]
"""Fetch a URL: return the HTTP status and the body (raising FetchFailed when there is
no answer)."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A partner's address is exact: a redirect is an answer of its own, not followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def http_get(url: str) -> tuple[int, bytes]:
    """Fetch ``url`` over HTTP(S) and return the status and at most 16 MiB of body.

    Raises:
        FetchFailed: ``unreachable`` (no answer within 10 s), ``too_large`` or ``bad_url``.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchFailed("bad_url", url)
    request = urllib.request.Request(url, headers={  # noqa: S310 - http(s) only, checked above
        "Accept": "application/json", "User-Agent": f"borderpass/{borderpass.__version__}"})
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(MAX_LIST_BYTES + 1)
            status = int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code), b""
    except (urllib.error.URLError, OSError) as error:
        raise FetchFailed("unreachable", str(getattr(error, "reason", error))[:200]) from None
    if len(body) > MAX_LIST_BYTES:
        raise FetchFailed("too_large", url)
    return status, body


@dataclass(frozen=True)
class Fetched:
    """A partner's signed lists as fetched, not yet checked."""

    trust_list: object
    revocations: object
    rule_set: object | None


def _json(get: Getter, url: str, *, optional: bool = False) -> object | None:
    status, body = get(url)
    if optional and status == 404:
        return None
    if status != 200:
        raise FetchFailed(f"http_{status}", url)
    try:
        content: object = load_json(body)
    except DecodeError as error:
        raise FetchFailed("not_json", f"{url}: {error.reason}") from None
    return content


def fetch_lists(url: str, since: int, *, get: Getter = http_get) -> Fetched:
    """Fetch a partner's trust list, its revocations after ``since`` and its rule set in
    force (a partner that publishes none gives ``None``).

    Raises:
        FetchFailed: a list could not be fetched or is not JSON.
    """
    return Fetched(
        trust_list=_json(get, f"{url}/api/trust-list"),
        revocations=_json(get, f"{url}/api/trust-list/revocations?since={max(0, since)}"),
        rule_set=_json(get, f"{url}/api/trust-list/rule-set", optional=True),
    )


@dataclass(frozen=True)
class SyncResult:
    """How one partner's sync went."""

    jurisdiction: str
    result: str
    """``ok``, or the reason: ``unreachable``, ``http_503``, ``wrong_anchor``, …"""
    message: str
    accepted: healthcode.Accepted | None = None

    @property
    def ok(self) -> bool:
        return self.result == "ok"


_FETCH_PROBLEMS = {
    "unreachable": _("the partner did not answer"),
    "too_large": _("a list is larger than 16 MiB"),
    "not_json": _("a list is not JSON"),
    "bad_url": _("the partner's address is not http:// or https://"),
}


def record_sync(session: Session, jurisdiction: str, fetched: Fetched | FetchFailed, *,
                now: datetime) -> SyncResult:
    """Hand fetched lists to the health-code domain (or record why none came) and note how
    the sync went.

    A refusal is recorded, not raised: the lists held before stay in use until they are
    too old.

    Raises:
        PartnerNotFound: the jurisdiction is no longer a partner.
    """
    partner = repository.get(session, jurisdiction)
    if partner is None:
        raise PartnerNotFound(field="jurisdiction", jurisdiction=jurisdiction[:8])
    partner.last_sync_at = now
    if isinstance(fetched, FetchFailed):
        problem = _FETCH_PROBLEMS.get(fetched.reason, _("the partner answered with an error"))
        result = SyncResult(jurisdiction, fetched.reason,
                            f"{problem} ({fetched.detail})" if fetched.detail else problem)
    else:
        try:
            with session.begin_nested():
                accepted = healthcode.accept_lists(
                    session, jurisdiction, partner.anchor, trust_list=fetched.trust_list,
                    revocations=fetched.revocations, rule_set=fetched.rule_set, now=now,
                    site_url=partner.site_url or partner.url)
        except healthcode.ListRefused as error:
            result = SyncResult(jurisdiction, error.code, error.render("en"))
        else:
            partner.last_success_at = now
            result = SyncResult(jurisdiction, "ok", "", accepted)
    partner.last_result = result.result[:32]
    partner.last_message = result.message[:300] or None
    session.flush()
    log.info("partner.synced", jurisdiction=jurisdiction, result=result.result)
    return result


def sync(unit: Callable[[], AbstractContextManager[Session]], *, now: datetime,
         only: str | None = None, get: Getter = http_get) -> list[SyncResult]:
    """Fetch each partner's lists (or only one partner's) and keep those that hold.

    The network is used between units of work (opened with ``unit``), never inside one,
    so a slow partner holds no database lock.

    Raises:
        PartnerNotFound: ``only`` names a jurisdiction that is not a partner.
    """
    with unit() as session:
        partners = [(p.jurisdiction, p.url, healthcode.held_through(session, p.jurisdiction,
                                                                     p.anchor))
                    for p in repository.all_partners(session)
                    if only is None or p.jurisdiction == only.strip().upper()]
    if only is not None and not partners:
        raise PartnerNotFound(field="jurisdiction", jurisdiction=only.strip().upper()[:8])
    results = []
    for jurisdiction, url, since in partners:
        fetched: Fetched | FetchFailed
        try:
            fetched = fetch_lists(url, since, get=get)
        except FetchFailed as failure:
            fetched = failure
        with unit() as session:
            results.append(record_sync(session, jurisdiction, fetched, now=now))
    return results
