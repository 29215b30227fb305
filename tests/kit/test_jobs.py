"""Background jobs: collected in a unit of work and sent only once it commits, retried with
backoff, dead-lettered with the reason; the domains' jobs do what the daily commands did
(deliver each message once, publish the lists, re-evaluate, purge); the scheduler sends
each periodic job once a period, however many schedulers run."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from borderpass.checkin import service as checkin
from borderpass.checkin.schemas import CaseIn
from borderpass.evidence.events import EvidenceChanged
from borderpass.healthcode.models import PersonStatus
from borderpass.kit import events, jobs, outbox
from borderpass.kit.config import get_settings, reset_settings
from borderpass.kit.db import unit_of_work
from tests.conftest import DEMO_PDF
from tests.messages import mailbox, pin_of

RAN: list[str] = []
TRIES: dict[str, int] = {}


@jobs.actor("test.note", unit=False, max_retries=0)
def note(value: str) -> None:
    RAN.append(value)


@jobs.actor("test.refuse", unit=False, max_retries=0)
def refuse(value: str) -> None:
    raise ValueError(f"cannot take {value}")


@jobs.actor("test.flaky", unit=False, max_retries=4)
def flaky(key: str, failures: int) -> None:
    TRIES[key] = TRIES.get(key, 0) + 1
    if TRIES[key] <= failures:
        raise ConnectionError(f"try {TRIES[key]} failed")


@jobs.actor("test.write", max_retries=0)
def write(session: Session, value: str) -> None:
    session.execute(text("SELECT 1"))
    RAN.append(f"in a unit: {value}")


def waiting() -> int:
    return sum(count.ready + count.delayed + count.running for count in jobs.queue_counts())


@pytest.fixture()
def queued() -> Iterator[None]:
    """The process's in-memory broker, emptied before and after the test."""
    jobs.clear()
    RAN.clear()
    yield
    jobs.clear()


@pytest.fixture()
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BORDERPASS_JOBS_MIN_BACKOFF_SECONDS", "0.02")
    monkeypatch.setenv("BORDERPASS_JOBS_MAX_BACKOFF_SECONDS", "0.1")
    reset_settings()
    jobs.reset_broker()
    yield
    monkeypatch.undo()
    reset_settings()
    jobs.reset_broker()


# -- sent after the commit, never for a rollback ----------------------------------------------


def test_a_job_is_sent_only_once_its_unit_commits(factory: sessionmaker[Session],
                                                   queued: None) -> None:
    with unit_of_work(factory) as session:
        session.execute(text("SELECT 1"))
        jobs.enqueue(session, "test.note", "committed")
        jobs.enqueue(session, "test.note", "committed")  # the same job, collected once
        assert waiting() == 0, "sent before the commit"
    assert waiting() == 1
    jobs.drain()
    assert RAN == ["committed"]


def test_a_rolled_back_unit_sends_nothing(factory: sessionmaker[Session], queued: None) -> None:
    with pytest.raises(RuntimeError), unit_of_work(factory) as session:
        session.execute(text("SELECT 1"))
        jobs.enqueue(session, "test.note", "rolled back")
        raise RuntimeError("refused")
    assert waiting() == 0
    jobs.drain()
    assert RAN == []


def test_a_savepoint_rolled_back_drops_only_its_own_jobs(factory: sessionmaker[Session],
                                                        queued: None) -> None:
    with unit_of_work(factory) as session:
        session.execute(text("SELECT 1"))
        jobs.enqueue(session, "test.note", "outer")
        inner = session.begin_nested()
        jobs.enqueue(session, "test.note", "inner, rolled back")
        inner.rollback()
        kept = session.begin_nested()
        jobs.enqueue(session, "test.note", "inner, released")
        kept.commit()
        assert waiting() == 0, "a released savepoint is not a commit"
    jobs.drain()
    assert sorted(RAN) == ["inner, released", "outer"]


def test_unknown_jobs_and_arguments_that_are_not_json_are_refused(session: Session) -> None:
    with pytest.raises(LookupError, match="no job named 'test.nothing'"):
        jobs.enqueue(session, "test.nothing")
    with pytest.raises(TypeError, match="JSON values"):
        jobs.enqueue(session, "test.note", uuid.uuid4())


def test_a_job_with_a_unit_commits_its_own(queued: None, factory: sessionmaker[Session]) -> None:
    jobs.send("test.write", "x")
    with jobs.bind(factory):
        jobs.drain()
    assert RAN == ["in a unit: x"]


# -- retries and dead letters ---------------------------------------------------------------


def test_a_failing_job_is_retried_with_backoff(queued: None, fast_retries: None) -> None:
    key = uuid.uuid4().hex
    jobs.send("test.flaky", key, 2)
    jobs.drain()
    assert TRIES[key] == 3
    assert jobs.dead_letters() == []


def test_a_dead_letter_carries_the_reason(queued: None) -> None:
    jobs.send("test.refuse", "this")
    jobs.drain()
    dead = jobs.dead_letters()
    assert len(dead) == 1
    assert (dead[0].name, dead[0].args, dead[0].reason) == (
        "test.refuse", ["this"], "ValueError: cannot take this")
    assert {count.queue: count.dead for count in jobs.queue_counts()}["default"] == 1


def test_retries_run_out_then_the_job_is_dead(queued: None, fast_retries: None) -> None:
    key = uuid.uuid4().hex
    jobs.send("test.flaky", key, 99)
    jobs.drain()
    assert TRIES[key] == 5  # the first try and 4 retries
    (dead,) = jobs.dead_letters()
    assert dead.reason == "ConnectionError: try 5 failed" and dead.retries == 4


# -- what the domains' jobs do ---------------------------------------------------------------


def test_a_message_is_delivered_by_its_job_once(factory: sessionmaker[Session], now: datetime,
                                                queued: None) -> None:
    with unit_of_work(factory) as session:
        message = outbox.queue(session, channel="sms", purpose="test", recipient="+85291234567",
                               body="hello from a job", reference=f"ref-{uuid.uuid4()}",
                               now=now)
    folder = get_settings().mailbox_dir
    with jobs.bind(factory, clock=lambda: now):
        jobs.drain()
        assert mailbox(folder)[message.id].endswith("hello from a job\n")
        files = sorted(folder.glob(f"*{message.id}*"))
        jobs.send("outbox.deliver", str(message.id))  # delivered twice: sent once
        jobs.send("outbox.sweep")
        jobs.drain()
    assert sorted(folder.glob(f"*{message.id}*")) == files and len(files) == 1
    with unit_of_work(factory) as session:
        assert outbox.deliver_one(session, outbox.MailboxSender(), message.id, now=now) is False
        assert outbox.messages_for(session, message.reference or "")[0].sent_at == now


def test_a_registration_gets_its_pin_from_the_job(client: Any, factory: sessionmaker[Session],
                                                  now: datetime, queued: None) -> None:
    started = client.post("/api/registrations").json()["id"]
    number = "A123456(3)"
    form = {"name_zh": "陳美玲", "name_en": "CHAN Mei Ling", "document_kind": "hkid",
            "document_number": number, "document_issued_on": "2018-03-01",
            "phone": "+852 9123 4567", "address": "Flat C, 8/F, 3 Harbour Road, Wan Chai",
            "password": "correct horse battery", "locale": "en"}
    submitted = client.post(f"/api/registrations/{started}/details", data=form,
                            files={"proof": ("bill.pdf", DEMO_PDF, "application/pdf")})
    assert submitted.status_code == 200, submitted.text
    with jobs.bind(factory, clock=lambda: now):
        jobs.drain()
    with unit_of_work(factory) as session:
        (message,) = outbox.messages_for(session, started)
    pin = pin_of(mailbox(get_settings().mailbox_dir)[message.id])
    assert pin is not None
    activated = client.post(f"/api/registrations/{started}/activate", json={"pin": pin})
    assert activated.status_code == 200, activated.text


def test_a_large_evidence_change_is_reevaluated_by_jobs(
        factory: sessionmaker[Session], session: Session, now: datetime, register_person: Any,
        queued: None, monkeypatch: pytest.MonkeyPatch) -> None:
    person = register_person("A123456(3)")
    session.commit()
    monkeypatch.setattr(get_settings(), "reevaluate_inline_max", 0)
    later = now + timedelta(hours=1)
    with unit_of_work(factory) as unit:
        events.publish(unit, EvidenceChanged([person.id], "test", later))
    assert {count.queue: count.ready for count in jobs.queue_counts()}["bulk"] == 1
    with jobs.bind(factory, clock=lambda: later):
        jobs.drain()
    status = session.scalars(select(PersonStatus).where(PersonStatus.person_id == person.id)).one()
    session.refresh(status)
    assert status.evaluated_at == later


def test_a_case_publishes_the_exposure_list(factory: sessionmaker[Session], now: datetime,
                                            queued: None) -> None:
    officer = uuid.uuid4()
    with unit_of_work(factory) as session:
        checkin.record_case(session, CaseIn(venue_id="ABCD2345", starts_at=now - timedelta(
            hours=3), ends_at=now - timedelta(hours=2)), officer=officer, now=now)
    with jobs.bind(factory, clock=lambda: now):
        jobs.drain()
    published = get_settings().publish_dir
    assert published is not None
    with unit_of_work(factory) as session:
        served = checkin.exposure_list(session, now=now)
    assert (published / "exposure-list.txt").read_text(encoding="ascii") == served


def test_a_revocation_publishes_the_lists(
        factory: sessionmaker[Session], session: Session, now: datetime, register_person: Any,
        queued: None) -> None:
    from borderpass.healthcode import service as healthcode
    from borderpass.healthcode.lists import open_list

    person = register_person("A123456(3)")
    session.commit()
    with unit_of_work(factory) as unit:
        issued = healthcode.issue(unit, person.id, now=now)
    with unit_of_work(factory) as unit:
        assert healthcode.revoke_codes(unit, person.id, now=now, reason="test",
                                       include_red=True) == 1
    with jobs.bind(factory, clock=lambda: now):
        jobs.drain()
    published = get_settings().publish_dir
    assert published is not None
    bundle = json.loads((published / "trust-list-export.json").read_text())
    revocations, _kid = open_list(bundle["revocations"], "revocations")
    assert issued.valid_until > now and len(revocations["entries"]) >= 1


# -- the scheduler ----------------------------------------------------------------------------


def test_the_scheduler_sends_each_periodic_job_once_a_period(queued: None) -> None:
    periodic = {name for name, job in jobs.jobs().items() if job.period() is not None}
    assert {"outbox.sweep", "permits.remind", "checkin.purge", "registrations.purge",
            "accounts.purge", "sessions.purge", "gates.purge", "partners.sync"} <= periodic
    scheduler = jobs.Scheduler()
    assert 0 < scheduler.tick() <= 60
    assert waiting() == len(periodic)
    scheduler.tick()
    assert waiting() == len(periodic), "sent twice in one period"


# -- with Redis --------------------------------------------------------------------------------


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture()
def redis_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The jobs on Redis (127.0.0.1:6379) under a namespace of the test's own."""
    if not _redis_answers():
        pytest.skip("no Redis answers on 127.0.0.1:6379")
    import redis

    namespace = f"borderpass-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("BORDERPASS_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("BORDERPASS_JOBS_NAMESPACE", namespace)
    reset_settings()
    jobs.reset_broker()
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        yield client
    finally:
        jobs.reset_broker()
        for key in client.scan_iter(match=f"{namespace}:*"):
            client.delete(key)
        client.close()
        monkeypatch.undo()
        reset_settings()


def test_on_redis_two_schedulers_send_each_job_once(redis_jobs: Any) -> None:
    assert jobs.broker_reachable()
    first, second = jobs.Scheduler(), jobs.Scheduler()
    first.tick()
    second.tick()
    periodic = [name for name, job in jobs.jobs().items() if job.period() is not None]
    counts = {count.queue: count for count in jobs.queue_counts()}
    assert counts["default"].ready == len(periodic)
    assert counts["bulk"].ready == 0


def test_on_redis_a_dead_letter_carries_the_reason(redis_jobs: Any) -> None:
    jobs.send("test.refuse", "that")
    stop = threading.Event()
    runner = threading.Thread(target=jobs.run_worker, kwargs={"threads": 1, "stop": stop})
    runner.start()
    try:
        for _ in range(200):
            if jobs.dead_letters():
                break
            time.sleep(0.05)
    finally:
        stop.set()
        runner.join()
    (dead,) = jobs.dead_letters()
    assert (dead.name, dead.reason) == ("test.refuse", "ValueError: cannot take that")
    counts = {count.queue: count for count in jobs.queue_counts()}
    assert (counts["default"].ready, counts["default"].running, counts["default"].dead) == (0, 0, 1)


def test_without_redis_the_broker_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("BORDERPASS_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    reset_settings()
    jobs.reset_broker()
    try:
        assert jobs.broker_reachable() is False
    finally:
        monkeypatch.undo()
        reset_settings()
        jobs.reset_broker()
