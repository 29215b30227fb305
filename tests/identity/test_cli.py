"""`borderpass ids check`, `staff add` and `registrations purge`."""

from __future__ import annotations

import uuid

from sqlalchemy import delete

from borderpass.identity.models import StaffMember
from borderpass.kit.db import unit_of_work
from tests.conftest import Command


def test_ids_check_command(cli: Command) -> None:
    ok = cli("ids", "check", "hkid", "a1234563")
    assert ok.exit_code == 0
    assert ok.stdout.strip() == "A123456(3)"
    bad = cli("ids", "check", "mainland", "110105194912310021")
    assert bad.exit_code == 1
    assert "Wrong check character: expected X" in bad.stderr
    date_bad = cli("ids", "check", "mainland", "110105194902300021")
    assert date_bad.exit_code == 1
    assert "Impossible birth date" in date_bad.stderr
    assert "110105194902300021" not in date_bad.stderr


def test_staff_add_asks_for_the_password(cli: Command) -> None:
    username = f"cli-{uuid.uuid4().hex[:8]}"
    try:
        added = cli("staff", "add", username, "--role", "health_officer",
                    input="password-123\npassword-123\n")
        assert added.exit_code == 0, added.output
        assert f"created {username} (health_officer)" in added.stdout
        taken = cli("staff", "add", username, "--role", "health_officer",
                    input="password-123\npassword-123\n")
        assert taken.exit_code == 1 and "That user name is taken." in taken.stderr
        other = f"cli-{uuid.uuid4().hex[:8]}"
        short = cli("staff", "add", other, "--role", "health_officer", input="short\nshort\n")
        assert short.exit_code == 1
        assert "invalid_input: A password needs at least 8 characters." in short.stderr
    finally:
        with unit_of_work() as session:
            session.execute(delete(StaffMember).where(StaffMember.username == username))


def test_registrations_purge(cli: Command) -> None:
    purged = cli("registrations", "purge")
    assert purged.exit_code == 0, purged.output
    assert purged.stdout.startswith("purged ") and "expired registration(s)" in purged.stdout
