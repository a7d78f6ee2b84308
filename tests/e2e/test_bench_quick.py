"""The benchmarks cannot rot: their smoke runs are part of the suite, so a change that breaks a
benchmark (a new event in a fresh handoff, a renamed response, a slower path that times out)
fails CI, not the next person who runs `make bench`.

Each runs as `make bench` runs it (its own processes, its own deployment), with `--quick`
sizes; the figures are not judged here (a shared CI machine cannot), only that every part ran
to the end and reported what the tables need.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def run_bench(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    return completed


def lengths_of(cells: List[Dict[str, Any]], endpoint: str) -> List[int]:
    return sorted(cell["length"] for cell in cells if endpoint == cell["endpoint"])


@pytest.mark.timeout(900)
def test_the_handoff_bench_runs_every_part_with_its_default_lengths(tmp_path: Path) -> None:
    run_bench("bench_handoff.py", "--quick", "--output", str(tmp_path), timeout=840)
    results = json.loads((tmp_path / "handoff.json").read_text())
    assert {"ingest", "turns", "escalation", "memory"} <= set(results)
    cells = results["ingest"]["cells"]
    # The default lengths: a fresh handoff's (whatever it is now) and 500 events.
    assert lengths_of(cells, "webhook") == lengths_of(cells, "rasa")
    fresh, long = lengths_of(cells, "webhook")
    assert 0 < fresh < long == 500
    assert all(cell["rate"] > 0 for cell in cells)
    # The escalation at each default SunCo latency, in one deployment: a row each.
    escalations = results["escalation"]
    assert [run["latency_ms"] for run in escalations] == [100, 1000]
    assert all(run["to_connecting"]["count"] >= 1 for run in escalations)
    table = (tmp_path / "handoff.md").read_text()
    assert "ours ÷ Rasa" in table
    assert "| 100 ms | 1 |" in table and "| 1000 ms | 1 |" in table


@pytest.mark.timeout(600)
def test_the_escalation_bench_runs() -> None:
    completed = run_bench("bench_escalation.py", "--quick", timeout=540)
    assert "| 200 |" in completed.stdout
