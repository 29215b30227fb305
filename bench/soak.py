"""Soak: each main endpoint at 20, 50, 100, 200 and 400 concurrent connections, 20 s each.

The server is started as the README says, in a subprocess (``borderpass serve`` on a free
127.0.0.1 port, a fresh folder, ``borderpass db upgrade`` and ``borderpass demo``): on
SQLite, or on a fresh PostgreSQL database beside BORDERPASS_DATABASE_URL when that names
one (dropped afterwards). The client is asyncio over raw keep-alive HTTP/1.1 connections
(``tests/web/served.py``); its own CPU use is printed beside the server's, so that a
client near 100 % of its core says the figures are the client's, not the server's.

Endpoints (``--endpoints``, comma-separated; all by default):

    healthz     GET /healthz, the app's cheapest endpoint: the hello-world baseline
    verify      POST /api/health-codes/verify with a real code's text
    code-api    GET /api/health-code with a resident's bearer token
    code-page   GET /code, signed in on the site as a resident
    register    POST /api/registrations, then its details (two requests a round)
    booking     book a place in a slot, then cancel it (two requests a round)
    slots       GET /api/permits/offices/{code}/slots
    evidence    POST /api/evidence/tests, one new result a batch, with the lab's API key

Prints a table: endpoint, connections, requests/s, p50 and p99 latency, 4xx answers,
errors (client-side failures and time-outs, 60 s), 5xx answers, client and server CPU;
then verify's rate as a fraction of hello-world's at each level.

    python -m bench.soak [--levels 20,50,100,200,400] [--seconds 20] [--endpoints ...]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a file: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web.served import (  # noqa: E402 - after the path set-up above
    PROOF_PDF,
    RESIDENTS,
    STAFF,
    Connection,
    Server,
    Tally,
    call,
    encode,
    hkid,
    mainland_id,
    multipart,
    page_cookie,
    percentile,
    resident_token,
    served,
    staff_token,
)

LEVELS = (20, 50, 100, 200, 400)
SECONDS = 20.0
TIMEOUT = 60.0
HK = ZoneInfo("Asia/Hong_Kong")
Step = Callable[[Connection, int], Awaitable[None]]


@dataclass
class Endpoint:
    name: str
    prepare: Callable[[Server, int], Step]  # (server, most connections) -> one round


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _same(raws: list[bytes]) -> Step:
    async def step(connection: Connection, lane: int) -> None:
        await connection.send(raws[lane % len(raws)])

    return step


def _healthz(server: Server, _most: int) -> Step:
    return _same([encode(server.port, "GET", "/healthz")])


def _verify(server: Server, _most: int) -> Step:
    text = server.cli("code", "issue", "hkid", RESIDENTS[0]).strip()
    body = json.dumps({"text": text}).encode()
    return _same([encode(server.port, "POST", "/api/health-codes/verify",
                         {"Content-Type": "application/json"}, body)])


def _code_api(server: Server, _most: int) -> Step:
    return _same([encode(server.port, "GET", "/api/health-code",
                         _bearer(resident_token(server.port, number)))
                  for number in RESIDENTS])


def _code_page(server: Server, _most: int) -> Step:
    return _same([encode(server.port, "GET", "/code",
                         {"Cookie": page_cookie(server.port, number)})
                  for number in RESIDENTS])


_serials = itertools.count(1)


def _register(server: Server, _most: int) -> Step:
    letters = "BCDEFGHJKLMNPRSTUVY"  # not the demo residents' A and Z
    start = encode(server.port, "POST", "/api/registrations")

    async def step(connection: Connection, _lane: int) -> None:
        started = await connection.send(start)
        if started is None or started.status != 201:
            return
        serial = next(_serials)
        headers, body = multipart({
            "name_zh": "陳美玲", "name_en": "CHAN Mei Ling", "document_kind": "hkid",
            "document_number": hkid(serial % 1_000_000, letters[serial // 1_000_000]),
            "document_issued_on": "2018-03-01", "phone": "+852 9123 4567",
            "address": f"Flat {serial}, 8/F, 3 Harbour Road", "password": "soak pass phrase",
        }, {"proof": ("bill.pdf", PROOF_PDF, "application/pdf")})
        path = f"/api/registrations/{started.json()['id']}/details"
        await connection.send(encode(server.port, "POST", path, headers, body))

    return step


def _office(server: Server) -> tuple[str, str]:
    """Open an office with one large slot in three days' time; return its code and day."""
    code = f"SOAK-{os.getpid()}"
    day = (datetime.now(HK).date() + timedelta(days=3)).isoformat()
    if call(server.port, "GET", f"/api/permits/offices/{code}/slots?day={day}").status == 200:
        return code, day
    supervisor = staff_token(server.port, STAFF["supervisor"])
    officer = staff_token(server.port, STAFF["exit_entry_officer"])
    made = call(server.port, "POST", "/api/permits/offices", headers=_bearer(supervisor),
                json_body={"code": code, "name": "Soak hall", "address": "1 Soak Road"})
    published = call(server.port, "POST", f"/api/permits/offices/{code}/slots",
                     headers=_bearer(officer), json_body={
                         "day": day, "opens": "09:00", "closes": "17:00", "minutes": 480,
                         "capacity": 10_000})
    if made.status != 201 or published.status != 201:
        raise SystemExit(f"soak: could not open an office: {made.status} {published.status}")
    return code, day


def _slots(server: Server, _most: int) -> Step:
    code, day = _office(server)
    return _same([encode(server.port, "GET", f"/api/permits/offices/{code}/slots?day={day}")])


def _booking(server: Server, most: int) -> Step:
    code, day = _office(server)
    slot = call(server.port, "GET", f"/api/permits/offices/{code}/slots?day={day}").json()[0]
    body = json.dumps({"slot_id": slot["id"]}).encode()
    rounds = []
    for number in range(most):
        made = call(server.port, "POST", "/api/permits/applications", json_body={
            "mainland_id": mainland_id(500_000 + number), "name": "李明",
            "phone": "+86 138 0013 8000", "permit_number": "C12345678", "kind": "emergency",
            "reason": "medical_treatment"}, timeout=TIMEOUT)
        if made.status != 201:
            raise SystemExit(f"soak: could not apply: {made.status} {made.body[:200]!r}")
        application, token = made.json()["application"]["id"], made.json()["access"]["token"]
        path = f"/api/permits/applications/{application}/appointment"
        headers = {"Content-Type": "application/json", **_bearer(token)}
        rounds.append((encode(server.port, "POST", path, headers, body),
                       encode(server.port, "DELETE", path, _bearer(token))))

    async def step(connection: Connection, lane: int) -> None:
        book, cancel = rounds[lane]
        await connection.send(book)
        await connection.send(cancel)

    return step


def _evidence(server: Server, _most: int) -> Step:
    headers = {"Content-Type": "application/json", "X-API-Key": server.keys["lab"]}
    now = datetime.now(HK)
    collected = (now - timedelta(hours=5)).isoformat(timespec="seconds")
    reported = (now - timedelta(hours=1)).isoformat(timespec="seconds")

    async def step(connection: Connection, _lane: int) -> None:
        serial = next(_serials)
        body = json.dumps([{
            "specimen_id": f"SOAK-{os.getpid()}-{serial}", "document_kind": "hkid",
            "document_number": hkid(serial % 1_000_000, "X"), "collected_at": collected,
            "reported_at": reported, "method": "PCR", "result": "negative",
            "lab": "Demo Laboratory"}]).encode()
        await connection.send(encode(server.port, "POST", "/api/evidence/tests", headers, body))

    return step


ENDPOINTS = {endpoint.name: endpoint for endpoint in (
    Endpoint("healthz", _healthz), Endpoint("verify", _verify),
    Endpoint("code-api", _code_api), Endpoint("code-page", _code_page),
    Endpoint("register", _register), Endpoint("booking", _booking),
    Endpoint("slots", _slots), Endpoint("evidence", _evidence),
)}


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _soak(port: int, step: Step, connections: int, seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    lanes = [Connection(port, tally, timeout=TIMEOUT) for _ in range(connections)]
    await asyncio.gather(*(lane.connect() for lane in lanes), return_exceptions=True)
    deadline = time.monotonic() + seconds
    began = time.perf_counter()

    async def run(index: int) -> None:
        while time.monotonic() < deadline:
            await step(lanes[index], index)

    try:
        await asyncio.gather(*(run(index) for index in range(connections)))
    finally:
        took = time.perf_counter() - began
        await asyncio.gather(*(lane.close() for lane in lanes))
    return tally, took


def _responsive(server: Server) -> bool:
    try:
        return call(server.port, "GET", "/healthz", timeout=5).status == 200
    except OSError:
        return False


HEADER = (f"{'endpoint':<10} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'4xx':>6} {'errors':>6} {'5xx':>6} {'client cpu':>10} {'server cpu':>10}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)),
                        help="concurrent connections, comma-separated (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=SECONDS,
                        help="seconds at each level (default %(default)s)")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS),
                        help="comma-separated, from: " + ", ".join(ENDPOINTS))
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",") if level.strip()]
    names = [name.strip() for name in args.endpoints.split(",") if name.strip()]
    unknown = [name for name in names if name not in ENDPOINTS]
    if unknown or not levels or min(levels) < 1:
        parser.error(f"unknown endpoints {unknown}" if unknown else "levels must be >= 1")

    database = os.environ.get("BORDERPASS_DATABASE_URL", "")
    kind = "postgresql" if database.startswith("postgresql") else "sqlite"
    rates: dict[tuple[str, int], float] = {}
    with served("soak", beside=database) as server:
        print(f"soak: {kind}, {args.seconds:g} s at each of {levels} connections; "
              f"server started in {server.start_seconds[-1]:.1f} s", flush=True)
        print(HEADER, flush=True)
        for name in names:
            step = ENDPOINTS[name].prepare(server, max(levels))
            for level in levels:
                if not _responsive(server):
                    print(f"{name:<10} {level:>5}  the server did not answer /healthz within "
                          "5 s: restarted", flush=True)
                    server.kill()
                    server.start()
                    step = ENDPOINTS[name].prepare(server, max(levels))
                client, served_cpu = time.process_time(), _cpu_seconds(server.process.pid
                                                                      if server.process else 0)
                tally, took = asyncio.run(_soak(server.port, step, level, args.seconds))
                client = (time.process_time() - client) / took
                server_cpu = (_cpu_seconds(server.process.pid if server.process else 0)
                              - served_cpu) / took
                answered = sum(tally.statuses.values())
                rates[(name, level)] = answered / took
                fours = sum(n for status, n in tally.statuses.items() if 400 <= status < 500)
                errors = tally.timeouts + sum(tally.failures.values())
                print(f"{name:<10} {level:>5} {answered / took:>8,.0f} "
                      f"{percentile(tally.latencies, 0.5) * 1000:>8.1f} "
                      f"{percentile(tally.latencies, 0.99) * 1000:>8.1f} {fours:>6} "
                      f"{errors:>6} {tally.server_errors:>6} {client:>10.0%} "
                      f"{server_cpu:>10.0%}", flush=True)
    if "healthz" in names and "verify" in names:
        fractions = ", ".join(
            f"{level}: {rates[('verify', level)] / rates[('healthz', level)]:.2f}"
            if rates[("healthz", level)] else f"{level}: -" for level in levels)
        print(f"soak: verify's rate as a fraction of hello-world's (/healthz), by connections: "
              f"{fractions}", flush=True)


if __name__ == "__main__":
    main()
