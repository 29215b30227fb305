"""Who is calling: the API's bearer token and the site's signed-in session, and the
roles an endpoint admits. Endpoints name the caller with ``Caller``, ``MaybeCaller``,
``require(...)`` or ``require_page(...)``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from borderpass.identity import service as identity
from borderpass.identity.schemas import Principal
from borderpass.kit.errors import Unauthorised
from borderpass.kit.http import DbSession, Now, bearer_token
from borderpass.kit.i18n import _
from borderpass.kit.pages import csrf_token
from borderpass.kit.sessions import load_session

__all__ = [
    "Caller", "MaybeCaller", "SignInRequired", "get_caller", "page_caller", "remember_sign_in",
    "require", "require_page", "session_token", "sign_out_page", "signed_in", "token_caller",
]


class SignInRequired(Unauthorised):
    code = "sign_in_required"
    message = _("Please sign in to see this page.")


def get_caller(
    session: DbSession, now: Now, token: Annotated[str, Depends(bearer_token)]
) -> Principal:
    """Return who is calling, from their token."""
    return identity.authenticate(session, token, now=now)


Caller = Annotated[Principal, Depends(get_caller)]


def require(*roles: str) -> Any:
    """Return a dependency that admits only callers holding one of ``roles``."""

    # On the event loop: it reads nothing, and a thread for it would cost more than it does.
    async def check(caller: Caller) -> Principal:
        return identity.require_role(caller, *roles)

    return Depends(check)


def remember_sign_in(request: Request, *, token: str, role: str, kind: str, name: str) -> None:
    """Start a fresh session for a caller who just signed in (a new CSRF token too)."""
    request.session.clear()
    request.session.update({"token": token, "role": role, "kind": kind, "name": name})
    csrf_token(request)


def sign_out_page(request: Request, session: Session, now: datetime) -> None:
    """Revoke the session's access token and forget the session."""
    token = request.session.get("token")
    if token:
        identity.sign_out(session, token, now=now)
    request.session.clear()


def page_caller(request: Request, session: DbSession, now: Now) -> Principal | None:
    """Return who is signed in to the site, or ``None``; a stale session is forgotten."""
    token = request.session.get("token")
    if not token:
        return None
    try:
        return identity.authenticate(session, token, now=now)
    except Unauthorised:
        request.session.clear()
        return None


MaybeCaller = Annotated[Principal | None, Depends(page_caller)]


def signed_in(request: Request, session: Session, now: datetime, *roles: str) -> Principal:
    """Return who is signed in to the site if they hold one of ``roles``, as
    ``require_page`` admits them, for a page that reads in a worker thread of its own.

    Raises:
        SignInRequired: no one is signed in, or the sign-in is no longer valid.
        Forbidden: the caller holds none of ``roles``.
    """
    load_session(request, session, now)  # a deferred page's session is read here
    caller = page_caller(request, session, now)
    if caller is None:
        raise SignInRequired()
    return identity.require_role(caller, *roles)


def session_token(request: Request, session: Session, now: datetime) -> str | None:
    """Return the access token the site's session holds, if any, reading a deferred
    page's session first (as ``signed_in`` does); nothing is authenticated yet."""
    load_session(request, session, now)
    token = request.session.get("token")
    return token if isinstance(token, str) and token else None


def token_caller(values: Sequence[Any], now: datetime, *roles: str) -> Principal | None:
    """Return who is signed in, from the values of ``identity.token_columns`` read with
    the session's token (``session_token``) in a page's own query, if the token
    authenticates now and its holder holds one of ``roles``; None otherwise, and the page
    then asks ``signed_in``, which says why."""
    caller = identity.token_principal(values, now=now)
    return caller if caller is not None and caller.role in roles else None


def require_page(*roles: str) -> Any:
    """Return a dependency admitting only a signed-in caller holding one of ``roles``."""

    async def check(caller: MaybeCaller) -> Principal:  # on the event loop: it reads nothing
        if caller is None:
            raise SignInRequired()
        return identity.require_role(caller, *roles)

    return Depends(check)
