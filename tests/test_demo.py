"""The demo data, loaded by the real command line, and what it leaves behind.

No plain document number, name, phone or address may be found in the database file,
a PostgreSQL dump or the logs: they are sealed, and looked up by blind index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import database_url, is_postgres

SECRETS = [
    b"A123456", b"A1234563", b"Z437626", b"H12345678", b"H87654321", b"91234567",
    b"61234567", b"CHAN Tai Man", b"LEE Siu Ming", "陳大文".encode(), "李小明".encode(),
    b"Demo Road", b"Sample Street", b"11010519491231002X", b"B1234567",
]

EXTRA_BATCH = (
    "specimen_id,document_kind,document_number,collected_at,reported_at,method,result,lab\n"
    "P-1,mainland,11010519491231002X,2026-11-25T09:00:00+08:00,2026-11-25T12:00:00+08:00,"
    "PCR,negative,Demo Laboratory\n"
    "P-2,hkid,B1234567,2026-11-25T09:00:00+08:00,2026-11-25T12:00:00+08:00,PCR,positive,Lab\n"
)


def cli(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "borderpass", *args], env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def environment(var: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERPASS_")}
    env.update(BORDERPASS_VAR_DIR=str(var), BORDERPASS_DATABASE_URL=url)
    return env


def load_demo(env: dict[str, str], tmp_path: Path) -> str:
    cli(env, "db", "upgrade")
    shown = cli(env, "demo").stdout
    batch = tmp_path / "batch.csv"
    batch.write_text(EXTRA_BATCH)
    refused = cli(env, "ingest", "tests", str(batch), ok=False)
    assert refused.returncode == 1
    assert "line 3: document_number: wrong check character" in refused.stderr
    batch.write_text(EXTRA_BATCH.splitlines(keepends=True)[0] + EXTRA_BATCH.splitlines(True)[1])
    accepted = cli(env, "ingest", "tests", str(batch))
    assert '"inserted": 1' in accepted.stdout
    again = cli(env, "ingest", "tests", str(batch))
    assert '"inserted": 0' in again.stdout
    batch.unlink()
    assert "resident" in shown
    return refused.stderr + accepted.stderr


def assert_clean(blob: bytes, where: str) -> None:
    for secret in SECRETS:
        assert secret not in blob, f"{secret!r} found in {where}"


def test_demo_data_as_promised(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = environment(var, f"sqlite:///{var / 'demo.sqlite3'}")
    load_demo(env, tmp_path)
    assert "already loaded" in cli(env, "demo").stdout
    engine = create_engine(f"sqlite:///{var / 'demo.sqlite3'}")
    with engine.connect() as connection:
        people = connection.execute(text("SELECT count(*) FROM people WHERE status='active'"))
        assert people.scalar() == 2
        tests = connection.execute(text(
            "SELECT count(*) FROM test_results t JOIN people p ON p.id = t.person_id "
            "WHERE t.result = 'negative' AND t.method = 'PCR'")).scalar()
        assert tests == 1
    engine.dispose()


def test_no_plain_personal_data_in_sqlite_or_logs(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = environment(var, f"sqlite:///{var / 'demo.sqlite3'}")
    stderr = load_demo(env, tmp_path)
    files = [path for path in var.rglob("*") if path.is_file()]
    assert any(path.suffix == ".sqlite3" for path in files)
    assert any(path.suffix == ".log" for path in files)
    for path in files:
        assert_clean(path.read_bytes(), str(path.relative_to(tmp_path)))
    assert_clean(stderr.encode(), "the command's error output")


@pytest.mark.skipif(not is_postgres(), reason="runs when the suite runs on PostgreSQL")
def test_no_plain_personal_data_in_a_postgres_dump(tmp_path: Path) -> None:
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
        env = environment(var, url)
        stderr = load_demo(env, tmp_path)
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
