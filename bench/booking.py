"""Book 10,000 appointments through the HTTP API; print bookings per second and p95 latency.

The server runs in a subprocess (uvicorn on 127.0.0.1, a free port) against a throwaway
SQLite database under a temporary directory, or against BORDERPASS_DATABASE_URL when it
is set. Applications are created beforehand through the services; only the bookings are
timed. Clients pick slots at random and move on to another slot when one is full, so
slots fill up under contention. At the end the bench checks that no slot is overbooked.

    python -m bench.booking [--bookings N] [--clients C]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prepare(bookings: int) -> tuple[str, list[str], list[tuple[str, str]]]:
    """Create an office, enough slots and the applications; return slot ids and tokens."""
    from borderpass.identity.documents import mainland_check_character
    from borderpass.identity.schemas import Principal
    from borderpass.kit.clock import hk_date, utcnow
    from borderpass.kit.config import get_settings
    from borderpass.kit.db import unit_of_work
    from borderpass.migrations import upgrade
    from borderpass.permits import service
    from borderpass.permits.schemas import ApplicationIn, OfficeIn, SlotsIn

    upgrade(get_settings().database_url)
    now = utcnow()
    code = f"BENCH-{uuid.uuid4().hex[:6]}"
    officer = Principal(kind="staff", id=uuid.uuid4(), role="exit_entry_officer")
    slots: list[str] = []
    applicants: list[tuple[str, str]] = []
    with unit_of_work() as session:
        service.create_office(session, OfficeIn(code=code, name="Bench hall", address="Bench"),
                              now=now)
        # 100 slots of 6 minutes from 08:00 to 18:00, on as many days as the bookings need.
        per_day = 100 * 100
        for offset in range(1, bookings // per_day + 2):
            day = hk_date(now) + timedelta(days=offset)
            published = service.publish_slots(
                session, code, SlotsIn(day=day, opens="08:00", closes="18:00", minutes=6,
                                       capacity=100), officer=officer, now=now)
            slots += [str(slot.id) for slot in published]
            if len(slots) * 100 >= bookings:
                break
    for start in range(0, bookings, 1000):
        with unit_of_work() as session:
            for number in range(start, min(start + 1000, bookings)):
                body = f"{110000 + number // 1000}19800101{number % 1000:03d}"
                data = ApplicationIn(
                    mainland_id=body + mainland_check_character(body),
                    name="李明", phone="+8613800138000", permit_number="C12345678",
                    kind="emergency", reason="medical_treatment")
                application, token, _ = service.create_application(session, data, now=now)
                applicants.append((str(application.id), token))
    return code, slots, applicants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="borderpass-bench-"))
    os.environ["BORDERPASS_VAR_DIR"] = str(workdir)
    os.environ["BORDERPASS_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("BORDERPASS_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    database = os.environ["BORDERPASS_DATABASE_URL"].split(":", 1)[0]
    from borderpass.kit.config import get_settings
    from borderpass.kit.logging import configure_logging

    configure_logging("WARNING", None)
    get_settings()  # generate the throwaway secrets once, before the server reads them
    started = time.perf_counter()
    code, slots, applicants = _prepare(args.bookings)
    prepared = time.perf_counter() - started

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "borderpass.web.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"],
        env=os.environ.copy(), stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)

        latencies: list[float] = []
        outcomes = {"booked": 0, "full": 0, "error": 0}
        lock = threading.Lock()
        queue = list(applicants)
        random.seed(7)

        def client() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            rng = random.Random()
            while True:
                with lock:
                    if not queue:
                        break
                    application_id, token = queue.pop()
                headers = {"Authorization": f"Bearer {token}",
                           "Content-Type": "application/json"}
                # Try slots in a random order, each once: someone finds the last place.
                for slot_id in rng.sample(slots, len(slots)):
                    body = json.dumps({"slot_id": slot_id})
                    began = time.perf_counter()
                    connection.request("POST", f"/api/permits/applications/{application_id}"
                                       "/appointment", body=body, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    elapsed = time.perf_counter() - began
                    with lock:
                        latencies.append(elapsed)
                        if response.status == 201:
                            outcomes["booked"] += 1
                        elif response.status == 409:
                            outcomes["full"] += 1
                        else:
                            outcomes["error"] += 1
                    if response.status != 409:
                        break
            connection.close()

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=10)

    from borderpass.kit.clock import hk_date, utcnow
    from borderpass.kit.db import unit_of_work
    from borderpass.permits import service

    with unit_of_work() as session:
        booked = 0
        for offset in range(1, 4):
            day = hk_date(utcnow()) + timedelta(days=offset)
            for slot in service.list_slots(session, code, day):
                if slot.booked > slot.capacity:
                    raise SystemExit(f"overbooked slot {slot.id}")
                booked += slot.booked
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else 0.0
    print(
        f"booking: {outcomes['booked']:,} bookings in {took:.1f} s = "
        f"{outcomes['booked'] / took:,.0f} bookings/s; p95 {p95:.1f} ms, "
        f"median {latencies[len(latencies) // 2] * 1000:.1f} ms over {len(latencies):,} "
        f"requests ({outcomes['full']} slot-full retries, {outcomes['error']} errors); "
        f"{args.clients} clients, {database}; {booked:,} places taken, none overbooked; "
        f"setup {prepared:.0f} s"
    )
    if outcomes["error"] or booked != outcomes["booked"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
