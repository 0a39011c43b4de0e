"""kill -9 a real `tts bestofn` process during sampling and during scoring, then resume it.

The resumed run must end with exactly the records of a clean run with the same seed: none lost, none
duplicated, same content (wall-clock `seconds` aside).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PYTHON
from tts.records import Grade, Rollout, Selection, StepScores
from tts.rundir import RunDir

pytestmark = pytest.mark.slow


def _cmd(tiny, out: Path, batch_size: str | None = "1") -> list[str]:
    """``batch_size=None``: the engines' and the critic's default batches (several problems per call)."""
    return [PYTHON, "-m", "tts", "bestofn", "--policy", str(tiny.policy), "--critic", str(tiny.critic), "--n", "4",
            "--benchmark", "demo", "--max-new-tokens", "16", *(["--batch-size", batch_size] if batch_size else []),
            "--first-greedy", "--strategy", "best_of_n", "--out", str(out)]


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _snapshot(out: Path) -> dict[str, list]:
    run = RunDir.open(out, create=False)
    rollouts = [dataclasses.replace(r, seconds=0.0) for r in run.read(Rollout)]
    snap = {
        "rollouts": rollouts,
        "scores": run.read(StepScores, "visualprm"),
        "grades": run.read(Grade),
        "selections": run.read(Selection),
    }
    for name, recs in snap.items():
        keys = [r.key() for r in recs]
        assert len(keys) == len(set(keys)), f"duplicate {name} records"
        snap[name] = sorted(recs, key=lambda r: r.key())
    return snap


@pytest.fixture(scope="module")
def clean(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean") / "run"
    subprocess.run(_cmd(tiny, out), check=True, capture_output=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return _snapshot(out)


def _kill_when(proc: subprocess.Popen, path: Path, lines: int, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while _lines(path) < lines:
        if proc.poll() is not None:
            raise AssertionError(f"process ended before {path.name} had {lines} lines")
        if time.time() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {path}")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("stage_file,after,batch_size", [
    ("rollouts.jsonl", 8, "1"), ("scores/visualprm.jsonl", 8, "1"),
    ("rollouts.jsonl", 1, None), ("scores/visualprm.jsonl", 1, None),
], ids=["during-sampling", "during-scoring", "during-sampling-default-batches", "during-scoring-default-batches"])
def test_kill_then_resume_equals_a_clean_run(tiny, tmp_path, clean, stage_file, after, batch_size):
    out = tmp_path / "run"
    env = {**os.environ, "TTS_STAGE_BATCH_DELAY": "0.4", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_cmd(tiny, out, batch_size), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_when(proc, out / stage_file, after)
    killed_at = _lines(out / stage_file)
    assert killed_at < 24, "the stage finished before the kill; the test proves nothing"
    # A kill in the middle of a write leaves half a line: simulate it on top of the real kill.
    with open(out / stage_file, "ab") as f:
        f.write(b'{"problem_id": "demo-6", "sample_idx": 1, "tex')
    subprocess.run(_cmd(tiny, out, batch_size), check=True, capture_output=True,
                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    got = _snapshot(out)
    if batch_size is None:
        # Critic batches of other problems pad to other shapes; matmul rounding may move a score's last
        # bits (seen: 6e-8). Everything else, the selections made from the scores included, is exact.
        ours, theirs = got.pop("scores"), dict(clean)["scores"]
        assert [dataclasses.replace(s, scores=()) for s in ours] == [dataclasses.replace(s, scores=()) for s in theirs]
        for a, b in zip(ours, theirs, strict=True):
            assert a.scores == pytest.approx(b.scores, abs=1e-5)
        assert got == {k: v for k, v in clean.items() if k != "scores"}
    else:
        assert got == clean
    assert (out / "report.json").exists()
