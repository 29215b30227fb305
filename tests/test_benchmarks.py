"""The benchmarks still run and print their line (on small sizes, so the suite stays fast)."""

from __future__ import annotations

from typing import Any


def test_exposure_benchmark_runs(capsys: Any) -> None:
    from bench import exposure

    exposure.main(2_000, 50)
    line = capsys.readouterr().out.strip()
    assert line.startswith("exposure: matched 50 records against 2,000 entries")

