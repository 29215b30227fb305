"""Long lists of values sent to the database as one parameter (kit/db ``among`` and
``array_literal``): what PostgreSQL reads back is exactly what was written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from borderpass.identity.models import Person
from borderpass.kit.db import among, array_literal
from tests.web.served import hkid


def _postgres(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("array literals are read by PostgreSQL only")


def test_literal_of_ids_is_their_hex() -> None:
    ids = [uuid.UUID(int=n) for n in (1, 2**128 - 1)]
    assert array_literal(ids) == "{" + f"{ids[0].hex},{ids[1].hex}" + "}"
    assert array_literal([]) == "{}"
    assert array_literal([ids[0], None]) == "{" + ids[0].hex + ",NULL}"


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        array_literal([datetime(2026, 1, 1)])  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize(("kind", "values"), [
    ("uuid", [uuid.uuid4() for _ in range(3)] + [None]),
    ("varchar", ["", "NULL", "a,b", "{x}", 'say "hi"', "back\\slash", " spaced ",
                 "香港", "line\nend", None]),
    ("timestamptz", [datetime(2026, 11, 30, 8, 1, 2, 345678, tzinfo=UTC),
                     datetime(1999, 1, 1, tzinfo=timezone(timedelta(hours=8))), None]),
    ("bigint", [0, -1, 2**62, None]),
    ("boolean", [True, False, None]),
    ("bytea", [b"", b"\x00\xff\\\"", None]),
])
def test_postgresql_reads_back_what_was_written(session: Session, kind: str,
                                                values: list[object]) -> None:
    _postgres(session)
    read = session.execute(text(f"SELECT CAST(:values AS {kind}[])"),
                           {"values": array_literal(values)}).scalar_one()
    if kind == "bytea":
        read = [None if value is None else bytes(value) for value in read]
    assert read == values


def test_among_finds_the_listed_people_only(session: Session,
                                            register_person: Callable[..., Any]) -> None:
    people = [register_person(hkid(serial)).id for serial in range(3)]
    session.flush()
    listed = [people[0], people[2], uuid.uuid4()]
    found = set(session.scalars(select(Person.id).where(among(session, Person.id, listed))))
    assert found == {people[0], people[2]}
