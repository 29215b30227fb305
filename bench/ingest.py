"""Ingest 1,000,000 test results from a CSV into SQLite and into PostgreSQL.

Prints one line: rows per second for each database. PostgreSQL is used when one
answers (BORDERPASS_BENCH_PG_URL, else a throwaway database on 127.0.0.1:5432).
Run: ``python -m bench.ingest [ROWS]``.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

ROWS = 1_000_000


def _hkid(n: int) -> str:
    from borderpass.identity.documents import hkid_check_character

    body = "ABCDEFGHKMPRVYZ"[n % 15] + f"{n % 1_000_000:06d}"
    return f"{body}({hkid_check_character(body)})"


def write_csv(path: Path, rows: int, now: datetime) -> None:
    rng = random.Random(7)
    with path.open("w") as out:
        out.write("specimen_id,document_kind,document_number,collected_at,reported_at,"
                  "method,result,lab\n")
        for i in range(rows):
            collected = now - timedelta(minutes=rng.randrange(60, 60 * 24 * 14))
            reported = collected + timedelta(hours=rng.randrange(2, 30))
            if reported > now:
                reported = now
            result = "positive" if rng.random() < 0.01 else "negative"
            out.write(f"BENCH-{i:08d},hkid,{_hkid(i)},{collected.isoformat()},"
                      f"{reported.isoformat()},{'PCR' if i % 5 else 'RAT'},{result},Bench Lab\n")


def run_one(url: str, var: Path, csv_path: Path, now: datetime) -> float:
    os.environ["BORDERPASS_DATABASE_URL"] = url
    os.environ["BORDERPASS_VAR_DIR"] = str(var)
    os.environ["BORDERPASS_LOG_LEVEL"] = "WARNING"
    from borderpass.kit.config import reset_settings

    reset_settings()
    from borderpass.kit.logging import configure_logging

    configure_logging("WARNING", None)
    from borderpass.evidence import service as evidence
    from borderpass.kit.db import engine_for, session_factory, unit_of_work
    from borderpass.migrations import upgrade

    upgrade(url)
    engine = engine_for(url)
    factory = session_factory(engine)
    with unit_of_work(factory) as session:
        source, _key = evidence.create_source(session, "Bench Lab", "lab", now=now)
    content = csv_path.read_bytes()
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        report = evidence.ingest(session, source.id, "tests", content, "csv", now=now)
    elapsed = time.perf_counter() - started
    assert report.inserted == report.rows, report  # noqa: S101 - a benchmark sanity check
    engine.dispose()
    return report.rows / elapsed


def _postgres_url() -> tuple[str, str | None]:
    given = os.environ.get("BORDERPASS_BENCH_PG_URL")
    if given:
        return given, None
    name = f"bench_ingest_{uuid.uuid4().hex[:8]}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql://postgres@127.0.0.1:5432/{name}", name


def _drop(name: str) -> None:
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else ROWS
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        csv_path = work / "tests.csv"
        write_csv(csv_path, rows, now)
        sqlite_rate = run_one(f"sqlite:///{work / 'bench.sqlite3'}", work / "var", csv_path, now)
        try:
            pg_url, created = _postgres_url()
        except Exception as error:  # noqa: BLE001 - report and go on without PostgreSQL
            print(f"ingest: {rows:,} rows; sqlite {sqlite_rate:,.0f} rows/s; "
                  f"postgresql unavailable ({type(error).__name__})")
            return
        try:
            pg_rate = run_one(pg_url, work / "var", csv_path, now)
        finally:
            if created:
                _drop(created)
    print(f"ingest: {rows:,} rows; postgresql {pg_rate:,.0f} rows/s; "
          f"sqlite {sqlite_rate:,.0f} rows/s")


if __name__ == "__main__":
    main()
