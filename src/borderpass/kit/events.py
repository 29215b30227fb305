"""Domain events, handled synchronously inside the publisher's unit of work.

A domain publishes what happened as a typed event (a frozen dataclass defined beside the
publisher's service, carrying ``now``); a higher domain that must react has a handler,
and ``borderpass.wiring.wire()`` connects the two once at start-up. So a lower domain
never imports a higher one, and nothing depends on which modules happened to be
imported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

__all__ = ["Event", "Handler", "handlers_of", "publish", "reset", "subscribe"]


class Event(Protocol):
    """Anything that happened: a frozen dataclass with at least the instant it happened."""

    @property
    def now(self) -> datetime: ...


E = TypeVar("E", bound=Event)
Handler = Callable[[Session, Any], None]
_handlers: dict[type[Any], list[Handler]] = defaultdict(list)


def subscribe(kind: type[E], handler: Callable[[Session, E], None]) -> None:
    """Run ``handler`` whenever an event of ``kind`` is published (once, however often
    it is subscribed)."""
    if handler not in _handlers[kind]:
        _handlers[kind].append(handler)


def publish(session: Session, event: Event) -> None:
    """Run every handler of the event's type now, in the same session and transaction."""
    for handler in list(_handlers[type(event)]):
        handler(session, event)


def handlers_of(kind: type[Any]) -> list[Handler]:
    """Return the handlers subscribed to ``kind``, in the order they run."""
    return list(_handlers[kind])


def reset() -> None:
    """Forget every subscription (``wire()`` starts from nothing)."""
    _handlers.clear()
