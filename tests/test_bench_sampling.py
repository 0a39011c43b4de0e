"""bench/sampling.py fails (exit 1) when its correctness checks fail, not only prints ``NO``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_sampling", ROOT / "bench" / "sampling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ROW = {"mode": "m", "seconds": 1.0, "rollouts": 4, "tokens": 40, "rollouts_per_s": 4.0, "tokens_per_s": 40.0}
RAW = {"rows": [ROW, ROW, ROW], "repeat": 1, "overhead_wrapper": 0.01, "overhead_run": 0.02}


@pytest.mark.parametrize(("identical", "vllm", "status"), [
    (True, None, 0),
    (False, None, 1),  # rollouts that depend on batching
    (True, {"checkpoint": "c", "rows": [ROW], "raw": {**RAW, "same_samples": True}}, 0),
    (True, {"checkpoint": "c", "rows": [ROW], "raw": {**RAW, "same_samples": False}}, 1),  # wrapper != raw vLLM
    (True, {"checkpoint": "c", "rows": [ROW], "raw": {**RAW, "same_samples": True, "overhead_run": 0.3}}, 0),
])
def test_the_exit_status_follows_the_correctness_checks(bench, monkeypatch, capsys, identical, vllm, status):
    monkeypatch.setattr(bench, "bench_transformers", lambda args: ([ROW], identical))
    monkeypatch.setattr(bench, "bench_vllm", lambda args: vllm)
    assert bench.main(["--problems", "1", "--n", "2"]) == status
    out = capsys.readouterr().out
    assert ("identical rollouts in all three modes (per-sample seeds): " + ("yes" if identical else "NO")) in out
