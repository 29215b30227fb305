"""The outbox: queued in the same transaction, delivered by a pluggable sender; a secret is
made at delivery and only reaches the sender; the development sender is a mailbox."""

from __future__ import annotations

import re
import stat
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from borderpass.identity import service as identity
from borderpass.identity.models import ActivationPin
from borderpass.identity.schemas import RegistrationDetails
from borderpass.kit import outbox
from borderpass.kit.config import get_settings, reset_settings
from borderpass.kit.errors import BorderpassError
from borderpass.kit.signing import check_secret
from tests.conftest import DEMO_PDF
from tests.messages import Phone


class Failing:
    def send(self, delivery: outbox.Delivery) -> None:
        raise ConnectionError("gateway down")


def test_queue_seals_the_recipient_and_delivery_marks_sent(session: Any, now: datetime) -> None:
    message = outbox.queue(session, channel="sms", purpose="test", recipient="+85291234567",
                           body="hello", reference="ref-1", now=now)
    assert b"91234567" not in message.recipient_sealed
    phone = Phone()
    assert outbox.deliver(session, phone, now=now) >= 1
    got = phone.received[message.id]
    assert (got.channel, got.recipient, got.body, got.purpose) == (
        "sms", "+85291234567", "hello", "test")
    assert outbox.messages_for(session, "ref-1")[0].sent_at == now
    assert outbox.deliver(session, phone, now=now) == 0


def test_a_failing_sender_leaves_messages_queued(session: Any, now: datetime) -> None:
    outbox.queue(session, channel="sms", purpose="test", recipient="+85291234567",
                 body="hello", reference="ref-2", now=now)
    with pytest.raises(ConnectionError):
        outbox.deliver(session, Failing(), now=now)
    assert outbox.messages_for(session, "ref-2")[0].sent_at is None


@pytest.fixture()
def filler() -> Iterator[list[tuple[str, datetime]]]:
    calls: list[tuple[str, datetime]] = []

    def fill(_session: Any, ref: str, at: datetime) -> Mapping[str, str] | None:
        calls.append((ref, at))
        return None if ref == "gone" else {"code": f"secret-{ref}"}

    outbox.register_filler("test_secret", fill)
    yield calls
    from borderpass.wiring import wire

    wire()


def test_a_secret_is_made_at_delivery_and_never_stored(
    session: Any, now: datetime, filler: list[tuple[str, datetime]]
) -> None:
    kept = outbox.queue(session, channel="sms", purpose="test_secret", recipient="+85291234567",
                        body="your code is {code}.", reference="ref-3", secret_ref="r1", now=now)
    dropped = outbox.queue(session, channel="sms", purpose="test_secret",
                           recipient="+85291234567", body="your code is {code}.",
                           reference="ref-4", secret_ref="gone", now=now)
    assert filler == []  # nothing is made when queued
    phone = Phone()
    later = now + timedelta(minutes=3)
    outbox.deliver(session, phone, now=later)
    assert ("r1", later) in filler
    assert phone.received[kept.id].body == "your code is secret-r1."
    assert dropped.id not in phone.received and dropped.sent_at == later
    stored = session.scalar(select(outbox.OutboxMessage.body)
                            .where(outbox.OutboxMessage.id == kept.id))
    assert stored == "your code is {code}."


def _register(session: Any, now: datetime) -> Any:
    registration = identity.start_registration(session, now=now)
    details = RegistrationDetails.model_validate({
        "name_zh": "陳大文", "name_en": "CHAN Tai Man", "document_kind": "hkid",
        "document_number": "A123456(3)", "document_issued_on": "2015-01-01",
        "phone": "+85291234567", "address": "Flat A, 12/F, 1 Test Road",
        "password": "password-123"})
    identity.submit_registration(session, registration.id, details, DEMO_PDF, now=now)
    return registration


def test_the_activation_pin_exists_only_as_a_hash_and_on_the_phone(
    session: Any, now: datetime
) -> None:
    registration = _register(session, now)
    message = outbox.messages_for(session, str(registration.id))[-1]
    assert "{pin}" in message.body
    record = session.scalars(select(ActivationPin)
                             .where(ActivationPin.registration_id == registration.id)).one()
    assert record.pin_hash is None
    with pytest.raises(identity.PinNotSent):
        identity.activate(session, registration.id, "123456", now=now)

    phone = Phone()
    delivered_at = now + timedelta(minutes=5)
    outbox.deliver(session, phone, now=delivered_at)
    body = phone.received[message.id].body
    found = re.search(r"\bPIN\b[^0-9]{0,60}(\d{6})\b", body)  # in the person's language
    assert found is not None, body
    pin = found.group(1)
    assert "{pin}" not in body
    assert pin not in message.body
    session.refresh(record)
    assert record.pin_hash is not None and pin not in record.pin_hash
    assert check_secret(pin, record.pin_hash)
    # the PIN lives from its delivery, not from when it was asked for
    assert record.expires_at == delivered_at + timedelta(minutes=get_settings().pin_minutes)
    person, _token, _ = identity.activate(session, registration.id, pin, now=delivered_at)
    assert person.status == "active"


def test_a_replaced_pin_is_not_sent(session: Any, now: datetime) -> None:
    registration = _register(session, now)
    identity.resend_pin(session, registration.id, now=now + timedelta(minutes=2))
    first, second = outbox.messages_for(session, str(registration.id))
    phone = Phone()
    outbox.deliver(session, phone, now=now + timedelta(minutes=2))
    assert second.id in phone.received
    assert first.id not in phone.received and first.sent_at is not None


@pytest.fixture()
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch
    monkeypatch.undo()
    reset_settings()


def test_the_mailbox_stands_in_for_the_phone(
    session: Any, now: datetime, tmp_path: Path, caplog: Any
) -> None:
    message = outbox.queue(session, channel="sms", purpose="test", recipient="+85291234567",
                           body="the mailbox holds this", reference="ref-5", now=now)
    sender = outbox.MailboxSender(tmp_path / "mailbox")
    outbox.deliver(session, sender, now=now)
    (written,) = (tmp_path / "mailbox").iterdir()
    assert str(message.id) in written.name and written.name.endswith(".txt")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "mailbox").stat().st_mode) == 0o700
    content = written.read_text()
    assert "To: +85291234567" in content and "the mailbox holds this" in content
    assert "the mailbox holds this" not in caplog.text and "91234567" not in caplog.text


def test_the_embedded_default_sends_to_var_mailbox() -> None:
    sender = outbox.configured_sender()
    assert isinstance(sender, outbox.MailboxSender)
    assert sender.folder == get_settings().var_dir / "mailbox"


@pytest.mark.parametrize("production", [{"BORDERPASS_ENVIRONMENT": "production"},
                                        {"BORDERPASS_SECURE_COOKIES": "true"}])
def test_production_refuses_the_mailbox(settings_env: pytest.MonkeyPatch,
                                        production: dict[str, str]) -> None:
    for name, value in production.items():
        settings_env.setenv(name, value)
    reset_settings()
    with pytest.raises(outbox.SenderRefused) as refused:
        outbox.check_sender()
    assert "BORDERPASS_OUTBOX_SENDER" in str(refused.value)
    with pytest.raises(outbox.SenderRefused):
        outbox.configured_sender()
    from borderpass.web.app import create_app

    with pytest.raises(outbox.SenderRefused):
        create_app()
    settings_env.setenv("BORDERPASS_OUTBOX_SENDER", "tests.kit.test_outbox:Failing")
    reset_settings()
    assert isinstance(outbox.configured_sender(), Failing)


def test_an_unknown_sender_is_named(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("BORDERPASS_OUTBOX_SENDER", "no.such.module:Sender")
    reset_settings()
    with pytest.raises(BorderpassError, match="no.such.module:Sender") as raised:
        outbox.configured_sender()
    assert raised.value.code == "sender_unknown"


def test_the_migration_takes_pins_out_of_the_outbox(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine, text

    from borderpass.migrations import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "0007")
    engine = create_engine(url)
    with engine.begin() as connection:
        for purpose, body, sent in (
                ("activation_pin", "borderpass: your activation PIN is 314159.", None),
                ("activation_pin", "borderpass: your activation PIN is 271828.", "2026-11-01"),
                ("permit_reminder", "Reminder: your appointment", None)):
            connection.execute(text(
                "INSERT INTO outbox (id, channel, purpose, reference, recipient_sealed, body, "
                "created_at, sent_at) VALUES (:id, 'sms', :purpose, 'r', x'00', :body, "
                "'2026-11-01 00:00:00', :sent)"),
                {"id": uuid.uuid4().hex, "purpose": purpose, "body": body, "sent": sent})
    upgrade(url, "0008c")
    with engine.connect() as connection:
        left = connection.execute(text(
            "SELECT purpose, body, sent_at IS NOT NULL FROM outbox ORDER BY purpose")).all()
    assert [(purpose, "314159" in body or "271828" in body, sent)
            for purpose, body, sent in left] == [
        ("activation_pin", False, 1), ("activation_pin", False, 1),
        ("permit_reminder", False, 0)]
    command.downgrade(alembic_config(url), "0007")
    with engine.connect() as connection:
        columns = [row[1] for row in connection.execute(text("PRAGMA table_info(outbox)"))]
    assert "secret_ref" not in columns
    engine.dispose()


def test_a_served_instance_is_read_through_its_mailbox(
    session: Any, now: datetime, tmp_path: Path
) -> None:
    from tests.messages import mailbox, pin_of

    registration = _register(session, now)
    outbox.deliver(session, outbox.MailboxSender(tmp_path / "mailbox"), now=now)
    (message,) = outbox.messages_for(session, str(registration.id))
    text = mailbox(tmp_path / "mailbox")[message.id]
    pin = pin_of(text)
    assert pin is not None and text.startswith("To: +85291234567\n")
    identity.activate(session, registration.id, pin, now=now)
