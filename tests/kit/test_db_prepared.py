"""Statements run on the driver's cursor (kit/db ``Prepared``) read what SQLAlchemy reads,
convert parameters and values by their types, and fail as SQLAlchemy fails."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from borderpass.identity.models import ApiToken
from borderpass.kit.db import Prepared

_TOKENS = (select(ApiToken.principal_kind, ApiToken.principal_id, ApiToken.expires_at,
                  ApiToken.revoked_at, literal("fixed"),
                  select(func.count()).where(ApiToken.token_hash == bindparam("token_hash"))
                  .scalar_subquery())
           .where(ApiToken.token_hash == bindparam("token_hash"),
                  ApiToken.created_at < bindparam("now"))
           .order_by(ApiToken.token_hash))


def _token(session: Session, token_hash: str, now: datetime, **values: Any) -> None:
    session.add(ApiToken(token_hash=token_hash, principal_kind="resident",
                         principal_id=uuid.uuid4(), role="resident",
                         created_at=now - timedelta(hours=1), **values))
    session.flush()


def test_rows_are_what_sqlalchemy_reads(session: Session, now: datetime) -> None:
    _token(session, "a" * 64, now, expires_at=now + timedelta(days=1))
    _token(session, "b" * 64, now, revoked_at=now)
    prepared = Prepared(_TOKENS)
    connection = session.connection()
    for token_hash in ("a" * 64, "b" * 64, "c" * 64):
        params = {"token_hash": token_hash, "now": now}
        expected = [tuple(row) for row in connection.execute(_TOKENS, params)]
        assert prepared.rows(connection, params) == expected
    kind, principal, expires_at, revoked_at, fixed, count = \
        prepared.rows(connection, {"token_hash": "a" * 64, "now": now})[0]
    assert isinstance(principal, uuid.UUID) and kind == "resident"
    assert expires_at == now + timedelta(days=1) and expires_at.tzinfo is not None
    assert revoked_at is None and fixed == "fixed" and count == 1
    # Parameters go through their types too: a naive instant is refused, as always.
    with pytest.raises(ValueError, match="naive"):
        prepared.rows(connection, {"token_hash": "a" * 64,
                                   "now": now.astimezone(UTC).replace(tzinfo=None)})


def test_a_listener_sees_the_statement(session: Session, now: datetime) -> None:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", before)
    try:
        assert Prepared(_TOKENS).rows(connection, {"token_hash": "x", "now": now}) == []
    finally:
        event.remove(connection, "before_cursor_execute", before)
    assert len(seen) == 1 and "api_tokens" in seen[0]


def test_a_failure_is_raised_as_sqlalchemy_raises_it(session: Session, now: datetime) -> None:
    broken = Prepared(select(ApiToken.role).where(ApiToken.token_hash == bindparam("token_hash"))
                      .where(func.no_such_function(ApiToken.role) == "x"))
    with pytest.raises(DBAPIError), session.begin_nested():
        broken.rows(session.connection(), {"token_hash": "x"})
