"""What residents' phones receive: tests read a PIN as the resident would, from a delivered
message, never from the database (which holds only its hash)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from borderpass.kit import outbox

__all__ = ["PINS", "Phone", "delivered_body", "mailbox", "pin_of", "pin_sent"]

# Every PIN delivered in this test process: the scan at the end of the run looks for them
# in the logs and the database.
PINS: set[str] = set()
_PIN = re.compile(r"\bPIN\b[^0-9]{0,60}(\d{6})\b")


class Phone:
    """A collecting sender: every delivery, kept as the phone got it."""

    def __init__(self) -> None:
        self.received: dict[uuid.UUID, outbox.Delivery] = {}

    def send(self, delivery: outbox.Delivery) -> None:
        self.received[delivery.id] = delivery
        found = _PIN.search(delivery.body)
        if found:
            PINS.add(found.group(1))


# One phone for the process: a message is delivered once, and a test may read its PIN
# twice.
_PHONE = Phone()


def delivered_body(message_id: uuid.UUID) -> str:
    """Return the text the phone received for an outbox message (delivered before)."""
    delivery = _PHONE.received.get(message_id)
    assert delivery is not None, f"message {message_id} was not delivered"
    return delivery.body


def pin_sent(session: Any, reference: str, *, now: datetime) -> str:
    """Deliver what is queued (as at ``now``) and return the PIN of the latest activation
    message about ``reference`` (a registration id)."""
    outbox.deliver(session, _PHONE, now=now)
    messages = [m for m in outbox.messages_for(session, reference)
                if m.purpose == "activation_pin"]
    assert messages, f"no activation message about {reference}"
    delivery = _PHONE.received.get(messages[-1].id)
    assert delivery is not None, "the latest activation message was not delivered"
    found = _PIN.search(delivery.body)
    assert found is not None, delivery.body
    return found.group(1)


_MAILBOX_FILE = re.compile(r"-(?:sms|letter)-([0-9a-f-]{36})\.txt$")


def mailbox(folder: Path) -> dict[uuid.UUID, str]:
    """Read the development mailbox (``var/mailbox/`` of a served instance, after
    ``borderpass outbox deliver``): each message's text by its outbox id, which its file
    name carries (the outbox row's ``reference`` says what the message is about)."""
    found: dict[uuid.UUID, str] = {}
    if folder.is_dir():
        for path in folder.iterdir():
            named = _MAILBOX_FILE.search(path.name)
            if named:
                found[uuid.UUID(named.group(1))] = path.read_text(encoding="utf-8")
    return found


def pin_of(text: str) -> str | None:
    """Return the PIN in a message's text, if it holds one (and note it for the scan)."""
    found = _PIN.search(text)
    if found is None:
        return None
    PINS.add(found.group(1))
    return found.group(1)
