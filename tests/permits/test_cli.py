"""The officers' command line: offices, slots, today's appointments, decisions, reminders."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine, delete, select

from borderpass.identity import service as identity
from borderpass.identity.models import StaffMember
from borderpass.kit.clock import hk_date, utcnow
from borderpass.kit.db import session_factory, unit_of_work
from borderpass.permits.models import Office, Slot
from tests.conftest import Command


def test_officer_commands(engine: Engine, cli: Command) -> None:
    code = f"CLI-{uuid.uuid4().hex[:6]}"
    username = f"officer-{uuid.uuid4().hex[:6]}"
    day = (hk_date(utcnow()) + timedelta(days=1)).isoformat()
    factory = session_factory(engine)
    with unit_of_work(factory) as session:
        identity.create_staff(session, username, "Officer", "exit_entry_officer",
                              "password-123", now=utcnow())
    try:
        opened = cli("permits", "office", code, "--name", "福田大廳", "--address", "深圳市福田區")
        assert opened.exit_code == 0, opened.output
        published = cli("permits", "slots", code, "--officer", username, "--day", day,
                        "--opens", "09:00", "--closes", "12:00", "--minutes", "60",
                        "--capacity", "20")
        assert published.exit_code == 0, published.output
        assert "3 slots of 20 places" in published.output
        today = cli("permits", "today", code, "--day", day)
        assert today.exit_code == 0 and "no appointments" in today.output
        assert cli("permits", "decisions", "--office", code).exit_code == 0
        assert "reminders queued" in cli("permits", "remind").output
        unknown = cli("permits", "today", "NOWHERE")
        assert unknown.exit_code == 1
        assert "office_not_found" in unknown.output
        stranger = cli("permits", "slots", code, "--officer", "nobody", "--day", day)
        assert stranger.exit_code == 1
    finally:
        with unit_of_work(factory) as session:
            office_id = session.scalar(select(Office.id).where(Office.code == code))
            session.execute(delete(Slot).where(Slot.office_id == office_id))
            session.execute(delete(Office).where(Office.code == code))
            session.execute(delete(StaffMember).where(StaffMember.username == username))
