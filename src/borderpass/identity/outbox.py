"""The outbox: messages to residents (SMS or letter) are written here first.

A message is a row in the same transaction as the change that caused it, so a PIN is
never sent for a registration that was rolled back. Delivery is pluggable: a
``Sender`` takes each unsent message; the default one writes it to the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from borderpass.identity import repository
from borderpass.identity.models import OutboxMessage
from borderpass.identity.phones import mask_phone
from borderpass.identity.vault import open_text, seal_text
from borderpass.kit.logging import get_logger

__all__ = ["LogSender", "Sender", "configured_sender", "deliver", "queue"]

log = get_logger(__name__)


class Sender(Protocol):
    """Delivers one message; raises to leave it in the outbox for the next round."""

    def send(self, channel: str, recipient: str, body: str) -> None: ...


class LogSender:
    """The default sender: writes each message to the log, the recipient masked."""

    def send(self, channel: str, recipient: str, body: str) -> None:
        shown = mask_phone(recipient) if channel == "sms" else "(letter)"
        log.info("outbox.delivered", channel=channel, recipient=shown, body=body)


def queue(
    session: Session,
    *,
    channel: str,
    purpose: str,
    recipient: str,
    body: str,
    reference: str | None,
    now: datetime,
) -> OutboxMessage:
    """Queue a message for delivery within the caller's unit of work."""
    message = OutboxMessage(
        channel=channel,
        purpose=purpose,
        reference=reference,
        recipient_sealed=seal_text("outbox.recipient", recipient),
        body=body,
        created_at=now,
    )
    repository.add(session, message)
    log.info("outbox.queued", id=str(message.id), channel=channel, purpose=purpose)
    return message


def configured_sender() -> Sender:
    """Return the sender named by the ``outbox_sender`` setting (``module:Class``)."""
    import importlib

    from borderpass.kit.config import get_settings

    module_name, _, class_name = get_settings().outbox_sender.partition(":")
    sender_class = getattr(importlib.import_module(module_name), class_name)
    sender: Sender = sender_class()
    return sender


def deliver(session: Session, sender: Sender, *, now: datetime, limit: int = 500) -> int:
    """Hand unsent messages to ``sender``, mark them sent, and return how many went."""
    sent = 0
    for message in repository.unsent_outbox(session, limit):
        sender.send(message.channel, open_text("outbox.recipient", message.recipient_sealed),
                    message.body)
        message.sent_at = now
        sent += 1
    session.flush()
    return sent
