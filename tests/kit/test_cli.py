"""`borderpass outbox deliver`, and `fail`, which every command group shares."""

from __future__ import annotations

import pytest
import typer

from borderpass.kit.cli import fail
from tests.conftest import Command


def test_outbox_deliver(cli: Command) -> None:
    delivered = cli("outbox", "deliver", "--limit", "10")
    assert delivered.exit_code == 0, delivered.output
    assert delivered.stdout.startswith("delivered ") and "message(s)" in delivered.stdout


def test_outbox_deliver_refuses_the_mailbox_in_production(cli: Command) -> None:
    refused = cli("outbox", "deliver", env={"BORDERPASS_ENVIRONMENT": "production"})
    assert refused.exit_code == 1
    assert "sender_refused" in refused.stderr and "BORDERPASS_OUTBOX_SENDER" in refused.stderr


def test_sessions_purge(cli: Command) -> None:
    purged = cli("sessions", "purge")
    assert purged.exit_code == 0, purged.output
    assert purged.stdout.startswith("purged ") and "expired session(s)" in purged.stdout


def test_fail_prints_the_reason_and_exits(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as raised:
        fail("no such file: x", 2)
    assert raised.value.exit_code == 2
    assert capsys.readouterr().err == "no such file: x\n"


def test_serve_says_where_messages_go(monkeypatch: pytest.MonkeyPatch) -> None:
    from borderpass.kit.cli import mailbox_note
    from borderpass.kit.config import get_settings, reset_settings

    note = mailbox_note()
    assert note is not None and f"{get_settings().var_dir / 'mailbox'}/" in note
    assert "as soon as it is queued" in note
    monkeypatch.setenv("BORDERPASS_OUTBOX_SENDER", "tests.messages:Phone")
    reset_settings()
    try:
        assert mailbox_note() is None
    finally:
        monkeypatch.undo()
        reset_settings()
