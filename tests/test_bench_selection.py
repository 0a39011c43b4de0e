"""bench/selection.py runs end to end at a small size, prints every step and checks the kernel against the
reference (no timing is asserted: speed goals live in the benchmark itself)."""

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
                 "first n samples", "bootstrap intervals", "total", "timed on 20 problems, extrapolated",
                 "speed-up of the vote kernel over the reference", "same 50 draws"):
        assert step in out, out
    assert "the fastest of 2 runs; all totals:" in out
    assert "where the kernel counts draws 0.0e+00" in out and "first n identical -> agree" in out
