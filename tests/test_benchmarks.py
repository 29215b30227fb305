"""The benchmarks still run and print their line (on small sizes, so the suite stays fast)."""

from __future__ import annotations

from typing import Any


def test_exposure_benchmark_runs(capsys: Any) -> None:
    from bench import exposure

    exposure.main(2_000, 50)
    line = capsys.readouterr().out.strip()
    assert line.startswith("exposure: matched 50 records against 2,000 entries")



def test_reevaluate_benchmark_runs(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items()
           if not key.startswith("BORDERPASS_")}
    env["BORDERPASS_VAR_DIR"] = str(tmp_path)
    from pathlib import Path

    done = subprocess.run([sys.executable, "-m", "bench.reevaluate", "300"], env=env,
                          cwd=Path(__file__).resolve().parents[1], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("reevaluate: N=300 residents from the database"), line
    assert "sqlite" in line and "people/s" in line and "7.5 million in" in line


def test_soak_benchmark_runs(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {key: value for key, value in os.environ.items()
           if not key.startswith("BORDERPASS_")}
    env["BORDERPASS_VAR_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "bench.soak", "--seconds", "1", "--levels", "4",
                           "--endpoints", "healthz,verify"], env=env,
                          cwd=Path(__file__).resolve().parents[1], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("soak: sqlite, 1 s at each of [4] connections"), done.stdout
    assert [line.split()[:2] for line in lines[2:4]] == [["healthz", "4"], ["verify", "4"]]
    assert lines[-1].startswith("soak: verify's rate as a fraction of hello-world's"), lines[-1]


def test_decide_benchmark_runs(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {key: value for key, value in os.environ.items()
           if not key.startswith("BORDERPASS_")}
    env["BORDERPASS_VAR_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "bench.decide", "--seconds", "0.3"], env=env,
                          cwd=Path(__file__).resolve().parents[1], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("decide: "), line
    assert "decisions/s in memory (code verified offline + policy evaluated; " in line
    import re

    counts = dict(re.findall(r"(quarantine_free|quarantine|refused) ([\d,]+)", line))
    assert set(counts) == {"quarantine_free", "quarantine", "refused"}, line
    assert all(int(count.replace(",", "")) > 0 for count in counts.values()), line
    assert "decisions/s with the database" in line


def test_pdf_benchmark_runs(capsys: Any) -> None:
    from bench import pdf

    pdf.main(1)
    line = capsys.readouterr().out.strip()
    assert line.startswith("pdf: first document of a process") and "poster" in line, line


def test_worldcodes_benchmark_runs(capsys: Any) -> None:
    from bench import worldcodes

    worldcodes.main(0.05)
    line = capsys.readouterr().out.strip()
    assert line.startswith("worldcodes: 52 valid DCC cases; "), line
    assert "bare signature (cryptography)" in line and "python-cwt" in line
    assert "quickest per message" in line
