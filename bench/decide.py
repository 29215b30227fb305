"""Decisions at the border per second: the library function, code verification and policy
evaluation included.

On a throwaway SQLite database loaded with the demo (journey 5's three travellers), it
times, each for a few seconds:

* in memory: a traveller's code verified offline against the trust and revocation lists
  held in memory, and the crossing policy in force evaluated over their facts
  (``healthcode.verifier.verify`` + ``crossing.policy.evaluate``): what a control point
  does for each traveller once the facts are at hand;
* with the database: ``crossing.service.decide`` in a unit of work of its own for each
  decision: the facts read from the lower domains (identity, check-in uploads, evidence,
  quota booking, endorsement), the code verified with the lists in memory, the policy
  evaluated, the quarantine place assigned and the decision recorded and committed.

Prints one line. Run: ``python -m bench.decide [--seconds S]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Hong Kong
TRAVELLERS = (("hkid", "A123456(3)"), ("hkid", "Z437626(A)"), ("mainland", "430102197506151237"))


def _rate(action: Callable[[int], object], seconds: float) -> tuple[float, int]:
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(20):
            action(done)
            done += 1
    return done / (time.perf_counter() - started), done


def main(seconds: float = 3.0) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-decide-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'bench.sqlite3'}"
        os.environ["BORDERPASS_DATABASE_URL"] = url
        os.environ["BORDERPASS_VAR_DIR"] = str(work / "var")
        os.environ["BORDERPASS_LOG_LEVEL"] = "WARNING"
        from borderpass.kit.config import reset_settings

        reset_settings()
        from borderpass.kit.logging import configure_logging

        configure_logging("WARNING", None)
        from borderpass.crossing import policy as policies
        from borderpass.crossing import service as crossing
        from borderpass.crossing.decisions import gather_facts
        from borderpass.crossing.schemas import DecisionIn
        from borderpass.demo import load
        from borderpass.healthcode import service as healthcode
        from borderpass.healthcode.verifier import verify
        from borderpass.kit.db import engine_for, session_factory, unit_of_work
        from borderpass.migrations import upgrade
        from borderpass.wiring import wire

        wire()
        upgrade(url)
        engine = engine_for(url)
        factory = session_factory(engine)
        with unit_of_work(factory) as session:
            lines = load(session, now=NOW)
        endorsement = next(line.rsplit(" ", 1)[-1] for line in lines if "endorsement" in line)
        with unit_of_work(factory) as session:
            requests = [DecisionIn(
                control_point="LWU", direction="south", document_kind=kind, document_number=number,
                code=healthcode.issue_for_document(session, kind, number, now=NOW).text,
                endorsement=endorsement if kind == "mainland" else None)
                for kind, number in TRAVELLERS]
        cached = healthcode.CachedVerifier()
        with unit_of_work(factory) as session:
            cached.refresh(session, now=NOW)
            store = healthcode.trust_store(session, now=NOW)
            point = crossing.control_point(session, "LWU")
            policy = crossing.active_policy(session)
            gathered = []
            for request in requests:
                verdict = verify(request.code, store, now=NOW)
                facts = gather_facts(session, request, point, verdict, at=NOW)[0]
                gathered.append((request.code, facts))

        seen: Counter[str] = Counter()

        def in_memory(n: int) -> None:
            text, facts = gathered[n % len(gathered)]
            verdict = verify(text, store, now=NOW)
            judged = policies.evaluate(policy, dataclasses.replace(
                facts, code_result=verdict.result, code_colour=verdict.colour,
                code_jurisdiction=verdict.issuer, code_valid_until=verdict.valid_until), NOW)
            seen[judged.outcome] += 1

        memory_rate, _count = _rate(in_memory, seconds)
        first = dict(seen)

        def with_database(n: int) -> None:
            with unit_of_work(factory) as session:
                decided = crossing.decide(
                    session, requests[n % len(requests)], officer=None, channel="cli",
                    now=NOW, verify=lambda _s, text, at: cached.verify(text, now=at))
            seen[decided.outcome] += 1

        database_rate, decided = _rate(with_database, seconds)
        engine.dispose()
    outcomes = ", ".join(f"{name} {first.get(name, 0):,}"
                         for name in ("quarantine_free", "quarantine", "refused"))
    print(f"decide: {memory_rate:,.0f} decisions/s in memory (code verified offline + policy "
          f"evaluated; {outcomes}); {database_rate:,.0f} decisions/s with the database "
          f"(facts read, decision recorded and committed, sqlite, {decided:,} decisions)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time each rate this long")
    main(parser.parse_args().seconds)
