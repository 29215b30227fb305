"""Match 31 days of a phone's check-ins (about 300) against a published exposure list of
100,000 entries, as a phone does.

Prints one line: the time to match (median of several runs; target < 50 ms), and the
time to verify and index the list once it is downloaded.
Run: ``python -m bench.exposure [ENTRIES] [RECORDS]``.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from borderpass.checkin.exposure import (
    Entry,
    Visit,
    entries_for_case,
    match,
    parse_list,
    render_list,
)
from borderpass.kit.signing import DetachedSigner

ENTRIES = 100_000
RECORDS = 300
RUNS = 7


def main(entries: int = ENTRIES, records: int = RECORDS) -> None:
    rng = random.Random(4)
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    signer = DetachedSigner(bytes(range(32)))
    # The phone's own visits: 31 days, about ten a day, 20 minutes to 3 hours each.
    visits = []
    for ref in range(records):
        start = now - timedelta(minutes=rng.randrange(0, 31 * 24 * 60))
        visits.append(Visit(ref, rng.randbytes(16), start,
                            start + timedelta(minutes=rng.randrange(20, 180))))
    # Ten of them meet a real case; the rest of the list is other venues' entries.
    listed: list[Entry] = []
    for visit in visits[:10]:
        listed += entries_for_case([visit.secret], visit.start, visit.end)
    while len(listed) < entries:
        hour = int(now.timestamp()) // 3600 - rng.randrange(0, 15 * 24)
        listed.append(Entry(rng.randbytes(16), hour * 3600, hour * 3600 + 1800, "D"))
    text = render_list(listed[:entries], now, signer)
    started = time.perf_counter()
    published = parse_list(text, {signer.key_id: signer.public})
    parse_ms = (time.perf_counter() - started) * 1000
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        found = match(visits, published, now=now)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"exposure: matched {records} records against {published.count:,} entries in "
          f"{statistics.median(timings):.1f} ms (median of {RUNS}; target < 50 ms), "
          f"{len(found)} warnings; list verified and indexed in {parse_ms:.0f} ms")


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    main(*arguments)
