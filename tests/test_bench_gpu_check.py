"""bench/gpu_check.sh: its comparison fails on each kind of disagreement, and its CPU dry run runs end to end.

The GPU part (vLLM engine and vLLM critic backend on image problems) needs a GPU and vLLM; everything else
runs here: the tiny checkpoint and data builders, ``tts bestofn`` and ``tts score`` twice, and the comparison.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tts.records import Problem, Rollout, StepScores
from tts.rundir import RunDir
from tts.stages.sample import prompt_binding

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from gpu_check import compare, report  # noqa: E402


def _run(path, texts, prompt_tokens=100, scores=((0.5, 0.75),), greedy=True, second=None):
    run = RunDir.open(path)
    run.bind("prompt", prompt_binding("internvl_cot"))
    run.append([Problem(id=f"p{i}", benchmark="demo", split="test", question="q") for i in range(len(texts))])
    run.append([Rollout(f"p{i}", 0, t, "stop", prompt_tokens, 5, 0.0, "m", "e", flags=("greedy",) if greedy else ())
                for i, t in enumerate(texts)])
    for label, values in (("visualprm", scores), ("other", second or scores)):
        run.append([StepScores(f"p{i}", 0, label, ("a", "b"), tuple(values[0])) for i in range(len(texts))], critic=label)
    return path


def _verdict(a, b):
    return {c.name: (c.ok, c.warn) for c in compare(a, b, "visualprm", "other")}


def test_agreeing_runs_pass(tmp_path):
    a, b = _run(tmp_path / "a", ["x", "y", "z", "w"]), _run(tmp_path / "b", ["x", "y", "z", "w"])
    checks = compare(a, b, "visualprm", "other")
    assert all(c.ok and not c.warn for c in checks)
    assert report(checks, "t") == 0


def test_each_disagreement_is_caught(tmp_path):
    a = _run(tmp_path / "a", ["x", "y", "z", "w"], second=((0.5, 0.75 + 2**-6),))
    assert _verdict(a, _run(tmp_path / "len", ["x", "y", "z", "w"], prompt_tokens=101))["prompts"] == (False, False)
    assert _verdict(a, _run(tmp_path / "one", ["x", "y", "z", "v"]))["greedy outputs"] == (True, True)  # 3/4: warn
    assert _verdict(a, _run(tmp_path / "two", ["x", "y", "u", "v"]))["greedy outputs"][0] is False
    assert _verdict(a, _run(tmp_path / "ng", ["x", "y", "z", "w"], greedy=False))["greedy outputs"][0] is False
    assert _verdict(a, a)["scores"][0] is False  # 2**-6 apart: beyond the bf16 tolerance
    assert report(compare(a, a, "visualprm", "other"), "t") == 1


def test_nothing_scored_is_not_a_pass(tmp_path):
    a = _run(tmp_path / "a", ["x"], scores=((),))
    assert not {c.name: c.ok for c in compare(a, a, "visualprm", "other")}["scores"]


@pytest.mark.slow
def test_the_cpu_dry_run_runs_every_step_and_passes(tmp_path):
    env = {**os.environ, "TTS_PYTHON": sys.executable}
    proc = subprocess.run(["bash", "bench/gpu_check.sh", "--cpu-dry-run", "--out", str(tmp_path / "check")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for step in ("A: tts bestofn", "B: tts bestofn", "critic on A's rollouts", "[PASS] prompts: 8/8 problems",
                 "[PASS] scores:", "VERDICT (CPU dry run"):
        assert step in out, out[-3000:]
    assert (tmp_path / "check" / "a" / "scores" / "fp32.jsonl").exists()


def test_a_gpu_run_without_a_gpu_says_so_and_exits_2(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    proc = subprocess.run(["bash", "bench/gpu_check.sh", "--out", str(tmp_path / "x")], cwd=ROOT,
                          env={**os.environ, "TTS_PYTHON": sys.executable}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "no CUDA device" in proc.stderr
