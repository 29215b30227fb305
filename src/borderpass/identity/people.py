"""People on file: found by document number or address through blind indexes, listed,
and shown unsealed to themselves or an authorised officer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from borderpass.identity import repository
from borderpass.identity.documents import normalise_field
from borderpass.identity.models import Person
from borderpass.identity.schemas import PersonView
from borderpass.kit.errors import NotFound
from borderpass.kit.i18n import _
from borderpass.kit.vault import document_index, open_text

__all__ = [
    "active_people",
    "address_indexes",
    "find_holder",
    "find_person",
    "get_person",
    "is_proven",
    "people_at_addresses",
    "person_view",
    "standing_columns",
    "standing_of",
]


def find_person(session: Session, kind: str, number: str) -> Person | None:
    """Find the account that holds a document number (validated first), through its blind
    index: the proven holder, else the claimed account activated last, else the latest
    pending or suspended one."""
    normalised = normalise_field(kind, number)
    return repository.find_person_by_index(session, kind, document_index(kind, normalised))


def find_holder(session: Session, kind: str, number: str) -> Person | None:
    """Find the proven holder of a document number (validated first), if there is one.

    Evidence from laboratories, registries and officers goes to this person only.
    """
    normalised = normalise_field(kind, number)
    return repository.proven_holder(session, kind, document_index(kind, normalised))


def is_proven(session: Session, person_id: uuid.UUID) -> bool:
    """Tell whether a person is the active proven holder of their document."""
    person = repository.get_person(session, person_id)
    return person is not None and person.status == "active" and person.assurance == "proven"


def standing_columns(person_id: Any) -> tuple[Any, ...]:
    """Return what ``standing_of`` needs of a person as scalar subqueries, for another
    domain's query that reads more besides (one round trip); ``person_id`` is an id or
    the column of the other query that holds it."""
    return repository.standing_columns(person_id)


def standing_of(values: Sequence[Any]) -> tuple[bool, bool] | None:
    """Return, from the values of ``standing_columns``, whether the person is active and
    whether they are the active proven holder of their document (``is_proven``); None
    when there is no such person."""
    status, assurance = values
    if status is None:
        return None
    return status == "active", status == "active" and assurance == "proven"


def people_at_addresses(session: Session, address_indexes: Sequence[str]) -> list[uuid.UUID]:
    """Return the active residents whose address has one of these blind indexes."""
    return repository.active_people_at(session, sorted(set(address_indexes)))


def address_indexes(session: Session, person_ids: Sequence[uuid.UUID], *,
                    contiguous: bool = False) -> dict[uuid.UUID, str]:
    """Return the address blind index of each of these people (in one query per call);
    with ``contiguous``, read as the range from the least id to the greatest.

    Raises:
        NotFound: one of them is not a known person.
    """
    wanted = set(person_ids)
    found = repository.address_indexes_of(
        session, list(person_ids) if contiguous else sorted(wanted), contiguous=contiguous)
    if len(found) != len(wanted):
        found = {person_id: index for person_id, index in found.items() if person_id in wanted}
        if len(found) != len(wanted):
            raise NotFound(_("There is no such person."))
    return found


def active_people(session: Session, *, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """Return a page of active residents' ids in id order, starting after ``after``."""
    return repository.active_people_after(session, after, limit)


def active_people_ranges(session: Session, *, size: int) -> tuple[int, list[uuid.UUID]]:
    """Return how many residents are active, and the ids that split them, in id order, into
    ranges of ``size`` people (the first id of each range)."""
    return repository.count_active_people(session), repository.active_people_marks(session, size)


def active_people_between(session: Session, *, low: uuid.UUID | None,
                          high: uuid.UUID | None) -> list[uuid.UUID]:
    """Return the active residents' ids from ``low`` (included) to ``high`` (excluded)."""
    return repository.active_people_between(session, low, high)


def get_person(session: Session, person_id: uuid.UUID) -> Person:
    """Return a person by id."""
    person = repository.get_person(session, person_id)
    if person is None:
        raise NotFound(_("There is no such person."))
    return person


def person_view(person: Person) -> PersonView:
    """Unseal a person's record for display to that person or an authorised officer."""
    return PersonView(
        id=person.id,
        status=person.status,
        name_zh=open_text("person.name_zh", person.name_zh_sealed),
        name_en=open_text("person.name_en", person.name_en_sealed),
        initials=person.initials,
        document_kind=person.doc_kind,
        document_number=open_text("person.doc_number", person.doc_number_sealed),
        document_masked=person.doc_masked,
        document_issued_on=person.doc_issued_on,
        hrp_number=open_text("person.hrp", person.hrp_sealed) if person.hrp_sealed else None,
        phone=open_text("person.phone", person.phone_sealed),
        address=open_text("person.address", person.address_sealed),
        locale=person.locale,
        activated_at=person.activated_at,
        assurance=person.assurance,
        proven_at=person.proven_at,
        proof_method=person.proof_method,
    )
