"""The demo data, loaded by the command line (run in this process), and what it leaves behind.

No plain document number, name, phone or address may be found in the database file,
a PostgreSQL dump or the logs: they are sealed, and looked up by blind index.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import Result

from tests.conftest import Command, database_url, is_postgres

SECRETS = [
    b"A123456", b"A1234563", b"Z437626", b"H12345678", b"H87654321", b"91234567",
    b"61234567", b"CHAN Tai Man", b"LEE Siu Ming", "陳大文".encode(), "李小明".encode(),
    b"Demo Road", b"Sample Street", b"11010519491231002X", b"B1234567",
    b"430102197506151237", b"LI Zhiqiang", "李志强".encode(), b"C98765432", b"13800138000",
    b"Sample Road",
]

EXTRA_BATCH = (
    "specimen_id,document_kind,document_number,collected_at,reported_at,method,result,lab\n"
    "P-1,mainland,11010519491231002X,2026-11-25T09:00:00+08:00,2026-11-25T12:00:00+08:00,"
    "PCR,negative,Demo Laboratory\n"
    "P-2,hkid,B1234567,2026-11-25T09:00:00+08:00,2026-11-25T12:00:00+08:00,PCR,positive,Lab\n"
)


Settings = Callable[[Path, str], None]


def run(cli: Command, *args: str, ok: bool = True) -> Result:
    done = cli(*args)
    if ok:
        assert done.exit_code == 0, done.stderr
    return done


def load_demo(cli: Command, tmp_path: Path) -> str:
    run(cli, "db", "upgrade")
    shown = run(cli, "demo").stdout
    batch = tmp_path / "batch.csv"
    batch.write_text(EXTRA_BATCH)
    refused = run(cli, "ingest", "tests", str(batch), ok=False)
    assert refused.exit_code == 1
    assert "line 3: document_number: wrong check character" in refused.stderr
    batch.write_text(EXTRA_BATCH.splitlines(keepends=True)[0] + EXTRA_BATCH.splitlines(True)[1])
    accepted = run(cli, "ingest", "tests", str(batch))
    assert '"inserted": 1' in accepted.stdout
    again = run(cli, "ingest", "tests", str(batch))
    assert '"inserted": 0' in again.stdout
    batch.unlink()
    assert "resident" in shown
    return refused.stderr + accepted.stderr


def assert_clean(blob: bytes, where: str) -> None:
    for secret in SECRETS:
        assert secret not in blob, f"{secret!r} found in {where}"


def test_demo_data_as_promised(tmp_path: Path, cli: Command, own_settings: Settings) -> None:
    var = tmp_path / "var"
    own_settings(var, f"sqlite:///{var / 'demo.sqlite3'}")
    load_demo(cli, tmp_path)
    assert "already loaded" in run(cli, "demo").stdout
    engine = create_engine(f"sqlite:///{var / 'demo.sqlite3'}")
    with engine.connect() as connection:
        people = connection.execute(text("SELECT count(*) FROM people WHERE status='active'"))
        assert people.scalar() == 3  # CHAN Tai Man, LEE Siu Ming and LI Zhiqiang (mainland)
        tests = connection.execute(text(
            "SELECT count(*) FROM test_results t JOIN people p ON p.id = t.person_id "
            "WHERE t.result = 'negative' AND t.method = 'PCR'")).scalar()
        assert tests == 2  # CHAN's and LI's; LEE has none
        places = connection.execute(text(
            "SELECT count(*), min(capacity) FROM crossing_quotas")).one()
        assert tuple(places) == (5 * 7, 50)  # five control points, the next 7 days
    engine.dispose()


def test_no_plain_personal_data_in_sqlite_or_logs(
    tmp_path: Path, cli: Command, own_settings: Settings
) -> None:
    var = tmp_path / "var"
    own_settings(var, f"sqlite:///{var / 'demo.sqlite3'}")
    stderr = load_demo(cli, tmp_path)
    files = [path for path in var.rglob("*") if path.is_file()]
    assert any(path.suffix == ".sqlite3" for path in files)
    assert any(path.suffix == ".log" for path in files)
    for path in files:
        assert_clean(path.read_bytes(), str(path.relative_to(tmp_path)))
    assert_clean(stderr.encode(), "the command's error output")


@pytest.mark.skipif(not is_postgres(), reason="runs when the suite runs on PostgreSQL")
def test_no_plain_personal_data_in_a_postgres_dump(
    tmp_path: Path, cli: Command, own_settings: Settings
) -> None:
    admin_url = database_url()
    name = f"privacy_{uuid.uuid4().hex[:10]}"
    base, _, _db = admin_url.rpartition("/")
    url = f"{base}/{name}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        var = tmp_path / "var"
        own_settings(var, url)
        stderr = load_demo(cli, tmp_path)
        pg_dump = shutil.which("pg_dump")
        assert pg_dump is not None, "pg_dump is needed to check the dump"
        dump = subprocess.run([pg_dump, "--no-owner", url], capture_output=True, check=True,
                              timeout=120).stdout
        assert b"COPY public.people" in dump
        assert_clean(dump, "the PostgreSQL dump")
        for path in var.rglob("*"):
            if path.is_file():
                assert_clean(path.read_bytes(), str(path))
        assert_clean(stderr.encode(), "the command's error output")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_demo_keeps_its_test_fresh(session: Any, now: Any) -> None:
    from datetime import timedelta

    from borderpass.demo import load
    from borderpass.evidence import service as evidence

    said = load(session, now=now)
    assert any("negative PCR" in line for line in said)
    assert load(session, now=now + timedelta(hours=12)) == ["demo data already loaded"]
    later = now + timedelta(days=2)
    assert any("new negative" in line for line in load(session, now=later))
    latest = evidence.latest_test_collected(session, "hkid", "A123456(3)", "negative")
    assert latest == later - timedelta(hours=6)
    assert evidence.latest_test_collected(session, "hkid", "Z437626(A)", "negative") is None


def test_demo_opens_a_permits_office_with_slots_for_the_next_14_days(session: Any,
                                                                     now: Any) -> None:
    from datetime import timedelta

    from borderpass.demo import load
    from borderpass.kit.clock import hk_date
    from borderpass.permits import service as permits

    load(session, now=now)
    offices = permits.list_offices(session)
    assert [office.code for office in offices] == ["DG-DEMO"]
    today = hk_date(now)
    for offset in range(1, 15):
        slots = permits.list_slots(session, "DG-DEMO", today + timedelta(days=offset))
        assert slots, f"no slot {offset} days ahead"
        assert sum(slot.free for slot in slots) > 0
    # A later load keeps the next 14 days bookable, and leaves days already set alone.
    later = now + timedelta(days=3)
    said = load(session, now=later)
    assert any("appointment slots at DG-DEMO on 3 of the next 14 days" in line for line in said)
    assert permits.list_slots(session, "DG-DEMO", hk_date(later) + timedelta(days=14))
