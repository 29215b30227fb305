"""The code page checks the session's access token in the query that reads the code, and
still refuses at once a token revoked, expired or not a resident's."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event

from borderpass.identity import repository as identity_repository
from borderpass.identity import service as identity
from borderpass.identity.caller import token_caller
from tests.healthcode.test_pages import sign_in_resident
from tests.web.test_pages import english


def _statements(session: Any) -> list[str]:
    """Collect the statements run on the test's connection from now on (but the
    savepoints that keep each unit of work inside the test's transaction)."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            seen.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", before)
    return seen


def test_a_view_reads_the_session_then_the_code_with_its_token(
    client: Any, register_person: Any, session: Any
) -> None:
    english(client)
    register_person()
    sign_in_resident(client)
    first = client.get("/code")  # the first view evaluates the status and issues the code
    assert first.status_code == 200 and 'class="code red"' in first.text
    assert client.get("/code").text == first.text  # read from the saved status
    seen = _statements(session)
    assert client.get("/code").text == first.text
    # The session's row, then the code, the status and the token in one query.
    assert len(seen) == 2, seen
    assert "web_sessions" in seen[0] and "api_tokens" in seen[1]


def test_a_revoked_token_is_refused_by_the_next_view(
    client: Any, register_person: Any, session: Any, now: datetime
) -> None:
    english(client)
    person = register_person()
    sign_in_resident(client)
    assert client.get("/code").status_code == 200
    assert client.get("/code").status_code == 200  # read from the saved status
    identity_repository.revoke_tokens_of(session, "resident", person.id, now)
    session.flush()
    refused = client.get("/code", follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"] == "/sign-in?next=/code"


def test_an_expired_sign_in_is_refused_by_the_next_view(
    app: Any, client: Any, register_person: Any, now: datetime
) -> None:
    english(client)
    register_person()
    sign_in_resident(client)
    assert client.get("/code").status_code == 200
    app.state.now = now + identity.RESIDENT_TOKEN_TTL + timedelta(seconds=1)
    refused = client.get("/code", follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"] == "/sign-in?next=/code"


def test_token_values_are_admitted_as_authenticate_admits_them(now: datetime) -> None:
    person = uuid.uuid4()
    later = now + timedelta(hours=1)
    admitted = token_caller(("resident", person, "resident", later, None), now, "resident")
    assert admitted is not None and admitted.id == person and admitted.kind == "resident"
    assert token_caller(("resident", person, "resident", None, None), now, "resident")
    assert token_caller(("resident", person, "resident", now, None), now, "resident") is None
    assert token_caller(("resident", person, "resident", later, now), now, "resident") is None
    assert token_caller((None, None, None, None, None), now, "resident") is None
    staff = ("staff", person, "help_desk", later, None)
    assert token_caller(staff, now, "resident") is None
    assert token_caller(staff, now, "help_desk", "supervisor") is not None
