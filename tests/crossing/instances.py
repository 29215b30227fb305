"""Instances of several jurisdictions, each served as the README says (``borderpass
serve`` in a subprocess, with its own folder, keys, port and database), and what the
tests do with them: run their command line, call their API, pair them as partners."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from tests.web.served import Database, Reply, Server, _command, call, resident_token

__all__ = ["Instance", "convert_api", "pair", "resident_code", "serving", "together"]

T = TypeVar("T")


class Instance:
    """One jurisdiction's instance: its folder, database and (when served) its server."""

    def __init__(self, folder: Path, jurisdiction: str) -> None:
        self.jurisdiction = jurisdiction
        self.database = Database.create(folder)
        self.server = Server(folder, self.database)
        self.server.env["BORDERPASS_JURISDICTION"] = jurisdiction
        # The tests sync by hand, and say when: the server's own periodic sync (its
        # embedded scheduler) comes once a day, at 00:00 UTC, not in the middle of one.
        self.server.env["BORDERPASS_PARTNERS_SYNC_MINUTES"] = "1440"

    @property
    def url(self) -> str:
        return self.server.url

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``borderpass ARGS`` as this instance, whatever its exit code."""
        return subprocess.run([*_command(), *args], env=self.server.env,
                              cwd=self.server.folder, capture_output=True, text=True,
                              timeout=120, check=False)

    def ok(self, *args: str) -> list[str]:
        """Run ``borderpass ARGS`` as this instance; it must exit 0. Return its lines."""
        done = self.run(*args)
        assert done.returncode == 0, f"borderpass {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout.splitlines()

    def verify(self, text: str) -> dict[str, object]:
        """Check a code with the instance's verify API."""
        reply = call(self.server.port, "POST", "/api/health-codes/verify",
                     json_body={"text": text})
        assert reply.status == 200, reply.body
        body = reply.json()
        assert isinstance(body, dict)
        return body


def together(*calls: Callable[[], T]) -> list[T]:
    """Run independent steps of the instances side by side; return their results."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


@contextmanager
def serving(folder: Path, *jurisdictions: str,
            unserved: tuple[str, ...] = ()) -> Iterator[dict[str, Instance]]:
    """Make an instance of each jurisdiction (migrated, with the demo data), serve those of
    ``jurisdictions`` and not those of ``unserved``; stop and remove them all afterwards."""
    made: dict[str, Instance] = {}
    try:
        for jurisdiction in (*jurisdictions, *unserved):
            place = folder / jurisdiction
            place.mkdir(parents=True)
            made[jurisdiction] = Instance(place, jurisdiction)
        together(*(lambda i=instance: i.server.prepare() for instance in made.values()))
        together(*(made[jurisdiction].server.start for jurisdiction in jurisdictions))
        yield made
    finally:
        for instance in made.values():
            instance.server.stop()
            instance.database.close()
            shutil.rmtree(instance.server.folder, ignore_errors=True)


def pair(first: Instance, second: Instance) -> tuple[str, str]:
    """Make two served instances partners of each other (each pins the other's anchor, as
    `borderpass keys anchor` prints it) and sync both; return their anchors."""
    one, two = together(lambda: first.ok("keys", "anchor")[-1],
                        lambda: second.ok("keys", "anchor")[-1])
    together(lambda: second.ok("partners", "add", first.jurisdiction, first.url,
                               "--anchor", one),
             lambda: first.ok("partners", "add", second.jurisdiction, second.url,
                              "--anchor", two))
    for lines, other in zip(together(lambda: first.ok("partners", "sync"),
                                     lambda: second.ok("partners", "sync")),
                            (second, first), strict=True):
        assert lines[-1].startswith(f"{other.jurisdiction}: ok"), lines
    return one, two


def resident_code(instance: Instance, number: str) -> str:
    """Today's code of a demo resident, as the app shows it after signing in."""
    token = resident_token(instance.server.port, number)
    reply = call(instance.server.port, "GET", "/api/health-code",
                 headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 200, reply.body
    return str(reply.json()["text"])


def convert_api(instance: Instance, text: str) -> Reply:
    return call(instance.server.port, "POST", "/api/health-codes/convert",
                json_body={"text": text})
