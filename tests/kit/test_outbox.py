"""The outbox: queued in the same transaction, delivered by a pluggable sender."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from borderpass.kit import outbox


class Collecting:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, channel: str, recipient: str, body: str) -> None:
        self.sent.append((channel, recipient, body))


class Failing:
    def send(self, channel: str, recipient: str, body: str) -> None:
        raise ConnectionError("gateway down")


def test_queue_seals_the_recipient_and_delivery_marks_sent(session: Any, now: datetime) -> None:
    message = outbox.queue(session, channel="sms", purpose="test", recipient="+85291234567",
                           body="hello", reference="ref-1", now=now)
    assert b"91234567" not in message.recipient_sealed
    sender = Collecting()
    assert outbox.deliver(session, sender, now=now) >= 1
    assert ("sms", "+85291234567", "hello") in sender.sent
    assert outbox.messages_for(session, "ref-1")[0].sent_at == now
    assert outbox.deliver(session, sender, now=now) == 0


def test_a_failing_sender_leaves_messages_queued(session: Any, now: datetime) -> None:
    outbox.queue(session, channel="sms", purpose="test", recipient="+85291234567",
                 body="hello", reference="ref-2", now=now)
    with pytest.raises(ConnectionError):
        outbox.deliver(session, Failing(), now=now)
    assert outbox.messages_for(session, "ref-2")[0].sent_at is None


def test_the_default_sender_is_the_log(caplog: Any) -> None:
    sender = outbox.configured_sender()
    assert isinstance(sender, outbox.LogSender)
    sender.send("sms", "+85291234567", "your PIN is 123456")
    assert "your PIN is 123456" in caplog.text
    assert "91234567" not in caplog.text
