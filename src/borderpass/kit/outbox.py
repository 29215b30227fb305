"""The outbox: messages to residents (SMS or letter) are written here first.

A message is a row in the same transaction as the change that caused it, so a PIN is
never sent for a registration that was rolled back. Delivery is pluggable: a
``Sender`` takes each unsent message; the default one writes it to the log.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from sqlalchemy import Index, LargeBinary, String, Text, Uuid, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from borderpass.kit.db import Base, UTCDateTime, new_id
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import open_text, seal_text

__all__ = [
    "LogSender", "OutboxMessage", "Sender", "configured_sender", "deliver", "mask_phone",
    "messages_for", "queue",
]

log = get_logger(__name__)


class OutboxMessage(Base):
    """A message waiting to go out by SMS or letter; the recipient is sealed."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_reference", "reference"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(64))
    recipient_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def mask_phone(e164: str) -> str:
    """Hide all but the country code and the last two digits."""
    code = next((c for c in ("852", "853", "86") if e164[1:].startswith(c)), "")
    rest = e164[1 + len(code) :]
    return f"+{code} " + "*" * (len(rest) - 2) + rest[-2:]


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
    session.add(message)
    session.flush()
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
    unsent = session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                             .order_by(OutboxMessage.created_at).limit(limit))
    for message in unsent:
        sender.send(message.channel, open_text("outbox.recipient", message.recipient_sealed),
                    message.body)
        message.sent_at = now
        sent += 1
    session.flush()
    return sent


def messages_for(session: Session, reference: str) -> list[OutboxMessage]:
    """Return the messages queued about ``reference``, oldest first."""
    return list(session.scalars(select(OutboxMessage)
                                .where(OutboxMessage.reference == reference)
                                .order_by(OutboxMessage.created_at)))
