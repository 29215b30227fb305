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


def test_fail_prints_the_reason_and_exits(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as raised:
        fail("no such file: x", 2)
    assert raised.value.exit_code == 2
    assert capsys.readouterr().err == "no such file: x\n"
