"""The outbox: messages to residents (SMS or letter) are written here first.

A message is a row in the same transaction as the change that caused it, so a PIN is
never sent for a registration that was rolled back. Delivery is pluggable: a
``Sender`` takes each unsent message.

A message that carries a secret (an activation PIN) is queued as a template with a
``{placeholder}`` and ``secret_ref``, the record the secret belongs to. The secret is
made only at delivery, by the *filler* registered for the message's purpose (wired at
start-up, so that kit knows no domain): it stores what it must (a PIN's hash), returns
the values, and the body is filled in memory and handed to the sender. The table, the
log and a database dump never hold the secret.

The embedded default's sender is ``MailboxSender``: each message becomes a file under
``var/mailbox/`` that stands in for the resident's phone. Production settings refuse it.

Each message is delivered by the job ``outbox.deliver``, collected in the unit of work
that queued it and so sent once it commits; ``outbox.sweep`` (every minute) delivers
whatever a lost job left. Delivery is idempotent: the message's row is locked and its
``sent_at`` checked and set in the deliverer's unit of work, so a job run twice, or a job
and the sweep together, hand a message to the sender once. Only a deliverer that dies
between the sender's acceptance and its commit leaves the message to be sent again,
which is why a sender gets the message's id: a provider's idempotency key (the mailbox
writes the same file again).
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import Index, LargeBinary, String, Text, Uuid, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from borderpass.kit import jobs
from borderpass.kit.config import get_settings
from borderpass.kit.db import Base, UTCDateTime, new_id
from borderpass.kit.errors import BorderpassError
from borderpass.kit.i18n import _
from borderpass.kit.logging import get_logger
from borderpass.kit.vault import open_text, seal_text

__all__ = [
    "Delivery", "Filler", "MailboxSender", "OutboxMessage", "Sender", "SenderRefused",
    "check_sender", "configured_sender", "deliver", "deliver_each", "deliver_one",
    "mailbox_folder", "mask_phone", "messages_for", "queue",
    "register_filler", "reset_fillers", "sender_class",
]

log = get_logger(__name__)


class OutboxMessage(Base):
    """A message waiting to go out by SMS or letter; the recipient is sealed.

    ``body`` is the text to send, or a template whose ``{placeholders}`` the purpose's
    filler fills at delivery from ``secret_ref``.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_reference", "reference"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(64))
    secret_ref: Mapped[str | None] = mapped_column(String(64))
    recipient_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SenderRefused(BorderpassError):
    code = "sender_refused"
    status = 500
    message = _("The outbox sender {sender} only suits a developer's machine and is refused "
                "in production: set BORDERPASS_OUTBOX_SENDER to a sender that delivers SMS "
                "and letters.")


def mask_phone(e164: str) -> str:
    """Hide all but the country code and the last two digits."""
    code = next((c for c in ("852", "853", "86") if e164[1:].startswith(c)), "")
    rest = e164[1 + len(code) :]
    return f"+{code} " + "*" * (len(rest) - 2) + rest[-2:]


@dataclass(frozen=True)
class Delivery:
    """One message as a sender gets it: the body is final, filled in memory."""

    id: uuid.UUID
    channel: str
    purpose: str
    recipient: str
    body: str
    created_at: datetime


class Sender(Protocol):
    """Delivers one message; raises to leave it in the outbox for the next round.

    ``delivery.id`` is the same each time a message is handed over: a sender passes it to
    its provider as the idempotency key, so that a retry after a crash sends nothing twice.
    """

    def send(self, delivery: Delivery) -> None: ...


class MailboxSender:
    """The development sender: one file per message under ``var/mailbox/`` (mode 0600).

    The folder stands in for the resident's phone or letter box, so a developer reads a
    PIN there; nothing of the message goes to the log. Production settings refuse it.
    """

    development_only = True

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or get_settings().mailbox_dir

    def send(self, delivery: Delivery) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = delivery.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"{stamp}-{delivery.channel}-{delivery.id}.txt"
        text = (f"To: {delivery.recipient}\nChannel: {delivery.channel}\n"
                f"Purpose: {delivery.purpose}\n\n{delivery.body}\n")
        # Written aside and renamed: the file appears whole, and the same message handed
        # over again (its id names the file) replaces it rather than adding a second one.
        aside = path.with_name(f".{path.name}.{os.getpid()}.part")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(aside, path)


# A filler makes a message's secret at delivery: given the session, the message's
# ``secret_ref`` and the time, it stores what it must (a hash) and returns the values
# for the template, or None when there is nothing to send any more (the record is gone).
Filler = Callable[[Session, str, datetime], Mapping[str, str] | None]
_FILLERS: dict[str, Filler] = {}


def register_filler(purpose: str, filler: Filler) -> None:
    """Name the filler that makes the secret of messages of ``purpose`` at delivery."""
    _FILLERS[purpose] = filler


def reset_fillers() -> None:
    """Forget every filler (``wiring.wire`` registers them again)."""
    _FILLERS.clear()


def queue(
    session: Session,
    *,
    channel: str,
    purpose: str,
    recipient: str,
    body: str,
    reference: str | None,
    now: datetime,
    secret_ref: str | None = None,
) -> OutboxMessage:
    """Queue a message for delivery within the caller's unit of work.

    ``secret_ref``: the message's ``body`` is a template that the filler of ``purpose``
    fills at delivery from this record; the secret itself is never queued.
    """
    message = OutboxMessage(
        channel=channel,
        purpose=purpose,
        reference=reference,
        secret_ref=secret_ref,
        recipient_sealed=seal_text("outbox.recipient", recipient),
        body=body,
        created_at=now,
    )
    session.add(message)
    session.flush()
    log.info("outbox.queued", id=str(message.id), channel=channel, purpose=purpose)
    jobs.enqueue(session, "outbox.deliver", str(message.id))
    return message


def sender_class() -> type:
    """Return the class the ``outbox_sender`` setting names.

    Raises:
        BorderpassError: ``sender_unknown``, the setting names nothing importable.
    """
    return _sender_class(get_settings().outbox_sender)


def _sender_class(name: str) -> type:
    module_name, _sep, class_name = name.partition(":")
    try:
        sender_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        raise BorderpassError(_("BORDERPASS_OUTBOX_SENDER names {sender}, which cannot be "
                                "imported; give it as module:Class."),
                              code="sender_unknown", sender=name) from None
    if not isinstance(sender_class, type):
        raise BorderpassError(_("BORDERPASS_OUTBOX_SENDER names {sender}, which cannot be "
                                "imported; give it as module:Class."),
                              code="sender_unknown", sender=name)
    return sender_class


def check_sender() -> None:
    """Check at start-up that the configured sender exists and suits these settings.

    Raises:
        SenderRefused: a development-only sender (the mailbox) in production settings.
        BorderpassError: ``sender_unknown``, the setting names nothing importable.
    """
    settings = get_settings()
    sender_class = _sender_class(settings.outbox_sender)
    if settings.is_production and getattr(sender_class, "development_only", False):
        raise SenderRefused(sender=settings.outbox_sender)


def mailbox_folder() -> Path | None:
    """Return the folder where the development mailbox puts messages, when it is the
    configured sender; None when messages really go out."""
    if not issubclass(_sender_class(get_settings().outbox_sender), MailboxSender):
        return None
    return get_settings().mailbox_dir


def configured_sender() -> Sender:
    """Return the sender named by the ``outbox_sender`` setting (``module:Class``).

    Raises:
        SenderRefused: a development-only sender (the mailbox) in production settings.
    """
    check_sender()
    sender: Sender = _sender_class(get_settings().outbox_sender)()
    return sender


def _filled(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    """Return the message's final body (its secret made now), or None to drop it."""
    if message.secret_ref is None:
        return message.body
    filler = _FILLERS.get(message.purpose)
    if filler is None:
        raise LookupError(f"no filler for outbox purpose {message.purpose!r}")
    values = filler(session, message.secret_ref, now)
    if values is None:
        return None
    body = message.body
    for name, value in values.items():
        body = body.replace("{" + name + "}", value)
    return body


def deliver(session: Session, sender: Sender, *, now: datetime, limit: int = 500) -> int:
    """Hand unsent messages to ``sender``, mark them sent, and return how many went.

    A message whose secret's record is gone (a registration purged or already used) is
    marked done without being sent. On PostgreSQL, messages another deliverer holds are
    skipped, so that two deliverers never send one message twice.
    """
    sent = 0
    unsent = session.scalars(
        select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.created_at).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for message in unsent:
        sent += _hand_over(session, sender, message, now)
    session.flush()
    return sent


def deliver_one(session: Session, sender: Sender, message_id: uuid.UUID, *,
                now: datetime) -> bool:
    """Hand one message to ``sender`` unless it is sent or another deliverer holds it;
    return whether it went."""
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id == message_id,
                                    OutboxMessage.sent_at.is_(None))
        .with_for_update(skip_locked=True)
    ).first()
    if message is None:
        return False
    sent = _hand_over(session, sender, message, now)
    session.flush()
    return bool(sent)


def _hand_over(session: Session, sender: Sender, message: OutboxMessage, now: datetime) -> int:
    body = _filled(session, message, now)
    if body is None:
        message.sent_at = now
        log.info("outbox.dropped", id=str(message.id), purpose=message.purpose)
        return 0
    recipient = open_text("outbox.recipient", message.recipient_sealed)
    sender.send(Delivery(message.id, message.channel, message.purpose, recipient, body,
                         message.created_at))
    message.sent_at = now
    log.info("outbox.delivered", id=str(message.id), channel=message.channel,
             purpose=message.purpose,
             recipient=mask_phone(recipient) if message.channel == "sms" else "(letter)")
    return 1


@jobs.actor("outbox.deliver")
def deliver_job(session: Session, message_id: str) -> None:
    """Deliver one queued message (sent by ``queue`` once its unit of work commits)."""
    deliver_one(session, configured_sender(), uuid.UUID(message_id), now=jobs.now())


def deliver_each(unit: Callable[[], AbstractContextManager[Session]], sender: Sender, *,
                 now: datetime, limit: int = 500) -> int:
    """Hand unsent messages to ``sender`` one at a time, each in a unit of work of its own
    (opened with ``unit``); return how many went.

    A deliverer stopped half-way (a worker killed) then loses the mark of one message at
    most, the one it was handing over, not of all it had sent in one transaction.
    """
    with unit() as session:
        unsent = list(session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))
            .order_by(OutboxMessage.created_at).limit(limit)))
    sent = 0
    for message_id in unsent:
        with unit() as session:
            sent += deliver_one(session, sender, message_id, now=now)
    return sent


@jobs.actor("outbox.sweep", every=timedelta(minutes=1), unit=False)
def sweep_job() -> None:
    """Deliver every message still unsent (one whose job was lost)."""
    deliver_each(jobs.unit, configured_sender(), now=jobs.now())


def messages_for(session: Session, reference: str) -> list[OutboxMessage]:
    """Return the messages queued about ``reference``, oldest first."""
    return list(session.scalars(select(OutboxMessage)
                                .where(OutboxMessage.reference == reference)
                                .order_by(OutboxMessage.created_at)))
