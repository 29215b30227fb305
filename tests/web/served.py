"""The app served as the README says, in a subprocess, and a light client to load it.

Used by the load, fault and fuzz tests (``tests/web/test_lifecycle.py``,
``test_crash.py``, ``test_fuzz.py``) and by the soak benchmark (``bench/soak.py``).

The server is ``borderpass serve --host 127.0.0.1 --port <free port>`` with an
environment of its own: ``BORDERPASS_VAR_DIR`` a fresh folder and
``BORDERPASS_DATABASE_URL`` SQLite under it, or, when the caller's own
``BORDERPASS_DATABASE_URL`` is PostgreSQL, a fresh database created beside that one and
dropped afterwards. It is prepared with ``borderpass db upgrade`` and ``borderpass demo``.

The client is asyncio over raw keep-alive HTTP/1.1 connections: a request costs the
client a few tens of microseconds, so on a two-core machine the server, not the
client, is what is measured. Every reply, time-out and client-side failure is counted
in a ``Tally``.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from borderpass.identity.documents import hkid_check_character, mainland_check_character

__all__ = [
    "PASSWORD",
    "RESIDENTS",
    "STAFF",
    "Connection",
    "Database",
    "Reply",
    "Server",
    "Tally",
    "burst",
    "call",
    "encode",
    "free_port",
    "form",
    "hkid",
    "mainland_id",
    "multipart",
    "page_cookie",
    "percentile",
    "resident_token",
    "served",
    "staff_token",
]

HOST = "127.0.0.1"
PASSWORD = "borderpass-demo"  # noqa: S105 - the published demo password (README.md)
RESIDENTS = ("A123456(3)", "Z437626(A)")  # CHAN Tai Man (green), LEE Siu Ming (no test)
STAFF = {  # role -> demo user name
    "health_officer": "officer",
    "border_officer": "border",
    "help_desk": "helpdesk",
    "exit_entry_officer": "exitentry",
    "supervisor": "supervisor",
}
# The smallest PDF a reader accepts, standing in for a proof of address.
PROOF_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def hkid(serial: int, letter: str = "W") -> str:
    """Return a valid HKID number, distinct for each serial below a million."""
    body = f"{letter}{serial % 1_000_000:06d}"
    return f"{body}({hkid_check_character(body)})"


def mainland_id(serial: int) -> str:
    """Return a valid mainland resident ID number, distinct for each serial below 10**6."""
    region = 110101 + serial // 1000  # region codes are not checked; the check digit is
    body = f"{region}19800101{serial % 1000:03d}"
    return body + mainland_check_character(body)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of the (unsorted) values lie."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(fraction * len(ordered))) - 1))]


# --------------------------------------------------------------------------- the database

class Database:
    """The server's own database: SQLite under its folder, or a fresh PostgreSQL one."""

    def __init__(self, url: str, admin_url: str | None, name: str | None) -> None:
        self.url = url
        self._admin_url = admin_url
        self._name = name
        self._engine: Any = None

    @classmethod
    def create(cls, folder: Path, beside: str | None = None) -> Database:
        """Make the database; PostgreSQL when ``beside`` (default: the environment's
        ``BORDERPASS_DATABASE_URL``) names a PostgreSQL database, else SQLite."""
        from sqlalchemy import create_engine, make_url, text

        beside = beside if beside is not None else os.environ.get("BORDERPASS_DATABASE_URL", "")
        if not beside.startswith("postgresql"):
            return cls(f"sqlite:///{folder / 'server.sqlite3'}", None, None)
        base = make_url(beside)
        name = f"{base.database}_srv_{uuid.uuid4().hex[:8]}"
        if not re.fullmatch(r"[A-Za-z0-9_]{1,63}", name):
            raise ValueError(f"unexpected database name {name!r}")
        admin_url = base.set(drivername="postgresql+psycopg", database="postgres")
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
        return cls(url, admin_url.render_as_string(hide_password=False), name)

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def engine(self) -> Any:
        """An engine to read what the server wrote (never takes SQLite's write lock)."""
        from sqlalchemy import create_engine

        if self._engine is None:
            url = self.url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            self._engine = create_engine(url, poolclass=_null_pool())
        return self._engine

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Run a read; a ``uuid.UUID`` parameter is bound as the table's UUID type."""
        from sqlalchemy import Uuid, bindparam, text

        statement = text(sql).bindparams(*[
            bindparam(name, type_=Uuid()) for name, value in params.items()
            if isinstance(value, uuid.UUID)])
        with self.engine().connect() as connection:
            return [tuple(row) for row in connection.execute(statement, params)]

    def scalar(self, sql: str, **params: Any) -> Any:
        found = self.rows(sql, **params)
        return found[0][0] if found else None

    def close(self) -> None:
        from sqlalchemy import create_engine, text

        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._admin_url and self._name:
            admin = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))
            finally:
                admin.dispose()


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool


# --------------------------------------------------------------------------- the server

def _command() -> list[str]:
    """The ``borderpass`` script of the virtualenv running us (as ``make`` installs it)."""
    script = Path(sys.executable).with_name("borderpass")
    if script.exists():
        return [str(script)]
    found = shutil.which("borderpass")
    if found:
        return [found]
    return [sys.executable, "-m", "borderpass"]


class Server:
    """``borderpass serve`` in a subprocess, on its own folder and database."""

    def __init__(self, folder: Path, database: Database) -> None:
        self.folder = folder
        self.database = database
        self.var = folder / "var"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.keys: dict[str, str] = {}
        self.starts = 0
        self.start_seconds: list[float] = []
        self.serve_options: list[str] = []  # more options of `serve`, e.g. --workers 2
        self._log_offset = 0
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("BORDERPASS_")}
        env["BORDERPASS_VAR_DIR"] = str(self.var)
        env["BORDERPASS_DATABASE_URL"] = database.url
        self.env = env

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def cli(self, *args: str, input: str | None = None) -> str:
        """Run ``borderpass ARGS`` on the server's folder and database; return its output."""
        done = subprocess.run([*_command(), *args], env=self.env, cwd=self.folder, input=input,
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"borderpass {' '.join(args)} failed ({done.returncode}):\n"
                               f"{done.stdout}\n{done.stderr}")
        return done.stdout

    def prepare(self, extra_staff: Sequence[tuple[str, str]] = ()) -> None:
        """Migrate, load the demo data (keeping the API keys it prints), add staff."""
        self.cli("db", "upgrade")
        shown = self.cli("demo")
        for kind, name in (("lab", "Demo Laboratory"), ("registry", "Demo Vaccine Registry")):
            found = re.search(rf"{kind} '{name}' API key (\S+)", shown)
            if found is None:
                raise RuntimeError(f"`borderpass demo` printed no {kind} key:\n{shown}")
            self.keys[kind] = found.group(1)
        for username, role in extra_staff:
            self.cli("staff", "add", username, "--role", role, "--password", PASSWORD)

    def start(self, timeout: float = 60.0) -> float:
        """Start serving and wait until ``/healthz`` answers; return the seconds it took."""
        assert self.process is None, "the server is already running"
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        began = time.monotonic()
        for _attempt in range(3):
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [*_command(), "serve", "--host", HOST, "--port", str(self.port),
                     *self.serve_options],
                    env=self.env, cwd=self.folder, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True)
            while time.monotonic() - began < timeout:
                if self.process.poll() is not None:
                    break  # exited: perhaps the port was taken meanwhile; try another
                if _answers(self.port):
                    took = time.monotonic() - began
                    self.starts += 1
                    self.start_seconds.append(took)
                    return took
                time.sleep(0.02)
            else:
                self.kill()
                raise RuntimeError(f"the server did not answer within {timeout} s; "
                                   f"see {self.log}:\n{self.tail()}")
            self.process = None
            self.port = free_port()
        raise RuntimeError(f"the server would not start; see {self.log}:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the server at once (no shutdown of any kind) and reap it.

        The whole process group goes: with ``--workers`` the web processes are children of
        the one started here, and would outlive it otherwise.
        """
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server gently (SIGTERM), or kill it after ``timeout`` seconds."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def restart(self) -> float:
        self.stop()
        return self.start()

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until the jobs the server sent at start (the embedded scheduler runs each
        periodic job once when a server starts) are done or have failed, as its log says.

        Timing tests measure the server at work, not its first second of start-up chores.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent: Counter[str] = Counter()
            for entry in self.entries():
                if entry.get("event") == "job.scheduled":
                    sent[str(entry.get("job"))] += 1
                elif entry.get("event") in ("job.done", "job.failed", "job.dead"):
                    sent[str(entry.get("job"))] -= 1
            if sent and all(count <= 0 for count in sent.values()):
                return
            time.sleep(0.05)
        raise RuntimeError(f"the server's start-up jobs were not done within {timeout} s:\n"
                           f"{self.tail()}")

    def entries(self) -> list[dict[str, Any]]:
        """The JSON lines the server logged since it last started."""
        if not self.log.exists():
            return []
        with self.log.open("rb") as log:
            log.seek(self._log_offset)
            text = log.read().decode(errors="replace")
        found = []
        for line in text.splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def errors_logged(self, most: int = 5) -> list[tuple[str, int]]:
        """The commonest failures the server wrote since it last started: the platform's
        ``request.failed`` lines (by path and error) and exception lines of tracebacks."""
        if not self.log.exists():
            return []
        with self.log.open("rb") as log:
            log.seek(self._log_offset)
            text = log.read().decode(errors="replace")
        said: Counter[str] = Counter()
        for line in text.splitlines():
            if '"request.failed"' in line:
                try:
                    entry = json.loads(line)
                    path = _UUID.sub("{id}", str(entry.get("path")))
                    said[f"request.failed {path} {entry.get('error')}"] += 1
                except ValueError:
                    said[line[:160]] += 1
            elif re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Busy)\b", line):
                said[line[:160]] += 1
        return said.most_common(most)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def served(prefix: str, *, extra_staff: Sequence[tuple[str, str]] = (),
           beside: str | None = None) -> Iterator[Server]:
    """Prepare and serve the app on a fresh folder and database; stop and remove both."""
    folder = Path(tempfile.mkdtemp(prefix=f"borderpass-{prefix}-"))
    database = Database.create(folder, beside)
    server = Server(folder, database)
    try:
        server.prepare(extra_staff)
        server.start()
        yield server
    finally:
        server.stop()
        database.close()
        if os.environ.get("BORDERPASS_KEEP_SERVED"):  # keep the log and data to look at
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- requests

@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def json(self) -> Any:
        return json.loads(self.body)

    def cookies(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for key, value in self.headers:
            if key == "set-cookie":
                pair = value.split(";", 1)[0]
                cookie, _, content = pair.partition("=")
                found[cookie.strip()] = content.strip()
        return found

    def error_code(self) -> str | None:
        """The platform's error code of a JSON error answer, if it is one."""
        try:
            body = self.json()
        except ValueError:
            return None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = body["error"].get("code")
            return str(code) if code is not None else None
        return None


@dataclass
class Tally:
    """What a batch of requests got: status codes, time-outs, failures, latencies."""

    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)  # error codes of 4xx/5xx answers
    timeouts: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # client-side, by exception
    latencies: list[float] = field(default_factory=list)

    def add(self, reply: Reply) -> None:
        self.statuses[reply.status] += 1
        self.latencies.append(reply.seconds)
        if reply.status >= 400:
            self.codes[f"{reply.status} {reply.error_code() or '-'}"] += 1

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + self.timeouts + sum(self.failures.values())

    def summary(self) -> str:
        lat = self.latencies
        return (f"{self.requests} requests: statuses {dict(sorted(self.statuses.items()))}, "
                f"error codes {dict(self.codes)}, time-outs {self.timeouts}, client failures "
                f"{dict(self.failures)}; latency p50 {percentile(lat, 0.5) * 1000:.0f} ms, "
                f"p99 {percentile(lat, 0.99) * 1000:.0f} ms, max "
                f"{(max(lat) if lat else float('nan')) * 1000:.0f} ms")


class Connection:
    """One keep-alive HTTP/1.1 connection to the server, for asyncio.

    ``request`` returns the reply, or None after a time-out or a failure (both counted in
    the tally); the next request then opens a new connection.
    """

    IDLE = 4.0  # uvicorn closes a keep-alive connection idle for 5 s: reopen before that

    def __init__(self, port: int, tally: Tally | None = None, *, timeout: float = 60.0,
                 host: str = HOST) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.tally = tally if tally is not None else Tally()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used = 0.0

    async def connect(self) -> None:
        if self._writer is not None and time.monotonic() - self._used < self.IDLE:
            return
        await self.close()
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port,
                                                                   limit=1 << 20)
        self._used = time.monotonic()

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with suppress(OSError, asyncio.TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 5)

    async def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                      body: bytes = b"", json_body: Any = None,
                      timeout: float | None = None) -> Reply | None:
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        return await self.send(encode(self.port, method, path, headers, body),
                               head=method == "HEAD", timeout=timeout)

    async def send(self, raw: bytes, *, head: bool = False,
                   timeout: float | None = None) -> Reply | None:
        """Send an encoded request and read the reply; count it in the tally."""
        began = time.perf_counter()
        try:
            await self.connect()
            status, headers, body = await asyncio.wait_for(self._exchange(raw, head),
                                                           timeout or self.timeout)
        except TimeoutError:
            self.tally.timeouts += 1
            await self.close()
            return None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as error:
            self.tally.failures[type(error).__name__] += 1
            await self.close()
            return None
        reply = Reply(status, headers, body, time.perf_counter() - began)
        self.tally.add(reply)
        self._used = time.monotonic()
        if (reply.header("connection") or "").lower() == "close":
            await self.close()
        return reply

    async def _exchange(self, raw: bytes, head: bool) -> tuple[int, list[tuple[str, str]], bytes]:
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        writer.write(raw)
        await writer.drain()
        block = await reader.readuntil(b"\r\n\r\n")
        lines = block.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name.strip().lower(), value.strip()))
        fields = dict(headers)
        if head or status in (204, 304) or 100 <= status < 200:
            return status, headers, b""
        if fields.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            return status, headers, b"".join(chunks)
        if "content-length" in fields:
            return status, headers, await reader.readexactly(int(fields["content-length"]))
        body = await reader.read()
        await self.close()
        return status, headers, body


def encode(port: int, method: str, path: str, headers: dict[str, str] | None = None,
           body: bytes = b"") -> bytes:
    """A request's bytes (made once, to send the same request many times)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def burst(port: int, requests: Sequence[bytes], concurrency: int, *,
                timeout: float = 60.0) -> tuple[Tally, list[Reply | None]]:
    """Send encoded requests over ``concurrency`` connections opened beforehand, so that
    the first ``concurrency`` requests reach the server together; return the tally and
    the replies in the order of the requests (None for a time-out or failure)."""
    tally = Tally()
    connections = [Connection(port, tally, timeout=timeout) for _ in range(concurrency)]
    await asyncio.gather(*(c.connect() for c in connections), return_exceptions=True)
    replies: list[Reply | None] = [None] * len(requests)

    async def lane(k: int) -> None:
        for index in range(k, len(requests), concurrency):
            replies[index] = await connections[k].send(requests[index])

    try:
        await asyncio.gather(*(lane(k) for k in range(concurrency)))
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    return tally, replies


def form(fields: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """Headers and body of an urlencoded form."""
    return ({"Content-Type": "application/x-www-form-urlencoded"},
            urlencode(fields).encode())


def multipart(fields: dict[str, str],
              files: dict[str, tuple[str, bytes, str]]) -> tuple[dict[str, str], bytes]:
    """Headers and body of a multipart form: ``files`` maps a field to (name, bytes, type)."""
    boundary = f"----borderpass{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     .encode() + value.encode() + b"\r\n")
    for name, (filename, content, media_type) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {media_type}\r\n\r\n'.encode()
                     + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, b"".join(parts)


def call(port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
         body: bytes = b"", json_body: Any = None, timeout: float = 60.0) -> Reply:
    """One request on a connection of its own, synchronously (for setup and checks)."""
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    began = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        content = response.read()
        return Reply(response.status, [(k.lower(), v) for k, v in response.getheaders()],
                     content, time.perf_counter() - began)
    finally:
        connection.close()


def resident_token(port: int, number: str) -> str:
    reply = call(port, "POST", "/api/sessions", json_body={
        "document_kind": "hkid", "document_number": number, "password": PASSWORD})
    if reply.status != 200:
        raise RuntimeError(f"resident sign-in: {reply.status} {reply.body[:300]!r}")
    return str(reply.json()["token"])


def staff_token(port: int, username: str) -> str:
    reply = call(port, "POST", "/api/staff/sessions",
                 json_body={"username": username, "password": PASSWORD})
    if reply.status != 200:
        raise RuntimeError(f"staff sign-in: {reply.status} {reply.body[:300]!r}")
    return str(reply.json()["token"])


def page_cookie(port: int, number: str) -> str:
    """Sign a resident in on the site (the form, with its CSRF token); return the Cookie."""
    page = call(port, "GET", "/sign-in")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.body)
    if page.status != 200 or token is None:
        raise RuntimeError(f"sign-in page: {page.status}")
    cookies = page.cookies()
    headers, body = form({"csrf_token": token.group(1).decode(), "document_kind": "hkid",
                          "document_number": number, "password": PASSWORD, "next": "/code"})
    headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    signed = call(port, "POST", "/sign-in", headers=headers, body=body)
    if signed.status != 303:
        raise RuntimeError(f"sign-in: {signed.status} {signed.body[:300]!r}")
    cookies.update(signed.cookies())
    return "; ".join(f"{k}={v}" for k, v in cookies.items())
