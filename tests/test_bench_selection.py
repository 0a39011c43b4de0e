"""bench/selection.py runs end to end at a small size and prints every step (no timing is asserted:
speed goals live in the benchmark itself)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_selection_bench_runs_and_reports_each_repeat():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "bench/selection.py", "--problems", "40", "--samples", "16", "--draws",
                          "50", "--repeat", "2", "--workers", "1"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300, check=True).stdout
    for step in ("aggregate step scores", "exact strategies", "votes (50 draws, 1 process)",
                 "first n samples", "bootstrap intervals", "total", "speed-up over baseline"):
        assert step in out, out
    assert "the fastest of 2 runs; all totals:" in out
