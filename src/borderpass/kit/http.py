"""What every endpoint depends on: the unit of work, the clock, the caller's token and
language. Endpoints name them with the ``Annotated`` aliases below."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker

from borderpass.kit.clock import utcnow
from borderpass.kit.db import session_factory, unit_of_work
from borderpass.kit.errors import Unauthorised
from borderpass.kit.i18n import normalise_locale

__all__ = [
    "DbSession", "Now", "bearer_token", "get_now", "get_session", "request_locale",
]


def get_factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] | None = getattr(request.app.state, "session_factory", None)
    if factory is None:
        factory = session_factory()
        request.app.state.session_factory = factory
    return factory


def get_session(request: Request) -> Iterator[Session]:
    """Open one unit of work for the request: commit on success, roll back on error."""
    with unit_of_work(get_factory(request)) as session:
        yield session


def get_now(request: Request) -> datetime:
    """Return the current instant; tests may pin the app's clock."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()


DbSession = Annotated[Session, Depends(get_session)]
Now = Annotated[datetime, Depends(get_now)]


def bearer_token(
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> str:
    """Return the bearer token or API key the caller sent."""
    if x_api_key:
        return x_api_key.strip()
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    raise Unauthorised()


def request_locale(request: Request) -> str:
    """Return the caller's language: the site's remembered choice, else Accept-Language."""
    return normalise_locale(
        request.cookies.get("locale") or request.headers.get("accept-language", "en")[:5]
    )
