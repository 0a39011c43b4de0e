"""kill -9 (and SIGTERM) a real `tts bestofn` process during sampling and during scoring, then resume it;
start two at once; repair a damaged run with `tts doctor --repair`; fill the disk under one.

The resumed run must end with exactly the records of a clean run with the same seed: none lost, none
duplicated, same content (wall-clock `seconds` aside).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PYTHON
from tts.jsonl import is_temporary
from tts.logs import RESERVE_NAME
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
def clean_run(tiny, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean") / "run"
    subprocess.run(_cmd(tiny, out), check=True, capture_output=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return out


@pytest.fixture(scope="module")
def clean(clean_run):
    return _snapshot(clean_run)


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


def _resume_equals_clean(tiny, out: Path, clean) -> None:
    done = subprocess.run(_cmd(tiny, out), capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert _snapshot(out) == clean
    assert not [p for p in out.rglob("*") if is_temporary(p) or p.name == RESERVE_NAME]


PROGRESS_LINE = re.compile(r"^[\w ():-]+: (loading |[\d,]+ \w+ to do$|[\d,]+/[\d,]+ |done, |stopped after )")
"""The lines tts.progress writes when stderr is not a terminal (start, periodic, end) and what it loads."""


def _stderr_lines(text: str) -> list[str]:
    """stderr without the progress bars' lines (a bar, or the plain lines a log gets)."""
    return [ln for ln in text.splitlines() if ln.strip() and "━" not in ln and not PROGRESS_LINE.match(ln)]


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_signal_during_sampling_exits_128_plus_signal_with_one_line_then_resumes(tiny, tmp_path, clean, signum, code):
    """Slurm preemption (SIGTERM) or Ctrl-C (SIGINT, as a terminal sends it to the process): a prompt exit
    with status 128 + signal and one line saying how to resume."""
    name = signal.Signals(signum).name
    out = tmp_path / "run"
    env = {**os.environ, "TTS_STAGE_BATCH_DELAY": "0.4", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_cmd(tiny, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180
    while _lines(out / "rollouts.jsonl") < 8:
        assert proc.poll() is None and time.time() < deadline, "sampling ended before the signal"
        time.sleep(0.02)
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err[-2000:]
    lines = _stderr_lines(err)
    assert len(lines) == 1 and lines[0].startswith(f"interrupted by {name}: saved in "), err[-2000:]
    assert " rollouts" in lines[0] and "resume with: tts bestofn --policy" in lines[0]
    assert "Traceback" not in err and "Logging error" not in err
    assert _lines(out / "rollouts.jsonl") < 24, "sampling finished before the signal; the test proves nothing"
    assert f"interrupted by {name}" in (out / "run.log").read_text()
    _resume_equals_clean(tiny, out, clean)


def test_two_writers_started_together_one_is_refused_the_other_unaffected(tiny, tmp_path, clean):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = [subprocess.Popen(_cmd(tiny, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p, *p.communicate(timeout=900)) for p in procs]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 2], [err[-1500:] for _, _, err in results]
    (winner, _, _), (_, _, refused) = sorted(results, key=lambda r: r[0].returncode)
    lines = _stderr_lines(refused)
    assert len(lines) == 1 and f"is being written by PID {winner.pid} on " in lines[0], refused[-1500:]
    assert _snapshot(out) == clean  # nothing duplicated, nothing lost
    stages = json.loads((out / "manifest.json").read_text())["stages"]
    assert stages["sample"]["seconds"] > 0 and "score:visualprm" in stages


def test_a_garbage_line_mid_file_is_one_doctor_repair_from_a_clean_resume(tiny, tmp_path, clean_run, clean):
    out = tmp_path / "run"
    shutil.copytree(clean_run, out)
    lines = (out / "rollouts.jsonl").read_bytes().splitlines(keepends=True)
    lines[5] = b'{"problem_id": "demo-2", "sample_idx": 1, "text": "\xff\xfe garbage\n'
    (out / "rollouts.jsonl").write_bytes(b"".join(lines))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    refused = subprocess.run(_cmd(tiny, out), capture_output=True, text=True, env=env)
    assert refused.returncode == 2 and "rollouts.jsonl:6: not valid JSON" in refused.stderr
    assert f"tts doctor {out} --repair" in refused.stderr and "Traceback" not in refused.stderr
    repair = subprocess.run([PYTHON, "-m", "tts", "doctor", str(out), "--repair"], capture_output=True, text=True, env=env)
    assert repair.returncode == 0, repair.stdout + repair.stderr
    kept = list((out / "quarantine").glob("*/rollouts.jsonl"))
    assert len(kept) == 1 and kept[0].read_bytes() == lines[5]  # set aside, not deleted
    _resume_equals_clean(tiny, out, clean)


def test_a_full_disk_is_one_line_leaves_no_temporary_file_and_resumes(tiny, tmp_path, clean):
    from tests.small_disk import fill, small_disk

    with small_disk(tmp_path / "disk", "64m") as disk:
        out = disk / "run"
        env = {**os.environ, "TTS_STAGE_BATCH_DELAY": "1.0", "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(_cmd(tiny, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 180
        while _lines(out / "rollouts.jsonl") < 4:
            assert proc.poll() is None and time.time() < deadline, "sampling ended before the disk filled"
            time.sleep(0.02)
        filler = fill(disk)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 1, err[-2000:]
        lines = _stderr_lines(err)
        assert len(lines) == 1 and lines[0].startswith(f"error: no space left on {out}"), err[-2000:]
        assert "Traceback" not in err and "Logging error" not in err
        logged = (out / "run.log").read_text()
        assert "Traceback" in logged and "No space left on device" in logged
        assert not [p for p in out.rglob("*") if is_temporary(p) or p.name == RESERVE_NAME]
        assert (out / "rollouts.jsonl").read_bytes().endswith(b"\n")  # no half batch
        filler.unlink()
        _resume_equals_clean(tiny, out, clean)
