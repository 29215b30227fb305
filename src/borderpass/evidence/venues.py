"""The venues a testing order can name, found through the check-in domain.

Venues belong to check-in, a layer above evidence, so evidence cannot ask for them
directly. ``wiring.wire()`` hands it check-in's two look-ups at start-up (as it connects
event handlers): a search by name or venue id, and the venues of given ids. The
officer's testing-order form uses them to offer venues and to check the ones chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy.orm import Session

from borderpass.evidence.schemas import VenueChoice
from borderpass.kit.errors import InvalidInput
from borderpass.kit.i18n import _

__all__ = [
    "UnknownVenue",
    "VenueFind",
    "VenueSearch",
    "find_venues",
    "reset_venue_directory",
    "search_venues",
    "use_venue_directory",
]

# (session, text, limit) -> the venues whose name or id matches, best first
VenueSearch = Callable[[Session, str, int], list[VenueChoice]]
# (session, venue ids) -> the venues found, by id
VenueFind = Callable[[Session, Sequence[str]], Mapping[str, VenueChoice]]

_DIRECTORY: dict[str, VenueSearch | VenueFind] = {}
SEARCH_LIMIT = 20


class UnknownVenue(InvalidInput):
    code = "unknown_venue"
    message = _("There is no venue with the id {venue_id}.")


def use_venue_directory(search: VenueSearch, find: VenueFind) -> None:
    """Name the look-ups that find venues (``wiring.wire`` gives check-in's)."""
    _DIRECTORY["search"] = search
    _DIRECTORY["find"] = find


def reset_venue_directory() -> None:
    """Forget the look-ups (``wiring.wire`` names them again)."""
    _DIRECTORY.clear()


def _search() -> VenueSearch:
    search = _DIRECTORY.get("search")
    if search is None:
        raise LookupError("no venue directory: call borderpass.wiring.wire() at start-up")
    return search  # type: ignore[return-value]  # stored under its own key


def _find() -> VenueFind:
    find = _DIRECTORY.get("find")
    if find is None:
        raise LookupError("no venue directory: call borderpass.wiring.wire() at start-up")
    return find  # type: ignore[return-value]  # stored under its own key


def search_venues(session: Session, text: str, *, limit: int = SEARCH_LIMIT) -> list[VenueChoice]:
    """Find venues by part of a name (in any language) or by venue id."""
    text = " ".join(text.split())
    if not text:
        return []
    return _search()(session, text, max(1, min(limit, 50)))


def find_venues(session: Session, venue_ids: Sequence[str]) -> list[VenueChoice]:
    """Return the venues of the given ids, in that order.

    Raises:
        UnknownVenue: an id names no venue.
    """
    wanted = list(dict.fromkeys(v.strip() for v in venue_ids if v.strip()))
    found = _find()(session, wanted) if wanted else {}
    for venue_id in wanted:
        if venue_id not in found:
            raise UnknownVenue(field="venues", venue_id=venue_id)
    return [found[venue_id] for venue_id in wanted]
