"""The production topology, on this machine: PostgreSQL (a scratch database beside the
suite's, so this runs when the suite runs on PostgreSQL), Redis (skipped when none answers
on 127.0.0.1:6379), two ``borderpass serve``, a ``borderpass worker`` and the
``borderpass scheduler``. Nobody runs a command after start-up:

- a registration through the API gets its PIN delivered to the mailbox by the worker, and
  the PIN activates the account through the other web process;
- the worker is killed (SIGKILL) in the middle of a flood of deliveries (a mailbox that
  takes its time, ``tests/slow_mailbox.py``) and another started: every message is
  delivered, none twice (one file per outbox row; the one the killed worker may have
  been handing over at that instant is the only one that may be handed over again, and
  it replaces its own file), and no job is left in Redis, waiting or unacknowledged;
- the scheduler's periodic jobs run on the worker.

And the embedded default (run when the suite runs on SQLite): one ``borderpass serve``
with SQLite and no broker delivers a PIN by itself.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.messages import mailbox, pin_of
from tests.web.served import PROOF_PDF, Database, Server, _command, call, hkid, multipart

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
FLOOD = 16


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _suite_on_postgres() -> bool:
    return os.environ.get("BORDERPASS_DATABASE_URL", "").startswith("postgresql")


def _wait(what: str, done: Callable[[], bool], seconds: float, *logs: Path) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {log}\n" + "\n".join(
                log.read_text(errors="replace").splitlines()[-25:]) for log in logs
                if log.exists())
            raise AssertionError(f"{what}: not within {seconds} s\n{tails}")
        time.sleep(0.05)


@dataclass
class Process:
    """A ``borderpass`` command running in the background, its output in a log."""

    args: tuple[str, ...]
    env: dict[str, str]
    folder: Path
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen([*_command(), *self.args], env=self.env,
                                          cwd=self.folder, stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Topology:
    servers: tuple[Server, Server]
    database: Database
    folder: Path
    env: dict[str, str]
    namespace: str
    redis: Any
    processes: list[Process]

    @property
    def var(self) -> Path:
        return self.servers[0].var

    def run(self, *args: str, log: str) -> Process:
        process = Process(args, self.env, self.folder, self.folder / log)
        process.start()
        self.processes.append(process)
        return process

    def logs(self) -> list[Path]:
        return [process.log for process in self.processes] + [self.var / "log" /
                                                              "borderpass.log"]


@pytest.fixture()
def topology() -> Iterator[Topology]:
    if not _suite_on_postgres():
        pytest.skip("runs when the suite runs on PostgreSQL (the production database)")
    if not _redis_answers():
        pytest.skip("no Redis answers on 127.0.0.1:6379")
    import redis

    folder = Path(tempfile.mkdtemp(prefix="borderpass-topology-"))
    database = Database.create(folder)  # a scratch database beside the suite's
    servers = (Server(folder, database), Server(folder, database))
    namespace = f"borderpass-topology-{uuid.uuid4().hex[:10]}"
    settings = {
        "BORDERPASS_REDIS_URL": "redis://127.0.0.1:6379/0",
        "BORDERPASS_JOBS_NAMESPACE": namespace,
        "BORDERPASS_JOBS_WORKER_TIMEOUT_SECONDS": "2",
        "BORDERPASS_OUTBOX_SENDER": "tests.slow_mailbox:SlowMailbox",
        "SLOW_MAILBOX_SECONDS": "0.15",
        "PYTHONPATH": str(REPO),
    }
    for server in servers:
        server.env.update(settings)
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    found = Topology(servers, database, folder, dict(servers[0].env), namespace, client, [])
    try:
        servers[0].cli("db", "upgrade")
        yield found
    finally:
        for process in found.processes:
            process.stop()
        for server in servers:
            server.stop()
        database.close()
        for key in client.scan_iter(match=f"{namespace}:*"):
            client.delete(key)
        client.close()
        if os.environ.get("BORDERPASS_KEEP_SERVED"):
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _register(server: Server, serial: int) -> str:
    started = call(server.port, "POST", "/api/registrations")
    assert started.status == 201, started.body[:300]
    registration = str(started.json()["id"])
    headers, body = multipart({
        "name_zh": "陳美玲", "name_en": "CHAN Mei Ling", "document_kind": "hkid",
        "document_number": hkid(serial, "T"), "document_issued_on": "2018-03-01",
        "phone": f"+852 9{serial % 10_000_000:07d}",
        "address": f"Flat {serial}, 8/F, 3 Harbour Road, Wan Chai",
        "password": "correct horse battery", "locale": "en",
    }, {"proof": ("bill.pdf", PROOF_PDF, "application/pdf")})
    submitted = call(server.port, "POST", f"/api/registrations/{registration}/details",
                     headers=headers, body=body)
    assert submitted.status == 200, submitted.body[:300]
    return registration


def _outbox(topology: Topology) -> dict[uuid.UUID, tuple[str, bool]]:
    """Each outbox row: what it is about, and whether it was sent."""
    return {uuid.UUID(str(row[0])): (str(row[1]), row[2] is not None)
            for row in topology.database.rows("SELECT id, reference, sent_at FROM outbox")}


def _sends(topology: Topology) -> list[str]:
    noted = topology.var / "sends.txt"
    return noted.read_text(encoding="ascii").split() if noted.exists() else []


def test_the_worker_delivers_and_a_killed_worker_loses_nothing(topology: Topology) -> None:
    worker = topology.run("worker", "--threads", "1", log="worker-1.log")
    topology.run("scheduler", log="scheduler.log")
    first, second = topology.servers
    with ThreadPoolExecutor(2) as starting:  # the two web processes start side by side
        list(starting.map(Server.start, topology.servers))
    logs = [*topology.logs(), first.log, second.log]

    # A newcomer registers on one web process; nobody runs a command.
    registration = _register(first, 1)

    def pin_arrived() -> bool:
        rows = [i for i, (ref, sent) in _outbox(topology).items() if ref == registration and sent]
        return bool(rows) and rows[0] in mailbox(topology.var / "mailbox")

    _wait("the PIN in the mailbox", pin_arrived, 20, *logs)
    (message_id,) = [i for i, (ref, _) in _outbox(topology).items() if ref == registration]
    pin = pin_of(mailbox(topology.var / "mailbox")[message_id])
    assert pin is not None
    activated = call(second.port, "POST", f"/api/registrations/{registration}/activate",
                     json_body={"pin": pin})
    assert activated.status == 200, activated.body[:300]

    # A flood of registrations over both web processes; the worker is killed once it has
    # delivered a few of them, while the others are still coming in.
    before = len(_sends(topology))
    with ThreadPoolExecutor(4) as flooding:
        flood = [flooding.submit(_register, topology.servers[serial % 2], serial)
                 for serial in range(2, 2 + FLOOD)]
        _wait("a few deliveries of the flood", lambda: len(_sends(topology)) >= before + 3,
              30, *logs)
        worker.kill()
        for registered in flood:
            registered.result()
    unsent = [i for i, (_, sent) in _outbox(topology).items() if not sent]
    assert unsent, "the flood was delivered before the worker was killed: make it larger"
    topology.run("worker", "--threads", "2", log="worker-2.log")

    def all_sent() -> bool:
        return all(sent for _, sent in _outbox(topology).values())

    _wait("every message sent after the worker was killed", all_sent, 30, *logs)
    rows = _outbox(topology)
    assert len(rows) == FLOOD + 1
    files = mailbox(topology.var / "mailbox")
    assert set(files) == set(rows), "one mailbox file for each outbox row"
    assert all(pin_of(text) for text in files.values())
    handed = Counter(_sends(topology))
    assert set(handed) == {str(i) for i in rows}
    twice = [message for message, times in handed.items() if times > 1]
    assert len(twice) <= 1 and all(handed[m] == 2 for m in twice), handed

    # Nothing is left in Redis: neither waiting nor held by the dead worker.
    def queues_empty() -> bool:
        ns = topology.namespace
        return all(topology.redis.llen(f"{ns}:{q}") == 0 and topology.redis.hlen(
            f"{ns}:{q}.msgs") == 0 for q in ("default", "bulk"))

    _wait("Redis's queues empty", queues_empty, 10, *logs)
    assert topology.redis.zcard(f"{topology.namespace}:default.XQ") == 0

    # The scheduler sent the periodic jobs, which the workers ran.
    log = (topology.var / "log" / "borderpass.log").read_text(errors="replace")
    done = {entry.get("job") for entry in map(_json, log.splitlines())
            if entry.get("event") == "job.done"}
    assert {"outbox.deliver", "outbox.sweep", "sessions.purge", "gates.purge"} <= done, done


def _json(line: str) -> dict[str, Any]:
    with suppress(ValueError):
        found = json.loads(line)
        if isinstance(found, dict):
            return found
    return {}


def test_without_a_broker_the_server_delivers_the_pin_itself() -> None:
    if _suite_on_postgres():
        pytest.skip("the embedded default is SQLite: runs when the suite runs on SQLite")
    folder = Path(tempfile.mkdtemp(prefix="borderpass-embedded-"))
    database = Database.create(folder, "")
    server = Server(folder, database)
    try:
        server.cli("db", "upgrade")
        server.start()
        registration = _register(server, 1)

        def delivered() -> bool:
            rows = database.rows("SELECT id FROM outbox WHERE reference = :r", r=registration)
            files = mailbox(server.var / "mailbox")
            return bool(rows) and uuid.UUID(str(rows[0][0])) in files

        _wait("the PIN in the mailbox", delivered, 15, server.log)
        (row,) = database.rows("SELECT id FROM outbox WHERE reference = :r", r=registration)
        pin = pin_of(mailbox(server.var / "mailbox")[uuid.UUID(str(row[0]))])
        activated = call(server.port, "POST", f"/api/registrations/{registration}/activate",
                         json_body={"pin": pin})
        assert activated.status == 200, activated.body[:300]
    finally:
        server.stop()
        database.close()
        shutil.rmtree(folder, ignore_errors=True)
