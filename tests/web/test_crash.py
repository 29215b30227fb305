"""A SIGKILL of the server right after an acknowledgement loses nothing.

The app is served as the README says (``tests/web/served.py``). Each trial sends one
request, and the moment its answer has been read the server is killed with SIGKILL: no
shutdown, no flush, no chance to finish anything after the answer. The server is then
started again and what was acknowledged must be there, in the database and through the
API:

- an evidence batch (``POST /api/evidence/tests`` with the laboratory's API key): every
  row of the batch is stored, and sending the batch again inserts nothing;
- each step of a registration: started, then submitted (with its PIN in the outbox),
  then activated (the person active, the password and the access token working).

And a batch whose worker process (``kit.offload``) is killed with SIGKILL while it writes
keeps nothing: the request is answered 503 with Retry-After, and the same batch sent again
lands whole.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.messages import mailbox, pin_of
from tests.web.served import (
    PROOF_PDF,
    RESIDENTS,
    Reply,
    Server,
    call,
    hkid,
    multipart,
    served,
)

pytestmark = pytest.mark.slow

TRIALS = int(os.environ.get("BORDERPASS_TEST_CRASH_TRIALS", "10"))
BATCH_ROWS = 50
HK = ZoneInfo("Asia/Hong_Kong")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with served("crash") as running:
        yield running


def acknowledged_then_killed(server: Server, method: str, path: str, **options: Any) -> Reply:
    """Send one request; kill the server the moment its answer is read; start it again."""
    try:
        reply = call(server.port, method, path, **options)
    finally:
        server.kill()
    server.start()
    return reply


def as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def batch(trial: int) -> bytes:
    now = datetime.now(HK)
    collected = (now - timedelta(hours=5)).isoformat(timespec="seconds")
    reported = (now - timedelta(hours=1)).isoformat(timespec="seconds")
    # The first row is for a registered resident (so the batch also re-evaluates her
    # status in its unit of work); the others wait for people not registered yet.
    numbers = [RESIDENTS[0]] + [hkid(trial * BATCH_ROWS + n, "K") for n in range(1, BATCH_ROWS)]
    lines = ["specimen_id,document_kind,document_number,collected_at,reported_at,method,"
             "result,lab\n"]
    lines += [f"KILL-{os.getpid()}-{trial}-{n},hkid,{number},{collected},{reported},PCR,"
              "negative,Demo Laboratory\n" for n, number in enumerate(numbers)]
    return "".join(lines).encode()


def test_evidence_batches_survive_a_kill(server: Server) -> None:
    headers = {"Content-Type": "text/csv", "X-API-Key": server.keys["lab"]}
    lost: list[str] = []
    for trial in range(TRIALS):
        content = batch(trial)
        reply = acknowledged_then_killed(server, "POST", "/api/evidence/tests",
                                         headers=headers, body=content)
        if reply.status != 200:
            lost.append(f"trial {trial}: not acknowledged: {reply.status} {reply.body[:200]!r}")
            continue
        report = reply.json()
        assert report["inserted"] == BATCH_ROWS, report
        stored = server.database.scalar(
            "SELECT count(*) FROM test_results WHERE batch_id = :batch",
            batch=uuid.UUID(report["batch_id"]))
        again = call(server.port, "POST", "/api/evidence/tests", headers=headers, body=content)
        repeated = again.json() if again.status == 200 else {}
        if stored != BATCH_ROWS or (again.status, repeated.get("inserted"),
                                    repeated.get("duplicates")) != (200, 0, BATCH_ROWS):
            lost.append(f"trial {trial}: {stored} of {BATCH_ROWS} rows stored; sent again: "
                        f"{again.status} {again.body[:200]!r}")
    assert not lost, "\n".join(lost) + f"\nserver restarts took {timings(server)}"


def worker_processes(server: Server) -> list[int]:
    """Return the pids of the server's worker processes (spawned children of its process)."""
    assert server.process is not None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == server.process.pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


KILLED_ROWS = 120_000


def test_a_batch_whose_worker_is_killed_keeps_nothing_and_may_be_sent_again(
        server: Server) -> None:
    now = datetime.now(HK)
    collected = (now - timedelta(hours=5)).isoformat(timespec="seconds")
    reported = (now - timedelta(hours=1)).isoformat(timespec="seconds")
    prefix = f"WORKER-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    content = "".join(
        ["specimen_id,document_kind,document_number,collected_at,reported_at,method,result,"
         "lab\n"]
        + [f"{prefix}-{n},hkid,{hkid(n % 50_000, 'W')},{collected},{reported},PCR,negative,"
           "Demo Laboratory\n" for n in range(KILLED_ROWS)]).encode()
    headers = {"Content-Type": "text/csv", "X-API-Key": server.keys["lab"]}
    replies: list[Reply] = []
    sending = threading.Thread(target=lambda: replies.append(call(
        server.port, "POST", "/api/evidence/tests", headers=headers, body=content,
        timeout=300)))
    sending.start()
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while not workers and time.monotonic() < deadline and sending.is_alive():
        workers = worker_processes(server)
        time.sleep(0.05)
    assert workers, "no worker process took the batch"
    time.sleep(1.0)  # well into the batch, which takes seconds
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    sending.join(timeout=120)
    assert replies, "the batch got no answer"
    reply = replies[0]
    assert reply.status == 503, (reply.status, reply.body[:300])
    assert reply.json()["error"]["code"] == "busy"
    assert reply.header("Retry-After")
    stored = server.database.scalar(
        "SELECT count(*) FROM test_results WHERE specimen_id LIKE :prefix",
        prefix=f"{prefix}-%")
    assert stored == 0
    again = call(server.port, "POST", "/api/evidence/tests", headers=headers, body=content,
                 timeout=300)
    assert again.status == 200, again.body[:300]
    assert again.json()["inserted"] == KILLED_ROWS
    assert server.database.scalar(
        "SELECT count(*) FROM test_results WHERE specimen_id LIKE :prefix",
        prefix=f"{prefix}-%") == KILLED_ROWS


def registration_form(serial: int) -> tuple[dict[str, str], bytes]:
    return multipart({
        "name_zh": "何志強", "name_en": "HO Chi Keung", "document_kind": "hkid",
        "document_number": hkid(serial, "C"), "document_issued_on": "2010-01-15",
        "phone": f"+852 6{serial:07d}", "address": f"Room {serial}, 1/F, 9 Help Lane",
        "password": PASSWORD, "locale": "en",
    }, {"proof": ("bill.pdf", PROOF_PDF, "application/pdf")})


def registration_state(server: Server, registration: str) -> tuple[str | None, str | None]:
    """The registration's state and its person's status, as stored."""
    found = server.database.rows("SELECT state, person_id FROM registrations WHERE id = :id",
                                 id=uuid.UUID(registration))
    if not found:
        return None, None
    state, person = found[0]
    status = None if person is None else server.database.scalar(
        "SELECT status FROM people WHERE id = :id", id=as_uuid(person))
    return state, status


def sent_pin(server: Server, registration: str) -> str | None:
    """The latest activation PIN sent for a registration, read from the development
    mailbox after `borderpass outbox deliver`, as the resident's phone would get it."""
    server.cli("outbox", "deliver")
    texts = mailbox(server.var / "mailbox")
    latest = None
    for (message_id,) in server.database.rows(
            "SELECT id FROM outbox WHERE reference = :ref AND purpose = 'activation_pin' "
            "ORDER BY created_at DESC", ref=registration):
        text = texts.get(uuid.UUID(str(message_id)))
        latest = pin_of(text) if text is not None else None
        break
    return latest


def test_registration_steps_survive_a_kill(server: Server) -> None:
    lost: list[str] = []
    for trial in range(TRIALS):
        serial = os.getpid() % 1000 * 1000 + trial
        started = acknowledged_then_killed(server, "POST", "/api/registrations")
        if started.status != 201:
            lost.append(f"trial {trial}: start not acknowledged: {started.status}")
            continue
        registration = started.json()["id"]
        if registration_state(server, registration) != ("started", None):
            lost.append(f"trial {trial}: started, then {registration_state(server, registration)}")
            continue

        headers, body = registration_form(serial)
        submitted = acknowledged_then_killed(
            server, "POST", f"/api/registrations/{registration}/details", headers=headers,
            body=body)
        if submitted.status != 200:
            lost.append(f"trial {trial}: details not acknowledged: {submitted.status} "
                        f"{submitted.body[:200]!r}")
            continue
        pin = sent_pin(server, registration)
        if registration_state(server, registration) != ("submitted", "pending") or pin is None:
            lost.append(f"trial {trial}: submitted, then "
                        f"{registration_state(server, registration)}, PIN {pin}")
            continue

        activated = acknowledged_then_killed(
            server, "POST", f"/api/registrations/{registration}/activate",
            json_body={"pin": pin})
        if activated.status != 200:
            lost.append(f"trial {trial}: activation not acknowledged: {activated.status} "
                        f"{activated.body[:200]!r}")
            continue
        token = activated.json()["access"]["token"]
        if registration_state(server, registration) != ("activated", "active"):
            lost.append(f"trial {trial}: activated, then "
                        f"{registration_state(server, registration)}")
            continue
        me = call(server.port, "GET", "/api/me", headers={"Authorization": f"Bearer {token}"})
        signed_in = call(server.port, "POST", "/api/sessions", json_body={
            "document_kind": "hkid", "document_number": hkid(serial, "C"),
            "password": PASSWORD})
        if me.status != 200 or signed_in.status != 200:
            lost.append(f"trial {trial}: after activation: /api/me {me.status}, "
                        f"sign-in {signed_in.status}")
    assert not lost, "\n".join(lost) + f"\nserver restarts took {timings(server)}"


def timings(server: Server) -> str:
    seconds = server.start_seconds
    return (f"{len(seconds)} starts, mean {sum(seconds) / len(seconds):.2f} s, "
            f"max {max(seconds):.2f} s") if seconds else "no start"
