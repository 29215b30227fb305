"""In-process domain events, handled synchronously inside the caller's unit of work.

A domain publishes what happened; another domain that must react subscribes, so the
publisher needs no import of the subscriber (identity never imports evidence).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

__all__ = ["Event", "publish", "subscribe"]


@dataclass(frozen=True)
class Event:
    """Something that happened, named like ``person.activated``, with its facts."""

    name: str
    data: dict[str, Any]


Handler = Callable[[Session, Event], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str) -> Callable[[Handler], Handler]:
    """Register the decorated function to run whenever ``name`` is published."""

    def register(handler: Handler) -> Handler:
        if handler not in _handlers[name]:
            _handlers[name].append(handler)
        return handler

    return register


def publish(session: Session, name: str, **data: Any) -> None:
    """Run every handler of ``name`` now, in the same session and transaction."""
    event = Event(name, data)
    for handler in list(_handlers[name]):
        handler(session, event)
