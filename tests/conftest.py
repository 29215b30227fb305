"""Fixtures: a migrated database (SQLite by default, PostgreSQL when
BORDERPASS_DATABASE_URL names one), one rolled-back transaction per test, an app
client on the same transaction, and factories for people and sources."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import Result

_VAR = Path(tempfile.mkdtemp(prefix="borderpass-test-"))
os.environ["BORDERPASS_VAR_DIR"] = str(_VAR)
os.environ.setdefault("BORDERPASS_LOG_LEVEL", "INFO")
# Jobs wait on the in-memory broker until a test runs them (``jobs.drain``): a web process
# of the tests' own runs none by itself on the shared test database.
os.environ["BORDERPASS_EMBEDDED_JOBS"] = "false"
os.environ.pop("BORDERPASS_REDIS_URL", None)  # a test that wants Redis asks for it
# Passwords and PINs hashed at scrypt's lowest cost here (2**10, a sixteenth of the
# default's time): the suite hashes thousands. The servers the tests start as processes
# (tests/web/served.py) hash at the default cost, as production does.
os.environ["BORDERPASS_SECRET_HASH_COST"] = "10"
_OWN_SQLITE = "BORDERPASS_TEST_OWN_SQLITE"
if not os.environ.get("BORDERPASS_DATABASE_URL") or os.environ.get(_OWN_SQLITE):
    # The embedded database, in this process's own folder (each worker has one).
    os.environ["BORDERPASS_DATABASE_URL"] = f"sqlite:///{_VAR / 'test.sqlite3'}"
    os.environ[_OWN_SQLITE] = "1"
elif os.environ.get("PYTEST_XDIST_WORKER") and os.environ["BORDERPASS_DATABASE_URL"].startswith(
        "postgresql"):
    # Tests run in several worker processes (pytest-xdist): each has a PostgreSQL database
    # of its own beside the one named, made here and dropped when the worker ends.
    from tests.databases import worker_database

    os.environ["BORDERPASS_DATABASE_URL"] = worker_database(
        os.environ["BORDERPASS_DATABASE_URL"], os.environ["PYTEST_XDIST_WORKER"])

from borderpass.kit.config import get_settings, reset_settings  # noqa: E402
from borderpass.kit.db import engine_for, get_engine  # noqa: E402
from borderpass.kit.logging import configure_logging  # noqa: E402
from borderpass.wiring import wire  # noqa: E402

reset_settings()
configure_logging(get_settings().log_level, get_settings().log_file)
wire()  # the handlers between domains, as the app and the command line connect them

# Every token and session id issued is noted, so that the end of the run can look for
# them where they must never be (``pytest_sessionfinish`` below).
from tests.secrets_scan import record_issued  # noqa: E402

record_issued()
_SCAN_REPORTS = "BORDERPASS_TEST_SCAN_REPORTS"
if not os.environ.get(_SCAN_REPORTS):  # the main process: its workers inherit the folder
    os.environ[_SCAN_REPORTS] = tempfile.mkdtemp(prefix="borderpass-scan-")

# An instant to test against, fixed so that tests do not depend on the day they run.
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Hong Kong
DEMO_PDF = b"%PDF-1.4\n%test proof of address\n%%EOF\n"


def database_url() -> str:
    return get_settings().database_url


def is_postgres() -> bool:
    return database_url().startswith("postgresql")


def reset_database(engine: Engine) -> None:
    """Empty the test database completely, so that migrations build it from nothing."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        path = Path(engine.url.database or "")
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    from borderpass.migrations import upgrade

    url = database_url()
    engine = engine_for(url)
    reset_database(engine)
    upgrade(url)
    yield engine
    engine.dispose()


@pytest.fixture()
def connection(engine: Engine) -> Iterator[Any]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture()
def factory(connection: Any) -> sessionmaker[Session]:
    """Sessions on the test's connection: their commits release savepoints only."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture()
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


@pytest.fixture()
def now() -> datetime:
    return NOW


@pytest.fixture()
def app(factory: sessionmaker[Session], now: datetime) -> Any:
    from borderpass.web.app import create_app

    application = create_app()
    application.state.session_factory = factory
    application.state.clock = lambda: application.state.now
    application.state.now = now
    return application


@pytest.fixture()
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture()
def register_person(session: Session, now: datetime) -> Callable[..., Any]:
    """Register and activate a person through the services; return the Person."""
    from borderpass.evidence import service as _evidence  # noqa: F401 - attaches evidence
    from borderpass.identity import service as identity
    from borderpass.identity.schemas import RegistrationDetails

    helper = identity.create_staff(session, f"help-{uuid.uuid4().hex[:8]}", "Help", "help_desk",
                                   "password-123", now=now)

    def make(number: str = "A123456(3)", kind: str = "hkid", **overrides: Any) -> Any:
        registration = identity.start_registration(session, now=now)
        fields: dict[str, Any] = {
            "name_zh": "陳大文", "name_en": "CHAN Tai Man", "document_kind": kind,
            "document_number": number, "document_issued_on": "2015-01-01",
            "hrp_number": None, "phone": "+85291234567",
            "address": "Flat A, 12/F, 1 Test Road, Tsuen Wan", "password": "password-123",
        }
        fields.update(overrides)
        details = RegistrationDetails.model_validate(fields)
        identity.submit_registration(session, registration.id, details, DEMO_PDF, now=now)
        return identity.activate_by_officer(session, registration.id, officer=helper.id, now=now)

    return make


@pytest.fixture()
def lab(session: Session, now: datetime) -> tuple[Any, str]:
    """A laboratory source and its API key."""
    from borderpass.evidence import service as evidence

    return evidence.create_source(session, f"Lab {uuid.uuid4().hex[:6]}", "lab", now=now)


@pytest.fixture()
def staff_token(session: Session, now: datetime) -> Callable[[str], tuple[Any, str]]:
    """Make a staff member of a role; return it and a bearer token."""
    from borderpass.identity import service as identity

    def make(role: str) -> tuple[Any, str]:
        name = f"{role}-{uuid.uuid4().hex[:6]}"
        identity.create_staff(session, name, name, role, "password-123", now=now)
        member, token, _ = identity.sign_in_staff(session, name, "password-123", now=now)
        return member, token

    return make


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# --------------------------------------------------------------------------- the command line

_TEST_LOGGING = (get_settings().log_level, get_settings().log_file)


def _forget_settings() -> None:
    """Drop what was read from the settings, after the environment changed."""
    from borderpass.echannel.keys import reset_keys

    reset_settings()
    reset_keys()


class Command:
    """The ``borderpass`` command, run in this process by Typer's ``CliRunner``.

    It commits through the real unit of work, not the test's rolled-back transaction: on
    the test database a test uses names of its own and deletes what it made, or it takes
    ``own_settings`` for a database of its own.
    """

    def __init__(self) -> None:
        from typer.testing import CliRunner

        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None,
                 env: dict[str, str] | None = None) -> Result:
        """Run ``borderpass ARGS``; ``env`` adds to the environment for this run only.

        An exception the command does not turn into an exit code fails the test, as a
        traceback would.
        """
        from borderpass.cli import app

        try:
            with pytest.MonkeyPatch.context() as patch:
                for name, value in (env or {}).items():
                    patch.setenv(name, value)
                if env:
                    _forget_settings()
                return self.runner.invoke(app, list(args), input=input,
                                          catch_exceptions=False)
        finally:
            if env:
                _forget_settings()
            # The command sent its log to its own stderr; the tests log as before.
            configure_logging(*_TEST_LOGGING)


@pytest.fixture()
def cli(engine: Engine) -> Command:
    """The ``borderpass`` command, in this process, on the migrated test database."""
    return Command()


@pytest.fixture()
def own_settings() -> Iterator[Callable[[Path, str], None]]:
    """Point the settings at a var folder and a database of the test's own, with nothing
    else from the environment, as a command started afresh there would see them."""
    patch = pytest.MonkeyPatch()

    def use(var: Path, url: str) -> None:
        for name in [name for name in os.environ if name.startswith("BORDERPASS_")]:
            patch.delenv(name)
        patch.setenv("BORDERPASS_VAR_DIR", str(var))
        patch.setenv("BORDERPASS_DATABASE_URL", url)
        _forget_settings()

    yield use
    get_engine().dispose()  # the commands' connections to that database, closed
    patch.undo()
    _forget_settings()
    configure_logging(*_TEST_LOGGING)


# --------------------------------------------------------------- secrets, after the whole run

def _private(path: Path) -> bool:
    return not path.exists() or path.stat().st_mode & 0o077 == 0


def _scan_this_process(session: pytest.Session) -> list[str]:
    """Look for secrets in this process's log and database (and the files tests made under
    pytest's temporary folder), and check that they are readable by their owner only."""
    from tests.messages import PINS
    from tests.secrets_scan import dump_postgres, find, mailbox_pins

    places: dict[str, bytes] = {}
    files: list[Path] = []
    log_file = _TEST_LOGGING[1]
    if log_file is not None:
        files.append(log_file)
    if is_postgres():
        places[f"pg_dump of {make_url(database_url()).database}"] = dump_postgres(database_url())
    else:
        database = Path(make_url(database_url()).database or "")
        files += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    pins = set(PINS) | mailbox_pins(_VAR / "mailbox")
    temporary = getattr(session.config, "_tmp_path_factory", None)
    if temporary is not None:
        base = temporary.getbasetemp()
        for pattern in ("*.log", "*.sqlite3", "*.sqlite3-wal"):
            files += sorted(base.rglob(pattern))
        for mailbox in base.rglob("mailbox"):
            pins |= mailbox_pins(mailbox)
    found = []
    for file in files:
        if file.exists():
            places[str(file)] = file.read_bytes()
            if not _private(file):
                found.append(f"{file}: mode {oct(file.stat().st_mode & 0o777)}, not 0600")
    for secret in [_VAR / "secrets.json", *(_VAR / "keys").glob("*"),
                   *(_VAR / "mailbox").glob("*")]:
        if secret.is_file() and not _private(secret):
            found.append(f"{secret}: mode {oct(secret.stat().st_mode & 0o777)}, not 0600")
    return found + find(places, pins=pins)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After every test: no PIN, password, token or document number in the logs, the
    database or its WAL, and those files 0600. A worker reports to the main process,
    which fails the run if any worker found something."""
    reports = Path(os.environ[_SCAN_REPORTS])
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    distributed = not worker and (session.config.getoption("numprocesses", None) or 0) != 0 \
        and session.config.pluginmanager.hasplugin("dsession")
    if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.USAGE_ERROR):
        return
    if not distributed:
        found = _scan_this_process(session)
        if worker:
            (reports / f"{worker}.txt").write_text("".join(f"{line}\n" for line in found))
            return
    else:
        found = [line for report in sorted(reports.glob("*.txt"))
                 for line in report.read_text().splitlines()]
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "secrets found where they must never be", red=True)
            for line in found:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
